"""Errors raised while reading ride files.

Every failure has its own class so the CLI and the integration can tell the user
what is wrong with *this* file (and callers can catch just the cases they handle).
"""

from __future__ import annotations


class RideFileError(Exception):
    """A ride file could not be used."""


class CorruptHeaderError(RideFileError):
    """The FIT header is damaged (size, magic, CRC or a chained header)."""


class TruncatedFileError(RideFileError):
    """The file ends before its header says it should."""


class NotCyclingError(RideFileError):
    """The file is a valid activity, but not a ride (a run, a swim...)."""

    def __init__(self, message: str, sport: str | None) -> None:
        super().__init__(message)
        self.sport = sport


class NoPowerError(RideFileError):
    """The ride has no power readings, so balance cannot be weighted."""


class NoBalanceError(RideFileError):
    """The ride has no usable left/right balance (absent, or side unknown)."""


class CsvFormatError(RideFileError):
    """A CSV ride could not be parsed; names the offending line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.line = line


def one_line(text: str, limit: int = 120) -> str:
    """``text`` as one short line: an error never carries a file's bulk."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class RideFileWarning(UserWarning):
    """A ride was read, but part of it was lost or is doubtful."""

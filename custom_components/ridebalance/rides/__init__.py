"""Ride files: read FIT/CSV into a :class:`Ride`, write a session as FIT.

No Home Assistant imports: used by the integration (import/export) and the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict, Unpack

from .csv_reader import read_csv, read_csv_text
from .errors import (
    CorruptHeaderError,
    CsvFormatError,
    NoBalanceError,
    NoPowerError,
    NotCyclingError,
    RideFileError,
    RideFileWarning,
    TruncatedFileError,
)
from .files import FileRefused, read_checked
from .fit_reader import FIT_MAGIC, read_fit_rides
from .ride import HeadUnitSummary, Ride, RideFile

__all__ = [
    "CorruptHeaderError",
    "CsvFormatError",
    "FileRefused",
    "HeadUnitSummary",
    "NoBalanceError",
    "NoPowerError",
    "NotCyclingError",
    "Ride",
    "RideFile",
    "RideFileError",
    "RideFileWarning",
    "TruncatedFileError",
    "read_csv",
    "read_csv_text",
    "read_fit_rides",
    "read_ride",
    "read_rides",
]


class ReadOptions(TypedDict, total=False):
    """How to read a ride file (see :func:`read_rides`)."""

    indoor: bool | None
    allow_truncated: bool
    data: bytes | None


def read_rides(
    path: str | Path,
    *,
    indoor: bool | None = None,
    allow_truncated: bool = False,
    data: bytes | None = None,
) -> RideFile:
    """Every ride a FIT (by content: ``.FIT`` at byte 8) or CSV file holds.

    ``indoor`` overrides what the file says (a FIT sub-sport such as
    ``indoor_cycling``); ``allow_truncated`` returns what a cut-off FIT file
    holds, with a warning and ``Ride.truncated`` set, instead of raising
    :class:`TruncatedFileError`. ``data``: the file's bytes, when already read;
    else they are read by :func:`.files.read_checked` (a file that is not
    regular, or is too big, raises :class:`FileRefused`). A multisport file
    gives one ride per cycling session and names the other sessions in
    ``RideFile.skipped``.
    """
    path = Path(path)
    if data is None:  # else the caller read (and checked) the bytes
        try:
            data = read_checked(path)
        except FileRefused as err:
            raise FileRefused(f"cannot read {path.name}: {err}") from err
    if data[8:12] == FIT_MAGIC or path.suffix.lower() == ".fit":
        # Named .fit but without the magic: the header check gives the reason.
        return read_fit_rides(
            path, data=data, indoor=indoor, allow_truncated=allow_truncated
        )
    if path.suffix.lower() == ".csv":
        return RideFile((read_csv(path, indoor=indoor, data=data),))
    raise RideFileError(
        f"{path.name}: not a FIT file (no '.FIT' at byte 8) and not named .csv"
    )


def read_ride(path: str | Path, **options: Unpack[ReadOptions]) -> Ride:
    """The first ride of a file (see :func:`read_rides` for every ride)."""
    return read_rides(path, **options).rides[0]

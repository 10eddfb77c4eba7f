"""Ride files: read FIT/CSV into a :class:`Ride`, write a session as FIT.

No Home Assistant imports: used by the integration (import/export) and the CLI.
"""

from __future__ import annotations

from pathlib import Path

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
from .fit_reader import FIT_MAGIC, read_fit
from .ride import HeadUnitSummary, Ride

__all__ = [
    "CorruptHeaderError",
    "CsvFormatError",
    "HeadUnitSummary",
    "NoBalanceError",
    "NoPowerError",
    "NotCyclingError",
    "Ride",
    "RideFileError",
    "RideFileWarning",
    "TruncatedFileError",
    "read_csv",
    "read_csv_text",
    "read_fit",
    "read_ride",
]


def read_ride(
    path: str | Path, *, indoor: bool | None = None, allow_truncated: bool = False
) -> Ride:
    """Read a FIT (by content: ``.FIT`` at byte 8) or CSV (by extension) ride.

    ``indoor`` overrides what the file says (a FIT sub-sport such as
    ``indoor_cycling``); ``allow_truncated`` returns what a cut-off FIT file
    holds, with a warning, instead of raising :class:`TruncatedFileError`.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise RideFileError(f"cannot read {path}: {err.strerror or err}") from err
    if data[8:12] == FIT_MAGIC:
        return read_fit(path, data=data, indoor=indoor, allow_truncated=allow_truncated)
    suffix = path.suffix.lower()
    if suffix == ".fit":
        # Named .fit but without the magic: run the header check for the reason.
        return read_fit(path, data=data, indoor=indoor, allow_truncated=allow_truncated)
    if suffix == ".csv":
        return read_csv(path, indoor=indoor)
    raise RideFileError(
        f"{path.name}: not a FIT file (no '.FIT' at byte 8) and not named .csv"
    )

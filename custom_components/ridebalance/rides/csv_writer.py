"""Write a ride as CSV in the format :mod:`.csv_reader` reads."""

from __future__ import annotations

from collections.abc import Iterable
import csv
import math
from typing import IO, Protocol

import numpy as np
import numpy.typing as npt

from ..model import READING_FIELDS

CSV_COLUMNS = ("time_s", *READING_FIELDS)


class _Columns(Protocol):
    @property
    def t_s(self) -> npt.NDArray[np.float64]: ...


def _cell(value: float) -> str:
    # Whole numbers print without ".0"; "not measured" is an empty cell.
    if math.isnan(value):
        return ""
    return f"{value:.0f}" if value == int(value) else f"{value:.6g}"


def write_csv(
    out: IO[str], ride: _Columns, columns: Iterable[str] = CSV_COLUMNS
) -> None:
    """Write the ride's arrays (any object with the named attributes) as CSV."""
    names = list(columns)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    arrays = [np.asarray(getattr(ride, "t_s" if n == "time_s" else n)) for n in names]
    for row in zip(*(a.tolist() for a in arrays), strict=True):
        writer.writerow([_cell(float(v)) for v in row])

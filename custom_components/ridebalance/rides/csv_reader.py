"""Read a ride from CSV.

Format: a header row is required; one row per reading after it. Columns (by
header name, any order; unknown columns are ignored; an empty cell means "not
measured"):

=================  ========================================================
``time_s``         seconds from the start (required, never decreasing)
``power_w``        power in watts
``left_pct``       LEFT pedal's share of power in %  } give either; if both
``right_pct``      RIGHT pedal's share of power in % } they must add to 100
``cadence_rpm``    cadence in rpm
``heart_rate_bpm`` heart rate in bpm
``te_left_pct``    torque effectiveness, left / right, in % (optional)
``te_right_pct``
``ps_left_pct``    pedal smoothness, left / right, in % (optional)
``ps_right_pct``
=================  ========================================================

A balance column in a CSV always names its side, so ``balance_side`` is
``"right"`` (the FIT convention: the side the share is stated for is known).
Any parse problem raises :class:`CsvFormatError` naming the line, in one line
that never quotes the file's text (a cell that is not a number is named by its
column, not shown).
"""

from __future__ import annotations

from collections.abc import Iterator
import csv
import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..model import READING_FIELDS
from .errors import CsvFormatError, one_line
from .ride import Ride, content_id

# Reading fields plus "right_pct", which files may give instead of the left share.
COLUMNS = ("time_s", *READING_FIELDS, "right_pct")
_PERCENT = {
    "left_pct",
    "right_pct",
    "te_left_pct",
    "te_right_pct",
    "ps_left_pct",
    "ps_right_pct",
}
_BALANCE_TOLERANCE = 0.5


def _rows(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """(first line number, cells) of each row; a parser error names its line."""
    line = 1
    while True:
        try:
            row: list[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            reason = str(err)
            if "field larger than field limit" in reason:
                reason = f"a cell is longer than {csv.field_size_limit()} characters"
            elif "unexpected end of data" in reason:
                reason = "a quote is never closed"
            raise CsvFormatError(one_line(reason), line) from None
        yield line, row
        line = reader.line_num + 1


def _number(name: str, cell: str, line: int) -> float:
    """One cell as a checked number (text is never quoted back in an error)."""
    try:
        number = float(cell)
    except ValueError:
        raise CsvFormatError(f"{name} is not a number", line) from None
    if not math.isfinite(number):
        raise CsvFormatError(f"{name} is not a finite number", line)
    if name in _PERCENT and not 0.0 <= number <= 100.0:
        raise CsvFormatError(f"{name} is {number:g}, outside 0-100 %", line)
    if name != "time_s" and number < 0:
        raise CsvFormatError(f"{name} is {number:g}, negative", line)
    return number


def read_csv_text(
    text: str, *, path: Path | None = None, indoor: bool | None = None
) -> Ride:
    """Parse CSV text (see the module docstring for the columns)."""
    # strict: an unterminated quote is an error, not a cell running to the end.
    reader = csv.reader(io.StringIO(text), strict=True)
    rows = _rows(reader)
    try:
        _, header = next(rows)
    except StopIteration:
        raise CsvFormatError("the file is empty; a header row is required", 1) from None
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    if "time_s" not in names:
        # The names are not echoed: an error never carries a file's contents.
        raise CsvFormatError(
            f"the header row has no time_s column (it has {len(names)} other "
            f"column{'s' if len(names) != 1 else ''})",
            1,
        )
    index = {name: names.index(name) for name in COLUMNS if name in names}
    values: dict[str, list[float]] = {name: [] for name in index}
    last_t = -math.inf
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        for name, col in index.items():
            cell = row[col].strip() if col < len(row) else ""
            if not cell:
                if name == "time_s":
                    raise CsvFormatError("time_s is empty", line)
                values[name].append(math.nan)
                continue
            number = _number(name, cell, line)
            if name == "time_s":
                if number < last_t:
                    raise CsvFormatError(
                        f"time_s goes backwards ({number:g} after {last_t:g})", line
                    )
                last_t = number
            values[name].append(number)
        if "left_pct" in values and "right_pct" in values:
            left, right = values["left_pct"][-1], values["right_pct"][-1]
            if abs(left + right - 100.0) > _BALANCE_TOLERANCE:
                raise CsvFormatError(
                    f"left_pct {left:g} and right_pct {right:g} do not add up to 100",
                    line,
                )
    if not values["time_s"]:
        raise CsvFormatError("no data rows after the header", 2)

    arrays = {name: np.array(v, dtype=np.float64) for name, v in values.items()}
    if "left_pct" in arrays:
        left_pct = arrays["left_pct"]
        if "right_pct" in arrays:  # fill gaps of one column from the other
            left_pct = np.where(
                np.isnan(left_pct), 100.0 - arrays["right_pct"], left_pct
            )
    elif "right_pct" in arrays:
        left_pct = 100.0 - arrays["right_pct"]
    else:
        left_pct = None
    t = arrays["time_s"]
    return Ride.from_columns(
        t - t[0],
        power_w=arrays.get("power_w"),
        left_pct=left_pct,
        cadence_rpm=arrays.get("cadence_rpm"),
        heart_rate_bpm=arrays.get("heart_rate_bpm"),
        te_left_pct=arrays.get("te_left_pct"),
        te_right_pct=arrays.get("te_right_pct"),
        ps_left_pct=arrays.get("ps_left_pct"),
        ps_right_pct=arrays.get("ps_right_pct"),
        indoor=indoor,
        file_format="csv",
        path=path,
        ride_id=content_id(text.encode("utf-8")),
    )


def read_csv(path: Path, *, data: bytes, indoor: bool | None = None) -> Ride:
    """The ride of a CSV file's bytes ``data``; ``path`` names the file (read it
    with :func:`.read_rides`)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise CsvFormatError(f"{path.name} is not UTF-8 text ({err.reason})") from None
    return read_csv_text(text, path=path, indoor=indoor)

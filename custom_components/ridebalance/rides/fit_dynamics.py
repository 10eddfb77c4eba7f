"""Cycling dynamics in FIT files: read them into a ride, write them out again.

FIT profile facts:

- ``record``: left_pco #67 / right_pco #68 (sint8 mm, 0x7F invalid);
  left_power_phase #69, left_power_phase_peak #70, right_power_phase #71,
  right_power_phase_peak #72: uint8 arrays in binary degrees (scale 0.7111111 =
  256/360; index 0 start, 1 end, 2 arc, 3 centre; 0xFF invalid). We write start
  and end.
- ``event`` #44 rider_position_change, its ``data`` (#3) the rider position in
  FIT's ``rider_position_type`` order (0 seated, 1 standing, 2 transition to
  seated, 3 transition to standing). Records carry no position: each record
  takes the last change at or before its time.
- ``session`` #112-#123 and ``lap`` #98-#109: time_standing (uint32, ms),
  stand_count (uint16), avg_left/right_pco (sint8 mm), avg left/right power
  phase and peak (uint8 arrays as above), avg/max power by position (uint16
  arrays, W) and avg/max cadence by position (uint8 arrays, rpm), indexed by
  rider position (0 seated, 1 standing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..analysis.dynamics import PHASES
from ..model import DYNAMICS_FIELDS
from .dynamics import ByPosition, DynamicsSummary, Phase, RideDynamics
from .fit_encoder import (
    ENUM,
    SINT8,
    UINT8_PAIR,
    UINT16,
    UINT16_PAIR,
    UINT32,
    BaseType,
    Field,
    Value,
)

type FloatArray = npt.NDArray[np.float64]
type Message = dict[str, Any]

EVENT_RIDER_POSITION = 44
EVENT_TYPE_MARKER = 3
POSITION_EVENT: tuple[int, list[Field]] = (
    21,
    [(253, UINT32), (0, ENUM), (1, ENUM), (3, UINT32)],
)
BINARY_DEGREES = 256 / 360
PCO_INVALID = 0x7F
U8_INVALID = 0xFF
U16_INVALID = 0xFFFF
U32_INVALID = 0xFFFFFFFF


class RecordField(NamedTuple):
    """A dynamics field of the FIT ``record`` message."""

    fit_name: str
    """The FIT profile's name, as the file reader reports it."""
    field: Field


# Record fields by the name of what they hold (a PCO or a start/end pair).
RECORD_FIELDS: dict[str, RecordField] = {
    "pco_left": RecordField("left_pco", (67, SINT8)),
    "pco_right": RecordField("right_pco", (68, SINT8)),
    "phase_left": RecordField("left_power_phase", (69, UINT8_PAIR)),
    "peak_left": RecordField("left_power_phase_peak", (70, UINT8_PAIR)),
    "phase_right": RecordField("right_power_phase", (71, UINT8_PAIR)),
    "peak_right": RecordField("right_power_phase_peak", (72, UINT8_PAIR)),
}
# --- reading -----------------------------------------------------------------------


def _items(raw: Any) -> tuple[Any, ...]:
    return raw if isinstance(raw, tuple) else (raw,)


def _angle(raw: Any) -> float:
    if not isinstance(raw, int) or raw == U8_INVALID:
        return math.nan
    return raw / BINARY_DEGREES


def _pco(raw: Any) -> float:
    if not isinstance(raw, int) or raw == PCO_INVALID or not -128 <= raw <= 127:
        return math.nan
    return float(raw)


def _pair(raw: Any) -> tuple[float, float]:
    items = _items(raw)
    start = _angle(items[0]) if items else math.nan
    end = _angle(items[1]) if len(items) > 1 else math.nan
    return start, end


def _record_columns(records: list[Message]) -> dict[str, FloatArray]:
    n = len(records)
    columns = {name: np.full(n, np.nan) for name in DYNAMICS_FIELDS}
    for i, record in enumerate(records):
        columns["pco_left_mm"][i] = _pco(record.get(RECORD_FIELDS["pco_left"].fit_name))
        columns["pco_right_mm"][i] = _pco(
            record.get(RECORD_FIELDS["pco_right"].fit_name)
        )
        for phase in PHASES:
            start, end = _pair(record.get(RECORD_FIELDS[phase].fit_name))
            columns[f"{phase}_start_deg"][i] = start
            columns[f"{phase}_end_deg"][i] = end
    return columns


def _position_of(event: Message) -> int | None:
    value = event.get("rider_position", event.get("data"))
    return value if isinstance(value, int) and 0 <= value <= 3 else None


def _positions(records: list[Message], events: list[Message]) -> FloatArray:
    """Each record's position: the last change at or before its time."""
    changes = sorted(
        (event["timestamp"], position)
        for event in events
        if event.get("event") == EVENT_RIDER_POSITION
        and isinstance(event.get("timestamp"), int)
        and (position := _position_of(event)) is not None
    )
    if not changes:
        return np.full(len(records), np.nan)
    stamps = np.array([stamp for stamp, _ in changes], dtype=np.float64)
    codes = np.array([code for _, code in changes], dtype=np.float64)
    times = np.array([record["timestamp"] for record in records], dtype=np.float64)
    at = np.searchsorted(stamps, times, side="right") - 1
    return np.where(at >= 0, codes[np.maximum(at, 0)], np.nan)


def _opt(value: float) -> float | None:
    return None if math.isnan(value) else value


def _summary_phase(raw: Any) -> Phase | None:
    start, end = _pair(raw)
    return None if math.isnan(start) or math.isnan(end) else (start, end)


def _by_position(raw: Any, invalid: int) -> ByPosition:
    items = [v if isinstance(v, int) and v != invalid else None for v in _items(raw)]
    items += [None, None]
    return (
        None if items[0] is None else float(items[0]),
        None if items[1] is None else float(items[1]),
    )


def read_summary(message: Message) -> DynamicsSummary | None:
    """The dynamics figures of a session or lap message (None when it has none)."""
    summary = DynamicsSummary(
        **{f.figure: f.codec.read(message.get(f.fit_name)) for f in _SUMMARY_FIELDS}
    )
    return None if summary == DynamicsSummary() else summary


def read_dynamics(
    records: list[Message],
    events: list[Message],
    session: Message,
    laps: list[Message],
) -> RideDynamics | None:
    """The ride's dynamics from its FIT messages (None when the file has none)."""
    columns = _record_columns(records)
    columns["rider_position"] = _positions(records, events)
    summary = read_summary(session)
    lap_summaries = tuple(s for lap in laps if (s := read_summary(lap)) is not None)
    dynamics = RideDynamics(columns, summary, lap_summaries)
    if not dynamics.measured and summary is None and not lap_summaries:
        return None
    return dynamics


# --- writing -----------------------------------------------------------------------


def per_second(
    dynamics: RideDynamics, index: npt.NDArray[np.int64], n: int
) -> dict[str, FloatArray]:
    """Each column's last reading in each second (what a 1 Hz head unit records)."""
    out: dict[str, FloatArray] = {}
    order = np.arange(index.size)
    for name, values in dynamics.columns.items():
        have = np.isfinite(values)
        last = np.full(n, -1)
        np.maximum.at(last, index[have], order[have])
        out[name] = np.where(last >= 0, values[np.maximum(last, 0)], np.nan)
    return out


def _angle_raw(deg: float) -> int | None:
    if math.isnan(deg):
        return None
    raw = round(deg * BINARY_DEGREES) % 256
    if raw == U8_INVALID:
        # 358.6° is the invalid marker: write the nearer of 357.2° and 0°.
        return 0 if deg % 360 >= 358.59375 else 254
    return raw


def _pco_raw(mm: float | None) -> int | None:
    if mm is None or math.isnan(mm):
        return None
    return min(126, max(-128, round(mm)))


def record_fields(columns: Mapping[str, FloatArray]) -> list[str]:
    """The record fields with a reading somewhere, by :data:`RECORD_FIELDS` name."""
    return [
        name
        for name in RECORD_FIELDS
        if any(
            np.isfinite(values).any()
            for column, values in columns.items()
            if column.startswith(name)
        )
    ]


def record_values(
    columns: Mapping[str, FloatArray], i: int, names: list[str]
) -> list[Value]:
    """Row ``i`` of the record fields ``names`` (raw FIT values)."""
    row: list[Value] = []
    for name in names:
        if name.startswith("pco_"):
            row.append(_pco_raw(float(columns[f"{name}_mm"][i])))
        else:
            start = _angle_raw(float(columns[f"{name}_start_deg"][i]))
            end = _angle_raw(float(columns[f"{name}_end_deg"][i]))
            row.append(None if start is None or end is None else (start, end))
    return row


def position_changes(position: FloatArray) -> Iterator[tuple[int, int]]:
    """(row, position) where the known position changes, the first one included."""
    previous: float | None = None
    for i, value in enumerate(position.tolist()):
        if math.isnan(value) or value == previous:
            continue
        previous = value
        yield i, int(value)


def _phase_raw(phase: Phase | None) -> tuple[float | None, ...] | None:
    if phase is None:
        return None
    return (_angle_raw(phase[0]), _angle_raw(phase[1]))


def _position_raw(values: ByPosition) -> tuple[float | None, ...] | None:
    if values == (None, None):
        return None
    return tuple(None if v is None else round(v) for v in values)


# --- session and lap fields, both ways ---------------------------------------------


class Codec(NamedTuple):
    """How a session/lap field's raw FIT value becomes a figure and back."""

    read: Callable[[Any], Any]
    """Raw FIT value to the figure (None when invalid)."""
    write: Callable[[Any], Value]
    """The figure to a raw FIT value (None = invalid)."""


class SummaryField(NamedTuple):
    """A dynamics field of the FIT ``session`` and ``lap`` messages."""

    fit_name: str
    """The FIT profile's name, as the file reader reports it."""
    base_type: BaseType
    figure: str
    """The :class:`DynamicsSummary` attribute it holds."""
    codec: Codec


def _count(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and raw != U16_INVALID else None


def _ms(raw: Any) -> float | None:
    return raw / 1000 if isinstance(raw, int) and raw != U32_INVALID else None


def _ms_raw(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


def _summary_pco(raw: Any) -> float | None:
    return _opt(_pco(raw))


def _as_is(value: int | None) -> int | None:
    return value


_TIME = Codec(_ms, _ms_raw)
_COUNT = Codec(_count, _as_is)
_PCO = Codec(_summary_pco, _pco_raw)
_PHASE = Codec(_summary_phase, _phase_raw)
_WATTS = Codec(partial(_by_position, invalid=U16_INVALID), _position_raw)
_RPM = Codec(partial(_by_position, invalid=U8_INVALID), _position_raw)

# Session/lap fields, in this order (the FIT profile's); session numbers start at
# 112, lap at 98. Standing, then the stroke per side, then power and cadence by
# rider position.
_STANDING: tuple[SummaryField, ...] = (
    SummaryField("time_standing", UINT32, "time_standing_s", _TIME),
    SummaryField("stand_count", UINT16, "stand_count", _COUNT),
)
# The stroke's session averages are its record fields averaged: the same order
# and base types, named avg_<the record field's name>.
_STROKE: tuple[SummaryField, ...] = tuple(
    SummaryField(f"avg_{record.fit_name}", record.field[1], f"{name}_mm", _PCO)
    if name.startswith("pco_")
    else SummaryField(f"avg_{record.fit_name}", record.field[1], name, _PHASE)
    for name, record in RECORD_FIELDS.items()
)
_BY_POSITION: tuple[SummaryField, ...] = (
    SummaryField("avg_power_position", UINT16_PAIR, "avg_power_position_w", _WATTS),
    SummaryField("max_power_position", UINT16_PAIR, "max_power_position_w", _WATTS),
    SummaryField("avg_cadence_position", UINT8_PAIR, "avg_cadence_position_rpm", _RPM),
    SummaryField("max_cadence_position", UINT8_PAIR, "max_cadence_position_rpm", _RPM),
)
_SUMMARY_FIELDS = (*_STANDING, *_STROKE, *_BY_POSITION)
SESSION_FIELDS: list[Field] = [
    (112 + i, f.base_type) for i, f in enumerate(_SUMMARY_FIELDS)
]
LAP_FIELDS: list[Field] = [(98 + i, f.base_type) for i, f in enumerate(_SUMMARY_FIELDS)]


def summary_values(summary: DynamicsSummary) -> list[Value]:
    """Raw values for :data:`SESSION_FIELDS` / :data:`LAP_FIELDS`, in order."""
    return [f.codec.write(getattr(summary, f.figure)) for f in _SUMMARY_FIELDS]

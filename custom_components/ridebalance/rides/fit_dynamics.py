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

from collections.abc import Iterator, Mapping
import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..model import DYNAMICS_FIELDS
from .dynamics import PHASES, ByPosition, DynamicsSummary, Phase, RideDynamics
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
# Session/lap fields by FIT name, in this order; session numbers start at 112,
# lap at 98.
_SUMMARY_FIELDS: tuple[tuple[str, BaseType], ...] = (
    ("time_standing", UINT32),
    ("stand_count", UINT16),
    ("avg_left_pco", SINT8),
    ("avg_right_pco", SINT8),
    ("avg_left_power_phase", UINT8_PAIR),
    ("avg_left_power_phase_peak", UINT8_PAIR),
    ("avg_right_power_phase", UINT8_PAIR),
    ("avg_right_power_phase_peak", UINT8_PAIR),
    ("avg_power_position", UINT16_PAIR),
    ("max_power_position", UINT16_PAIR),
    ("avg_cadence_position", UINT8_PAIR),
    ("max_cadence_position", UINT8_PAIR),
)
SESSION_FIELDS: list[Field] = [(112 + i, t) for i, (_, t) in enumerate(_SUMMARY_FIELDS)]
LAP_FIELDS: list[Field] = [(98 + i, t) for i, (_, t) in enumerate(_SUMMARY_FIELDS)]


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
    standing = message.get("time_standing")
    stands = message.get("stand_count")
    summary = DynamicsSummary(
        time_standing_s=standing / 1000
        if isinstance(standing, int) and standing != 0xFFFFFFFF
        else None,
        stand_count=stands
        if isinstance(stands, int) and stands != U16_INVALID
        else None,
        pco_left_mm=_opt(_pco(message.get("avg_left_pco"))),
        pco_right_mm=_opt(_pco(message.get("avg_right_pco"))),
        phase_left=_summary_phase(message.get("avg_left_power_phase")),
        phase_right=_summary_phase(message.get("avg_right_power_phase")),
        peak_left=_summary_phase(message.get("avg_left_power_phase_peak")),
        peak_right=_summary_phase(message.get("avg_right_power_phase_peak")),
        avg_power_position_w=_by_position(
            message.get("avg_power_position"), U16_INVALID
        ),
        max_power_position_w=_by_position(
            message.get("max_power_position"), U16_INVALID
        ),
        avg_cadence_position_rpm=_by_position(
            message.get("avg_cadence_position"), U8_INVALID
        ),
        max_cadence_position_rpm=_by_position(
            message.get("max_cadence_position"), U8_INVALID
        ),
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


def summary_values(summary: DynamicsSummary) -> list[Value]:
    """Raw values for :data:`SESSION_FIELDS` / :data:`LAP_FIELDS`, in order."""
    s = summary
    return [
        None if s.time_standing_s is None else round(s.time_standing_s * 1000),
        s.stand_count,
        _pco_raw(s.pco_left_mm),
        _pco_raw(s.pco_right_mm),
        _phase_raw(s.phase_left),
        _phase_raw(s.peak_left),
        _phase_raw(s.phase_right),
        _phase_raw(s.peak_right),
        _position_raw(s.avg_power_position_w),
        _position_raw(s.max_power_position_w),
        _position_raw(s.avg_cadence_position_rpm),
        _position_raw(s.max_cadence_position_rpm),
    ]

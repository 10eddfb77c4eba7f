"""Write a ride as a FIT activity file (our own small encoder).

The file holds, in order: ``file_id``, ``device_info`` (creator), timer
``event`` start, one ``record`` per second, timer ``event`` stop/start around
pauses and a final stop_all, one ``lap`` and one ``session`` covering the ride
(with the ride's sport, cycling when it names none), and ``activity``.
Records carry timestamp, power, cadence, heart rate,
``left_right_balance`` (right share with the 0x80 right-side bit) and left/right
torque effectiveness and pedal smoothness (scale 2) and, where measured, the
cycling dynamics (PCO, power phase and peak per side; rider position changes
as events); only fields the ride measured somewhere are defined. The lap and
session carry the head-unit style figures from :func:`session_figures` (and
:func:`dynamics_figures`), the balance as uint16 with the 0x8000 right-side bit
and 0.01 % resolution.

Pauses (where the ride's timer clock stood still between two records) are
written as timer stop_all/start events, so timer time survives a round trip.
Readings closer than a second (a 4 Hz live session) are merged into their
second the way a head unit records: power, cadence, heart rate, TE and PS are
averaged, the balance is weighted by power.

The byte layer (base types, definition and data messages, CRC) is
``fit_encoder.py``; the cycling-dynamics fields are ``fit_dynamics.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import math
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..analysis.measured import power_weighted
from . import fit_dynamics
from .dynamics import DynamicsSummary, dynamics_figures
from .fit_encoder import (
    ENUM,
    UINT8,
    UINT16,
    UINT32,
    UINT32Z,
    Field,
    FitEncoder,
    Value,
)
from .fit_profile import FIT_EPOCH_UNIX, RIGHT_BIT, SESSION_RIGHT_BIT, enum_value
from .ride import FloatArray, Ride
from .summary import SessionFigures, session_figures

MANUFACTURER_DEVELOPMENT = 255
PRODUCT_ID = 1

# Field numbers from the FIT profile.
FILE_ID = 0, [(0, ENUM), (1, UINT16), (2, UINT16), (3, UINT32Z), (4, UINT32)]
DEVICE_INFO = 23, [(253, UINT32), (0, UINT8), (2, UINT16), (4, UINT16), (5, UINT16)]
EVENT = 21, [(253, UINT32), (0, ENUM), (1, ENUM), (4, UINT8)]
ACTIVITY = (
    34,
    [(253, UINT32), (0, UINT32), (1, UINT16), (2, ENUM), (3, ENUM), (4, ENUM)],
)
RECORD_NUM = 20
RECORD_FIELDS: dict[str, Field] = {
    "timestamp": (253, UINT32),
    "power_w": (7, UINT16),
    "cadence_rpm": (4, UINT8),
    "heart_rate_bpm": (3, UINT8),
    "left_pct": (30, UINT8),
    "te_left_pct": (43, UINT8),
    "te_right_pct": (44, UINT8),
    "ps_left_pct": (45, UINT8),
    "ps_right_pct": (46, UINT8),
}
# Lap and session share their fields but not the numbers: timestamp, event,
# event_type, start_time, total_elapsed_time, total_timer_time, avg_power,
# normalized_power, left_right_balance, avg_cadence, avg_heart_rate, sport,
# sub_sport, avg left/right torque effectiveness, avg left/right pedal
# smoothness, message_index; the session adds first_lap_index, num_laps, trigger.
LAP = 19, [
    (253, UINT32), (0, ENUM), (1, ENUM), (2, UINT32), (7, UINT32), (8, UINT32),
    (19, UINT16), (33, UINT16), (34, UINT16), (17, UINT8), (15, UINT8),
    (25, ENUM), (39, ENUM), (91, UINT8), (92, UINT8), (93, UINT8), (94, UINT8),
    (254, UINT16),
]  # fmt: skip
SESSION = 18, [
    (253, UINT32), (0, ENUM), (1, ENUM), (2, UINT32), (7, UINT32), (8, UINT32),
    (20, UINT16), (34, UINT16), (37, UINT16), (18, UINT8), (16, UINT8),
    (5, ENUM), (6, ENUM), (101, UINT8), (102, UINT8), (103, UINT8), (104, UINT8),
    (254, UINT16), (25, UINT16), (26, UINT16), (28, ENUM),
]  # fmt: skip

EVENT_TIMER, EVENT_ACTIVITY = 0, 26
EVENT_START, EVENT_STOP, EVENT_STOP_ALL = 0, 1, 4
EVENT_LAP = 9
FILE_ACTIVITY = 4
SPORT_CYCLING = 2
ACTIVITY_MANUAL = 0
TRIGGER_ACTIVITY_END = 0


def _enum(type_name: str, name: str | None, default: int) -> int:
    if name is None:
        return default
    value = enum_value(type_name, name)
    return default if value is None else value


def fit_timestamp(when: datetime) -> int:
    """Seconds since the FIT epoch."""
    return int(when.timestamp()) - FIT_EPOCH_UNIX


@dataclass(frozen=True, slots=True)
class _Seconds:
    """A ride merged to one row per timer second."""

    t_s: FloatArray
    running: np.ndarray[tuple[int], np.dtype[np.bool_]]
    paused_before: np.ndarray[tuple[int], np.dtype[np.bool_]]
    columns: dict[str, FloatArray]
    dynamics: dict[str, FloatArray] | None


def _per_second(ride: Ride) -> _Seconds:
    second = np.floor(ride.t_s).astype(np.int64)
    uniq, index = np.unique(second, return_inverse=True)
    n = uniq.size
    columns: dict[str, FloatArray] = {}
    for name in RECORD_FIELDS:
        if name in ("timestamp", "left_pct"):
            continue
        values: FloatArray = getattr(ride, name)
        have = np.isfinite(values)
        sums = np.bincount(index[have], weights=values[have], minlength=n)
        counts = np.bincount(index[have], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns[name] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    left = np.full(n, np.nan)
    if ride.has_balance:
        right = ride.right_pct
        for i in np.unique(index[np.isfinite(right)]):
            rows = index == i
            weighted = power_weighted(ride.power_w[rows], right[rows])
            if weighted is None:  # coasting: a plain mean of the readings
                weighted = float(np.nanmean(right[rows]))
            left[i] = 100.0 - weighted
    columns["left_pct"] = left
    running = np.zeros(n, dtype=np.bool_)
    np.logical_or.at(running, index, ride.timer_running)
    # A pause: more wall-clock time passed than timer time between two seconds.
    timer = np.full(n, np.inf)
    np.minimum.at(timer, index, ride.timer_t_s)
    wall = uniq.astype(np.float64)
    paused = np.zeros(n, dtype=np.bool_)
    paused[1:] = np.diff(wall) - np.diff(timer) >= 1.0
    dynamics = None
    if ride.dynamics is not None and ride.dynamics.measured:
        dynamics = fit_dynamics.per_second(ride.dynamics, index, n)
    return _Seconds(wall, running, paused, columns, dynamics)


def _u8_half(value: float) -> int | None:
    """A percentage at scale 2 (0.5 % steps); None when unmeasured."""
    if not math.isfinite(value):
        return None
    return min(254, max(0, round(value * 2)))


def _record_value(name: str, value: float) -> int | None:
    if not math.isfinite(value):
        return None
    if name == "left_pct":
        return RIGHT_BIT | min(100, max(0, round(100.0 - value)))
    if name.startswith(("te_", "ps_")):
        return _u8_half(value)
    limit = 0xFFFE if name == "power_w" else 0xFE
    return min(limit, max(0, round(value)))


def _opt_round(value: float | None, scale: float = 1.0) -> int | None:
    return None if value is None else round(value * scale)


def _session_balance(right_pct: float | None) -> int | None:
    if right_pct is None:
        return None
    return SESSION_RIGHT_BIT | min(10000, max(0, round(right_pct * 100)))


def encode_fit(
    ride: Ride,
    *,
    start_time: datetime | None = None,
    figures: SessionFigures | None = None,
    dynamics: DynamicsSummary | None = None,
    serial_number: int = 1,
) -> bytes:
    """Encode ``ride`` as the bytes of a FIT activity file.

    ``figures`` and ``dynamics`` are the session's figures; by default they are
    computed from the ride the way a head unit does.
    """
    if len(ride) == 0:
        raise ValueError("cannot write a ride without records")
    start = start_time or ride.start_time or datetime.now(UTC)
    t0 = fit_timestamp(start)
    figures = figures or session_figures(ride)
    seconds = _per_second(ride)
    present = [
        name
        for name in RECORD_FIELDS
        if name == "timestamp" or np.isfinite(seconds.columns[name]).any()
    ]
    record_fields = [RECORD_FIELDS[name] for name in present]
    dynamic = seconds.dynamics or {}
    dynamic_present = fit_dynamics.record_fields(dynamic)
    record_fields += [
        fit_dynamics.RECORD_FIELDS[name].field for name in dynamic_present
    ]
    position_at = dict(
        fit_dynamics.position_changes(dynamic["rider_position"]) if dynamic else ()
    )

    enc = FitEncoder()
    enc.message(
        *FILE_ID,
        [FILE_ACTIVITY, MANUFACTURER_DEVELOPMENT, PRODUCT_ID, serial_number, t0],
    )
    enc.message(*DEVICE_INFO, [t0, 0, MANUFACTURER_DEVELOPMENT, PRODUCT_ID, 100])
    first = t0 + int(seconds.t_s[0])
    enc.message(*EVENT, [first, EVENT_TIMER, EVENT_START, 0])
    was_running = True
    for i, t in enumerate(seconds.t_s.tolist()):
        stamp = t0 + int(t)
        running = bool(seconds.running[i])
        if seconds.paused_before[i] and running and was_running:
            previous = t0 + int(seconds.t_s[i - 1])
            enc.message(*EVENT, [previous, EVENT_TIMER, EVENT_STOP_ALL, 0])
            enc.message(*EVENT, [stamp, EVENT_TIMER, EVENT_START, 0])
        elif running and not was_running:
            enc.message(*EVENT, [stamp, EVENT_TIMER, EVENT_START, 0])
            was_running = True
        elif was_running and not running:
            # The timer stopped after the last running record, as head units log it.
            previous = t0 + int(seconds.t_s[i - 1]) if i else stamp
            enc.message(*EVENT, [previous, EVENT_TIMER, EVENT_STOP_ALL, 0])
            was_running = False
        row: list[Value] = [stamp]
        row += [
            _record_value(name, float(seconds.columns[name][i])) for name in present[1:]
        ]
        row += fit_dynamics.record_values(dynamic, i, dynamic_present)
        if i in position_at:
            enc.message(
                *fit_dynamics.POSITION_EVENT,
                [
                    stamp,
                    fit_dynamics.EVENT_RIDER_POSITION,
                    fit_dynamics.EVENT_TYPE_MARKER,
                    position_at[i],
                ],
            )
        enc.message(RECORD_NUM, record_fields, row)
    end = t0 + int(seconds.t_s[-1])
    enc.message(*EVENT, [end, EVENT_TIMER, EVENT_STOP_ALL, 0])

    sport = _enum("sport", ride.sport, SPORT_CYCLING)
    sub_sport = _enum("sub_sport", ride.sub_sport, 0)
    if ride.sub_sport is None and ride.indoor:
        sub_sport = _enum("sub_sport", "indoor_cycling", 0)
    timer_ms = round(figures.timer_s * 1000)
    elapsed_ms = round(figures.elapsed_s * 1000)
    common: list[float | None] = [
        end,
        EVENT_LAP,
        EVENT_STOP,
        first,
        elapsed_ms,
        timer_ms,
        _opt_round(figures.avg_power_w),
        _opt_round(figures.normalized_power_w),
        _session_balance(figures.right_pct),
        _opt_round(figures.avg_cadence_rpm),
        _opt_round(figures.avg_heart_rate_bpm),
        sport,
        sub_sport,
        _opt_round(figures.te_left_pct, 2),
        _opt_round(figures.te_right_pct, 2),
        _opt_round(figures.ps_left_pct, 2),
        _opt_round(figures.ps_right_pct, 2),
        0,
    ]
    summary = dynamics or dynamics_figures(ride, figures.timer_s)
    if summary is None:
        enc.message(*LAP, common)
        enc.message(*SESSION, [*common, 0, 1, TRIGGER_ACTIVITY_END])
    else:
        extra = fit_dynamics.summary_values(summary)
        lap_num, lap_fields = LAP
        enc.message(lap_num, lap_fields + fit_dynamics.LAP_FIELDS, common + extra)
        session_num, session_fields = SESSION
        enc.message(
            session_num,
            session_fields + fit_dynamics.SESSION_FIELDS,
            [*common, 0, 1, TRIGGER_ACTIVITY_END, *extra],
        )
    enc.message(
        *ACTIVITY, [end, timer_ms, 1, ACTIVITY_MANUAL, EVENT_ACTIVITY, EVENT_STOP]
    )
    return enc.finish()


def write_fit(
    target: str | Path | BinaryIO,
    ride: Ride,
    *,
    start_time: datetime | None = None,
    figures: SessionFigures | None = None,
    dynamics: DynamicsSummary | None = None,
) -> None:
    """Write ``ride`` as a FIT activity to a path or a binary stream."""
    data = encode_fit(ride, start_time=start_time, figures=figures, dynamics=dynamics)
    if isinstance(target, (str, Path)):
        Path(target).write_bytes(data)
    else:
        target.write(data)

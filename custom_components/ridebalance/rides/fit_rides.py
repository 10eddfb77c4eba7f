"""Turn the decoded messages of one FIT activity into its rides.

Raw field values (before any scale, enum name or unit conversion) come in; the
masks are applied here:

- ``record.left_right_balance`` (uint8): bit 0x80 set = the low 7 bits are the
  RIGHT pedal's share in %; bit clear = side unknown (kept apart, never used as
  L/R); 0xFF invalid. 0x80|100 (228) and 0x80 (128) are coasting artefacts
  (a 100/0 split), dropped and counted.
- ``session.left_right_balance`` (uint16): 0x8000 = right; 0x3FFF = share x 100.
- torque effectiveness / pedal smoothness (uint8): scale 2 (0.5 % steps); 0xFF
  invalid.

One activity can hold several rides: a multisport file (triathlon) has one
session per sport, and each cycling session is a ride of its own, the others
are named as skipped. Records are given to the session whose time span holds
them. A clock that jumps back by more than :data:`NEW_RIDE_BACK_S` (rides
appended newest first) starts a new ride; smaller steps back stay in the ride,
where the analysis drops the records out of order and counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np

from .errors import NotCyclingError, RideFileError
from .fit_dynamics import read_dynamics
from .fit_profile import FIT_EPOCH_UNIX, RIGHT_BIT, SESSION_RIGHT_BIT, enum_name
from .ride import (
    BalanceSide,
    BoolArray,
    FloatArray,
    HeadUnitSummary,
    Ride,
    RideFile,
    indoor_from_sub_sport,
)

SHARE_MASK = 0x7F
INVALID_U8 = 0xFF
SESSION_SHARE_MASK = 0x3FFF
INVALID_U16 = 0xFFFF
INVALID_U32Z = 0
COASTING_ARTEFACTS = frozenset({RIGHT_BIT | 100, RIGHT_BIT})
CYCLING_SPORTS = frozenset({"cycling", "e_biking"})
# Fitness-equipment bikes are rides too (the sub-sport says which machine).
EQUIPMENT_RIDES = frozenset({"indoor_cycling", "spin", "virtual_activity"})
# FIT profile: event 0 = timer; event_type 0 = start, 1 = stop, 4 = stop_all,
# 8 = stop_disable, 9 = stop_disable_all.
EVENT_TIMER = 0
EVENT_START = 0
TIMER_STOPS = frozenset({1, 4, 8, 9})
# A step back in time longer than this is another ride, not a clock glitch.
NEW_RIDE_BACK_S = 60

type Message = dict[str, Any]
type Messages = dict[str, list[Message]]


@dataclass(frozen=True, slots=True)
class Activity:
    """One FIT file of a chain, decoded: its messages and where it came from."""

    path: Path
    messages: Messages
    content_id: str
    truncated: bool
    notes: tuple[str, ...]


def _u8_share(raw: Any) -> tuple[float, float, bool]:
    """(right share, unsided share, artefact) from a raw record balance."""
    if not isinstance(raw, int) or raw == INVALID_U8:
        return math.nan, math.nan, False
    if raw in COASTING_ARTEFACTS:
        return math.nan, math.nan, True
    share = float(raw & SHARE_MASK)
    if share > 100:
        return math.nan, math.nan, False
    if raw & RIGHT_BIT:
        return share, math.nan, False
    return math.nan, share, False


def _scaled(value: Any, scale: float, invalid: int = INVALID_U8) -> float:
    if not isinstance(value, (int, float)) or value == invalid:
        return math.nan
    return float(value) / scale


def _num(value: Any, scale: float = 1.0) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / scale
    return None


def session_balance(raw: Any) -> tuple[float | None, BalanceSide | None, int | None]:
    """Right share, side and raw value of a session/lap ``left_right_balance``."""
    if not isinstance(raw, int) or raw == INVALID_U16:
        return None, None, None
    share = (raw & SESSION_SHARE_MASK) / 100.0
    side: BalanceSide = "right" if raw & SESSION_RIGHT_BIT else "unknown"
    return share, side, raw


def _summary(session: Message) -> HeadUnitSummary:
    share, side, raw = session_balance(session.get("left_right_balance"))
    cadence = _num(session.get("avg_cadence"))
    fractional = _num(session.get("avg_fractional_cadence"), 128.0)
    if cadence is not None and fractional is not None:
        cadence += fractional

    def te_ps(name: str) -> float | None:
        value = _scaled(session.get(name), 2.0)
        return None if math.isnan(value) else value

    return HeadUnitSummary(
        right_pct=share,
        balance_side=side,
        balance_raw=raw,
        avg_power_w=_num(session.get("avg_power")),
        normalized_power_w=_num(session.get("normalized_power")),
        avg_cadence_rpm=cadence,
        avg_heart_rate_bpm=_num(session.get("avg_heart_rate")),
        te_left_pct=te_ps("avg_left_torque_effectiveness"),
        te_right_pct=te_ps("avg_right_torque_effectiveness"),
        ps_left_pct=te_ps("avg_left_pedal_smoothness"),
        ps_right_pct=te_ps("avg_right_pedal_smoothness"),
        total_timer_s=_num(session.get("total_timer_time"), 1000.0),
        total_elapsed_s=_num(session.get("total_elapsed_time"), 1000.0),
    )


def _timer_clock(
    t: FloatArray, events: list[Message], origin: int
) -> tuple[FloatArray, BoolArray]:
    """Timer time at each record and whether the timer ran there.

    Timer time excludes pauses (the head unit's ``total_timer_time`` clock).
    Without timer events the timer runs from the first record to the last.
    """
    switches: list[tuple[float, bool]] = []
    for event in events:
        stamp = event.get("timestamp")
        if event.get("event") != EVENT_TIMER or not isinstance(stamp, int):
            continue
        kind = event.get("event_type")
        if kind == EVENT_START:
            switches.append((float(stamp - origin), True))
        elif kind in TIMER_STOPS:
            switches.append((float(stamp - origin), False))
    if not switches:
        return t - t[0], np.ones(len(t), dtype=np.bool_)
    switches.sort(key=lambda s: s[0])  # stable: same-second events keep file order
    switch_t = np.array([s[0] for s in switches])
    state = np.array([s[1] for s in switches])
    # Before the first switch the timer was in the opposite state (a ride's
    # first timer event is its start).
    switch_t = np.concatenate(([min(float(t.min()), switch_t[0])], switch_t))
    state = np.concatenate(([not state[0]], state))
    spans = np.diff(switch_t) * state[:-1]
    clock_at_switch = np.concatenate(([0.0], np.cumsum(spans)))
    idx = np.searchsorted(switch_t, t, side="right") - 1
    timer = clock_at_switch[idx] + np.where(state[idx], t - switch_t[idx], 0.0)
    # A record stamped at a stop closes the running stretch: it still counts.
    running = state[idx] | np.isin(t, switch_t[1:][~state[1:]])
    return timer, running


def _is_ride(sport: str | None, sub_sport: str | None) -> bool:
    return sport in CYCLING_SPORTS or (
        sport == "fitness_equipment" and sub_sport in EQUIPMENT_RIDES
    )


def _stamp(message: Message, name: str) -> int | None:
    value = message.get(name)
    return value if isinstance(value, int) else None


def _split_back_jumps(stamps: list[int]) -> list[tuple[int, int]]:
    """Index ranges of the records between big steps back in time."""
    cuts = [
        i for i in range(1, len(stamps)) if stamps[i] < stamps[i - 1] - NEW_RIDE_BACK_S
    ]
    bounds = [0, *cuts, len(stamps)]
    return list(itertools.pairwise(bounds))


@dataclass(frozen=True, slots=True)
class _Part:
    """The records of one ride and the session that describes them (if any)."""

    records: list[Message]
    session: Message
    whole_session: bool
    number: int | None  # the session's, in a file of several sessions
    key: str  # which ride of the activity: session number, piece of a split


def _parts(activity: Activity) -> tuple[list[_Part], list[str], list[str]]:
    """Group the records into rides; name the sessions that are not rides."""
    records = [
        r for r in activity.messages["record"] if _stamp(r, "timestamp") is not None
    ]
    sessions = activity.messages["session"]
    sport_mesg = (activity.messages["sport"] or [{}])[0]
    skipped: list[str] = []
    other_sports: list[str] = []
    if len(sessions) <= 1:
        session = sessions[0] if sessions else {}
        groups = [(session, records)]
    else:
        groups = []
        for number, session in enumerate(sessions, 1):
            start, end = _stamp(session, "start_time"), _stamp(session, "timestamp")
            if start is None or end is None:
                skipped.append(f"session {number}: it has no start or end time")
                continue
            inside = [r for r in records if start <= r["timestamp"] <= end]
            groups.append((session, inside))
    parts: list[_Part] = []
    for session, group in groups:
        number = sessions.index(session) + 1 if len(sessions) > 1 else 0
        sport = enum_name("sport", session.get("sport", sport_mesg.get("sport")))
        sub_sport = enum_name(
            "sub_sport", session.get("sub_sport", sport_mesg.get("sub_sport"))
        )
        if sport is not None and not _is_ride(sport, sub_sport):
            label = f"session {number}: " if number else ""
            skipped.append(f"{label}a {sport.replace('_', ' ')} activity, not a ride")
            other_sports.append(sport)
            continue
        if not group:
            if number:
                skipped.append(f"session {number}: no records in its time span")
            continue
        ranges = _split_back_jumps([r["timestamp"] for r in group])
        key = f"#{number}" if number else ""
        parts += [
            _Part(
                group[a:b],
                session,
                whole_session=len(ranges) == 1,
                number=number or None,
                key=key if len(ranges) == 1 else f"{key}.{k}",
            )
            for k, (a, b) in enumerate(ranges, 1)
        ]
    return parts, skipped, other_sports


def activity_rides(activity: Activity, *, indoor: bool | None) -> RideFile:
    """Every ride of one decoded activity, and what was skipped (named)."""
    parts, skipped, other_sports = _parts(activity)
    name = activity.path.name
    if not parts:
        if len(other_sports) == 1 and len(skipped) == 1:
            raise NotCyclingError(f"{name} is {skipped[0]}", other_sports[0])
        if other_sports:
            found = "; ".join(skipped)
            raise NotCyclingError(f"{name} holds no ride ({found})", other_sports[0])
        raise RideFileError(f"{name} holds no timed records")
    file_id = (activity.messages["file_id"] or [{}])[0]
    serial = _stamp(file_id, "serial_number")
    created = _stamp(file_id, "time_created")
    if serial not in (None, INVALID_U32Z) and created is not None:
        identity = f"fit:{serial}:{created}"
    else:
        identity = activity.content_id
    rides = [
        _ride(activity, part, ride_id=identity + part.key, indoor=indoor)
        for part in parts
    ]
    return RideFile(tuple(rides), tuple(skipped))


def _ride(
    activity: Activity, part: _Part, *, ride_id: str, indoor: bool | None
) -> Ride:
    records = part.records
    session = part.session
    messages = activity.messages
    sport_mesg = (messages["sport"] or [{}])[0]
    sport = enum_name("sport", session.get("sport", sport_mesg.get("sport")))
    sub_sport = enum_name(
        "sub_sport", session.get("sub_sport", sport_mesg.get("sub_sport"))
    )
    # Seconds since the FIT epoch; t_s = 0 is the first record.
    origin: int = records[0]["timestamp"]
    last: int = records[-1]["timestamp"]
    t = np.array([r["timestamp"] - origin for r in records], dtype=np.float64)
    n = len(records)

    def column(name: str, scale: float = 1.0) -> FloatArray:
        return np.array(
            [_scaled(r.get(name), scale, -1) for r in records], dtype=np.float64
        )

    def invalid_u8(values: FloatArray, scale: float) -> FloatArray:
        values[values == INVALID_U8 / scale] = np.nan
        return values

    power = column("power")
    power[power == INVALID_U16] = np.nan
    cadence = invalid_u8(column("cadence"), 1.0)
    fractional = column("fractional_cadence", 128.0)
    cadence = np.where(np.isfinite(fractional), cadence + fractional, cadence)

    right = np.full(n, np.nan)
    unsided = np.full(n, np.nan)
    artefacts = 0
    for i, record in enumerate(records):
        right[i], unsided[i], artefact = _u8_share(record.get("left_right_balance"))
        artefacts += artefact
    if np.isfinite(right).any():
        balance_side: BalanceSide | None = "right"
    elif np.isfinite(unsided).any():
        balance_side = "unknown"
    else:
        balance_side = None

    low, high = min(origin, last), max(origin, last)
    events = [
        e
        for e in messages["event"]
        if (stamp := _stamp(e, "timestamp")) is not None and low <= stamp <= high
    ]
    laps = [
        lap
        for lap in messages["lap"]
        if (stamp := _stamp(lap, "start_time")) is not None and low <= stamp <= high
    ]
    timer_t, running = _timer_clock(t, events, origin)
    file_id = (messages["file_id"] or [{}])[0]
    manufacturer = file_id.get("manufacturer")
    manufacturer = enum_name("manufacturer", manufacturer) or manufacturer
    # fitdecode names the product field after the manufacturer's product type.
    product = file_id.get("garmin_product")
    product = enum_name("garmin_product", product) or product
    if product is None:
        product = file_id.get("product")
    return Ride(
        t_s=t,
        power_w=power,
        left_pct=100.0 - right,
        cadence_rpm=cadence,
        heart_rate_bpm=invalid_u8(column("heart_rate"), 1.0),
        te_left_pct=invalid_u8(column("left_torque_effectiveness", 2.0), 2.0),
        te_right_pct=invalid_u8(column("right_torque_effectiveness", 2.0), 2.0),
        ps_left_pct=invalid_u8(column("left_pedal_smoothness", 2.0), 2.0),
        ps_right_pct=invalid_u8(column("right_pedal_smoothness", 2.0), 2.0),
        timer_t_s=timer_t,
        timer_running=running,
        unsided_balance_pct=unsided,
        sport=sport,
        sub_sport=sub_sport,
        start_time=datetime.fromtimestamp(FIT_EPOCH_UNIX + origin, UTC),
        manufacturer=None if manufacturer is None else str(manufacturer),
        device=None if product is None else str(product),
        indoor=indoor if indoor is not None else indoor_from_sub_sport(sub_sport),
        balance_side=balance_side,
        head_unit_summary=_summary(session) if session and part.whole_session else None,
        dynamics=read_dynamics(
            records, events, session if part.whole_session else {}, laps
        ),
        balance_artefacts=artefacts,
        file_format="fit",
        path=activity.path,
        ride_id=ride_id,
        session=part.number,
        truncated=activity.truncated,
        warnings=activity.notes,
    )

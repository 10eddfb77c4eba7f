"""Read a FIT activity into a :class:`Ride` (decoding with ``fitdecode``).

fitdecode splits the file into messages and fields; this module owns everything
FIT-specific that matters for balance, so it takes the RAW field values (before
any scale, enum name or unit conversion) and applies the masks itself:

- ``record.left_right_balance`` (uint8): bit 0x80 set = the low 7 bits are the
  RIGHT pedal's share in %; bit clear = side unknown (kept apart, never used as
  L/R); 0xFF invalid. 0x80|100 (228) and 0x80 (128) are coasting artefacts
  (a 100/0 split), dropped and counted.
- ``session.left_right_balance`` (uint16): 0x8000 = right; 0x3FFF = share x 100.
- torque effectiveness / pedal smoothness (uint8): scale 2 (0.5 % steps); 0xFF
  invalid.

Header problems are checked here before decoding, so a damaged file names what
is wrong: :class:`CorruptHeaderError` (size, ``.FIT`` magic, header CRC, or a
damaged header of a chained file) and :class:`TruncatedFileError` (the file is
shorter than its header promises). A truncated file is refused by default;
``allow_truncated=True`` returns the records read before the cut, with a
:class:`RideFileWarning` and a note in ``Ride.warnings``. A complete file must
match its data CRC (each file of a chain its own); a mismatch or a message the
decoder cannot read is a :class:`RideFileError` ("FIT decoding failed").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import math
from pathlib import Path
import struct
from typing import Any
import warnings

import fitdecode
import numpy as np

from .errors import (
    CorruptHeaderError,
    NotCyclingError,
    RideFileError,
    RideFileWarning,
    TruncatedFileError,
)
from .fit_crc import fit_crc
from .fit_dynamics import read_dynamics
from .fit_profile import enum_name
from .ride import (
    BalanceSide,
    FloatArray,
    HeadUnitSummary,
    Ride,
    indoor_from_sub_sport,
)

FIT_MAGIC = b".FIT"
FIT_EPOCH_UNIX = 631065600  # 1989-12-31T00:00:00Z
RIGHT_BIT = 0x80
SHARE_MASK = 0x7F
INVALID_U8 = 0xFF
SESSION_RIGHT_BIT = 0x8000
SESSION_SHARE_MASK = 0x3FFF
INVALID_U16 = 0xFFFF
COASTING_ARTEFACTS = frozenset({RIGHT_BIT | 100, RIGHT_BIT})
CYCLING_SPORTS = frozenset({"cycling", "e_biking"})
# Fitness-equipment bikes are rides too (the sub-sport says which machine).
EQUIPMENT_RIDES = frozenset({"indoor_cycling", "spin", "virtual_activity"})
# FIT profile: event 0 = timer; event_type 0 = start, 1 = stop, 4 = stop_all,
# 8 = stop_disable, 9 = stop_disable_all.
EVENT_TIMER = 0
EVENT_START = 0
TIMER_STOPS = frozenset({1, 4, 8, 9})
# The only messages the ride is built from; fitdecode decodes the others too,
# but they are not kept.
WANTED_MESSAGES = frozenset({"file_id", "sport", "session", "lap", "record", "event"})

type Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class FitHeader:
    """The parts of a FIT file header this reader checks."""

    offset: int
    header_size: int
    data_size: int

    @property
    def end(self) -> int:
        """Byte offset just past this file's trailing CRC."""
        return self.offset + self.header_size + self.data_size + 2


def parse_header(data: bytes, offset: int = 0) -> FitHeader:
    """Check one FIT header at ``offset``; raise :class:`CorruptHeaderError`."""
    where = "" if offset == 0 else f" (chained file at byte {offset})"
    if len(data) - offset < 12:
        raise CorruptHeaderError(
            f"FIT header{where} is cut short: {len(data) - offset} bytes, need 12"
        )
    header_size = data[offset]
    if header_size not in (12, 14):
        raise CorruptHeaderError(
            f"FIT header{where} declares {header_size} bytes; only 12 or 14 exist"
        )
    magic = data[offset + 8 : offset + 12]
    if magic != FIT_MAGIC:
        raise CorruptHeaderError(
            f"FIT header{where} has magic {magic!r} instead of b'.FIT'"
        )
    (data_size,) = struct.unpack_from("<I", data, offset + 4)
    if header_size == 14:
        if len(data) - offset < 14:
            raise CorruptHeaderError(f"FIT header{where} is cut short")
        (stored,) = struct.unpack_from("<H", data, offset + 12)
        # 0 means "no header CRC written", which the format allows.
        if stored != 0 and stored != fit_crc(data[offset : offset + 12]):
            raise CorruptHeaderError(f"FIT header{where} fails its CRC check")
    return FitHeader(offset, header_size, data_size)


def check_headers(data: bytes) -> tuple[list[FitHeader], int | None]:
    """All chained headers; the second value is the cut point if truncated."""
    headers: list[FitHeader] = []
    offset = 0
    while offset < len(data):
        header = parse_header(data, offset)
        headers.append(header)
        if header.end > len(data):
            return headers, len(data)
        offset = header.end
    return headers, None


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


def _first(messages: dict[str, list[Message]], kind: str) -> Message:
    found = messages.get(kind) or [{}]
    return found[0]


def _timer_clock(
    times: list[float], events: list[Message], origin: int
) -> tuple[FloatArray, np.ndarray[Any, np.dtype[np.bool_]]]:
    """Timer time at each record and whether the timer ran there.

    Timer time excludes pauses (the head unit's ``total_timer_time`` clock).
    Without timer events the timer runs from the first record to the last.
    """
    t = np.asarray(times, dtype=np.float64)
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
    switch_t = np.concatenate(([min(t[0], switch_t[0])], switch_t))
    state = np.concatenate(([not state[0]], state))
    spans = np.diff(switch_t) * state[:-1]
    clock_at_switch = np.concatenate(([0.0], np.cumsum(spans)))
    idx = np.searchsorted(switch_t, t, side="right") - 1
    timer = clock_at_switch[idx] + np.where(state[idx], t - switch_t[idx], 0.0)
    # A record stamped at a stop closes the running stretch: it still counts.
    running = state[idx] | np.isin(t, switch_t[1:][~state[1:]])
    return timer, running


def check_data_crcs(data: bytes, headers: list[FitHeader]) -> str | None:
    """Why a complete file fails its trailing CRC(s), or None when all match."""
    for header in headers:
        (stored,) = struct.unpack_from("<H", data, header.end - 2)
        computed = fit_crc(memoryview(data)[header.offset : header.end - 2])
        if stored != computed:
            where = (
                "" if header.offset == 0 else f" (chained file at byte {header.offset})"
            )
            return (
                f"data CRC mismatch{where}: stored 0x{stored:04X}, "
                f"computed 0x{computed:04X} (damaged bytes)"
            )
    return None


def read_fit(
    path: Path,
    *,
    data: bytes | None = None,
    indoor: bool | None = None,
    allow_truncated: bool = False,
) -> Ride:
    """Read a FIT activity; see the module docstring for the errors raised."""
    raw_bytes = path.read_bytes() if data is None else data
    headers, cut_at = check_headers(raw_bytes)
    notes: list[str] = []
    if cut_at is not None:
        last = headers[-1]
        message = (
            f"{path.name} is truncated: it ends at byte {cut_at} but its header "
            f"promises {last.end} bytes ({last.end - cut_at} missing)"
        )
        if not allow_truncated:
            raise TruncatedFileError(message)
        notes.append(message + "; using the records read before the cut")
        warnings.warn(notes[-1], RideFileWarning, stacklevel=2)

    elif (crc_problem := check_data_crcs(raw_bytes, headers)) is not None:
        raise RideFileError(f"{path.name}: FIT decoding failed: {crc_problem}")

    messages = _decode(path, raw_bytes, truncated=cut_at is not None)
    return _build(path, messages, indoor=indoor, notes=notes)


def _decode(path: Path, data: bytes, *, truncated: bool) -> dict[str, list[Message]]:
    """Raw field values of the messages the ride needs, by message name.

    The CRCs were checked by :func:`check_data_crcs` (one pass over the bytes;
    fitdecode's own check updates the CRC on every field it reads, which costs
    a third of the decoding time). A truncated file is read up to the cut,
    keeping the whole messages. Developer fields are left out: an app may name
    one like a profile field ("power"), and the ride uses the profile fields only.
    """
    messages: dict[str, list[Message]] = {kind: [] for kind in WANTED_MESSAGES}
    reader = fitdecode.FitReader(
        data,
        processor=None,  # raw values: no unit or datetime conversion
        check_crc=fitdecode.CrcCheck.DISABLED,
        # On malformed developer data or an odd field size the decoder goes on
        # with raw bytes, which the value checks here read as "not measured".
        error_handling=fitdecode.ErrorHandling.IGNORE,
    )
    try:
        for frame in reader:
            if frame.frame_type != fitdecode.FIT_FRAME_DATA:
                continue
            found = messages.get(frame.name)
            if found is None:
                continue
            found.append(
                {
                    field.name: field.raw_value
                    for field in frame.fields
                    if field.field_def is None or not field.field_def.is_dev
                }
            )
    except Exception as err:
        # Damaged bytes can trip any check inside the decoder (its FitError, but
        # also assertions and lookups), so every failure is the file's fault.
        if not truncated:
            reason = str(err)
            if not isinstance(err, fitdecode.FitError):
                reason = f"{type(err).__name__} {reason}".strip()
            raise RideFileError(f"{path.name}: FIT decoding failed: {reason}") from err
        # The cut: the messages read before it are whole, the one it splits is lost.
    finally:
        reader.close()
    return messages


def _build(
    path: Path,
    messages: dict[str, list[Message]],
    *,
    indoor: bool | None,
    notes: list[str],
) -> Ride:
    session = _first(messages, "session")
    sport_mesg = _first(messages, "sport")
    sport = enum_name("sport", session.get("sport", sport_mesg.get("sport")))
    sub_sport = enum_name(
        "sub_sport", session.get("sub_sport", sport_mesg.get("sub_sport"))
    )
    is_ride = sport in CYCLING_SPORTS or (
        sport == "fitness_equipment" and sub_sport in EQUIPMENT_RIDES
    )
    if sport is not None and not is_ride:
        raise NotCyclingError(
            f"{path.name} is a {sport.replace('_', ' ')} activity, not a ride", sport
        )

    records = [r for r in messages["record"] if isinstance(r.get("timestamp"), int)]
    if not records:
        raise RideFileError(f"{path.name} holds no timed records")
    # Seconds since the FIT epoch; t_s = 0 is the first record.
    origin: int = records[0]["timestamp"]
    times = [float(r["timestamp"] - origin) for r in records]
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
    heart_rate = invalid_u8(column("heart_rate"), 1.0)
    te_left = invalid_u8(column("left_torque_effectiveness", 2.0), 2.0)
    te_right = invalid_u8(column("right_torque_effectiveness", 2.0), 2.0)
    ps_left = invalid_u8(column("left_pedal_smoothness", 2.0), 2.0)
    ps_right = invalid_u8(column("right_pedal_smoothness", 2.0), 2.0)

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

    timer_t, running = _timer_clock(times, messages["event"], origin)
    file_id = _first(messages, "file_id")
    manufacturer = file_id.get("manufacturer")
    manufacturer = enum_name("manufacturer", manufacturer) or manufacturer
    # fitdecode names the product field after the manufacturer's product type.
    product = file_id.get("garmin_product")
    product = enum_name("garmin_product", product) or product
    if product is None:
        product = file_id.get("product")
    start = datetime.fromtimestamp(FIT_EPOCH_UNIX + origin, UTC)
    summary = _summary(session) if session else None
    return Ride(
        t_s=np.array(times, dtype=np.float64),
        power_w=power,
        left_pct=100.0 - right,
        cadence_rpm=cadence,
        heart_rate_bpm=heart_rate,
        te_left_pct=te_left,
        te_right_pct=te_right,
        ps_left_pct=ps_left,
        ps_right_pct=ps_right,
        timer_t_s=timer_t,
        timer_running=running,
        unsided_balance_pct=unsided,
        sport=sport,
        sub_sport=sub_sport,
        start_time=start,
        manufacturer=None if manufacturer is None else str(manufacturer),
        device=None if product is None else str(product),
        indoor=indoor if indoor is not None else indoor_from_sub_sport(sub_sport),
        balance_side=balance_side,
        head_unit_summary=summary,
        dynamics=read_dynamics(records, messages["event"], session, messages["lap"]),
        balance_artefacts=artefacts,
        file_format="fit",
        path=path,
        warnings=tuple(notes),
    )

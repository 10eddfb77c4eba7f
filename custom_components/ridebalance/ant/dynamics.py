"""The cycling-dynamics pages of Bicycle Power (device type 11): decode, encode, keep.

Pages 0xE0 (right) / 0xE1 (left) force angle, 0xE2 pedal position and 0x14
torque barycentre. A meter sends them only while a head unit has switched them
on; RideBalance never asks for them. ``pages.decode_page`` dispatches here after
checking the length, so every decoder takes 8 bytes and every byte value decodes:
a field's invalid marker becomes ``None``, never an error. Layouts: ANT_NOTES.md
("Cycling dynamics"). :class:`PedalDynamics` keeps a power meter's latest
figures for its tracker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from ..model import RiderPosition

PAGE_RIGHT_FORCE_ANGLE = 0xE0
PAGE_LEFT_FORCE_ANGLE = 0xE1
PAGE_PEDAL_POSITION = 0xE2
PAGE_TORQUE_BARYCENTRE = 0x14
DYNAMICS_PAGES = frozenset(
    {
        PAGE_RIGHT_FORCE_ANGLE,
        PAGE_LEFT_FORCE_ANGLE,
        PAGE_PEDAL_POSITION,
        PAGE_TORQUE_BARYCENTRE,
    }
)

ANGLE_PAIR_INVALID = 0xC0
PCO_INVALID = 0x7F  # +127 mm: the sint8 invalid marker, not a foot position
# Page 0xE2 bits 7-6: 0 seated, 1 transition to seated, 2 standing,
# 3 transition to standing (FIT swaps 1 and 2).
_ANT_POSITION = (
    RiderPosition.SEATED,
    RiderPosition.TRANSITION_TO_SEATED,
    RiderPosition.STANDING,
    RiderPosition.TRANSITION_TO_STANDING,
)

type Side = Literal["left", "right"]


@dataclass(frozen=True, slots=True)
class ForceAnglePage:
    """0xE0 (right pedal) / 0xE1 (left pedal): where in the stroke power goes.

    Angles are degrees from top dead centre in the direction of pedalling.
    """

    kind: ClassVar[str] = "force_angle"
    side: Side
    event_count: int
    start_deg: float | None
    """Start of the power phase (None with ``end_deg`` when the meter says invalid)."""
    end_deg: float | None
    peak_start_deg: float | None
    """Start of the peak power phase."""
    peak_end_deg: float | None
    average_torque_nm: float


@dataclass(frozen=True, slots=True)
class PedalPositionPage:
    """0xE2: seated or standing, cadence and platform centre offset per side."""

    kind: ClassVar[str] = "pedal_position"
    event_count: int
    rider_position: RiderPosition
    cadence_rpm: int | None
    pco_right_mm: int | None
    """Platform centre offset, mm (+ = towards the outside of the pedal)."""
    pco_left_mm: int | None


@dataclass(frozen=True, slots=True)
class TorqueBarycentrePage:
    """0x14: the angle of the torque barycentre over the stroke."""

    kind: ClassVar[str] = "torque_barycentre"
    barycentre_deg: float | None


type DynamicsPage = ForceAnglePage | PedalPositionPage | TorqueBarycentrePage


def binary_degrees(raw: int) -> float:
    """One byte of binary degrees (256 to the turn) in degrees."""
    return raw * 360 / 256


def _angle_pair(start: int, end: int) -> tuple[float | None, float | None]:
    if start == ANGLE_PAIR_INVALID and end == ANGLE_PAIR_INVALID:
        return None, None
    return binary_degrees(start), binary_degrees(end)


def _pco(raw: int) -> int | None:
    if raw == PCO_INVALID:
        return None
    return raw - 256 if raw & 0x80 else raw


def _force_angle(data: bytes) -> ForceAnglePage:
    start, end = _angle_pair(data[2], data[3])
    peak_start, peak_end = _angle_pair(data[4], data[5])
    return ForceAnglePage(
        side="right" if data[0] == PAGE_RIGHT_FORCE_ANGLE else "left",
        event_count=data[1],
        start_deg=start,
        end_deg=end,
        peak_start_deg=peak_start,
        peak_end_deg=peak_end,
        average_torque_nm=(data[6] | (data[7] << 8)) / 32,
    )


def _pedal_position(data: bytes) -> PedalPositionPage:
    return PedalPositionPage(
        event_count=data[1],
        rider_position=_ANT_POSITION[data[2] >> 6],
        cadence_rpm=None if data[3] == 0xFF else data[3],
        pco_right_mm=_pco(data[4]),
        pco_left_mm=_pco(data[5]),
    )


def _torque_barycentre(data: bytes) -> TorqueBarycentrePage:
    raw = data[1]
    return TorqueBarycentrePage(None if raw == 0xFF else raw * 0.5 + 30)


def decode_dynamics(data: bytes) -> DynamicsPage:
    """Decode one 8-byte cycling-dynamics page (its number in ``DYNAMICS_PAGES``)."""
    page_number = data[0]
    if page_number == PAGE_PEDAL_POSITION:
        return _pedal_position(data)
    if page_number == PAGE_TORQUE_BARYCENTRE:
        return _torque_barycentre(data)
    return _force_angle(data)


# --- encoding (the simulator's meter, round-trip tests) -----------------------------


def _angle_byte(deg: float) -> int:
    return round(deg % 360 * 256 / 360) % 256


def _angle_pair_bytes(start: float | None, end: float | None) -> bytes:
    if start is None or end is None:
        return bytes((ANGLE_PAIR_INVALID, ANGLE_PAIR_INVALID))
    return bytes((_angle_byte(start), _angle_byte(end)))


def _pco_byte(mm: int | None, name: str) -> int:
    if mm is None:
        return PCO_INVALID
    if not -128 <= mm <= 126:
        raise ValueError(f"{name} {mm} mm is outside -128..126 mm")
    return mm & 0xFF


def encode_dynamics(page: DynamicsPage) -> bytes:
    """The 8 bytes of a cycling-dynamics page; ValueError if unencodable."""
    if isinstance(page, TorqueBarycentrePage):
        raw = 0xFF
        if page.barycentre_deg is not None:
            raw = round((page.barycentre_deg - 30) * 2)
            if not 0 <= raw < 0xFF:
                raise ValueError(f"barycentre {page.barycentre_deg}° is out of range")
        return bytes((PAGE_TORQUE_BARYCENTRE, raw)) + b"\xff" * 6
    if isinstance(page, PedalPositionPage):
        cadence = 0xFF if page.cadence_rpm is None else page.cadence_rpm
        if not 0 <= cadence <= 0xFF:
            raise ValueError(f"cadence {cadence} rpm does not fit a byte")
        return bytes(
            (
                PAGE_PEDAL_POSITION,
                page.event_count & 0xFF,
                _ANT_POSITION.index(page.rider_position) << 6,
                cadence,
                _pco_byte(page.pco_right_mm, "right PCO"),
                _pco_byte(page.pco_left_mm, "left PCO"),
                0xFF,
                0xFF,
            )
        )
    torque = round(page.average_torque_nm * 32)
    if not 0 <= torque <= 0xFFFF:
        raise ValueError(f"average torque {page.average_torque_nm} N·m is out of range")
    number = PAGE_RIGHT_FORCE_ANGLE if page.side == "right" else PAGE_LEFT_FORCE_ANGLE
    return (
        bytes((number, page.event_count & 0xFF))
        + _angle_pair_bytes(page.start_deg, page.end_deg)
        + _angle_pair_bytes(page.peak_start_deg, page.peak_end_deg)
        + torque.to_bytes(2, "little")
    )


# --- the latest figures of one power meter ----------------------------------------


class PedalDynamics:
    """Keeps each dynamics figure with the time it was last sent.

    Figures are named as the :class:`~..model.Sample` fields (``DYNAMICS_FIELDS``).
    """

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, object]] = {}

    def apply(self, page: DynamicsPage, t_s: float) -> None:
        """Take one decoded dynamics page received at ``t_s``."""
        figures: dict[str, object]
        if isinstance(page, PedalPositionPage):
            figures = {
                "rider_position": page.rider_position,
                "pco_left_mm": page.pco_left_mm,
                "pco_right_mm": page.pco_right_mm,
            }
        elif isinstance(page, TorqueBarycentrePage):
            figures = {"torque_barycentre_deg": page.barycentre_deg}
        else:
            side = page.side
            figures = {
                f"phase_{side}_start_deg": page.start_deg,
                f"phase_{side}_end_deg": page.end_deg,
                f"peak_{side}_start_deg": page.peak_start_deg,
                f"peak_{side}_end_deg": page.peak_end_deg,
            }
        for name, value in figures.items():
            self._values[name] = (t_s, value)

    def reading(self, now_s: float, stale_after_s: float) -> Mapping[str, Any]:
        """What was sent within ``stale_after_s`` of ``now_s``, by Sample field."""
        return MappingProxyType(
            {
                name: value
                for name, (t_s, value) in self._values.items()
                if now_s - t_s <= stale_after_s and value is not None
            }
        )

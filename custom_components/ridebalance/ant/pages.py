"""Pure decoders for the ANT+ data pages RideBalance uses.

Every decoder takes the 8 payload bytes of one broadcast and returns a frozen
dataclass (cycling dynamics: ``dynamics.py``). Invalid markers on the wire (0xFF,
0x7FFF, ...) and values out of their field's range become ``None``, each field on
its own, so one bad byte never costs the page's good fields; bytes that are not a
page (wrong length) raise :class:`MalformedPage`; a page we do not decode raises
:class:`UnknownPage` (a subclass, so ``except MalformedPage`` drops both). Byte
layouts: see ANT_NOTES.md; byte 0 is the page number, little-endian fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from enum import IntEnum
from typing import ClassVar

from .dynamics import DYNAMICS_PAGES, DynamicsPage, decode_dynamics

PAGE_LENGTH = 8

DEVICE_TYPE_BICYCLE_POWER = 11
DEVICE_TYPE_FITNESS_EQUIPMENT = 17
DEVICE_TYPE_HEART_RATE = 120

COMMON_PAGE_MANUFACTURER, COMMON_PAGE_PRODUCT, COMMON_PAGE_BATTERY = 0x50, 0x51, 0x52


class MalformedPage(ValueError):  # noqa: N818 - the name the callers and CLI use
    """The bytes cannot be a valid page of the given device type."""


class UnknownPage(MalformedPage):
    """A well-formed page (or device type) that RideBalance does not decode."""

    def __init__(self, device_type: int, page_number: int) -> None:
        """Remember what was not understood, for counters and logs."""
        super().__init__(
            f"unsupported page 0x{page_number:02X} for device type {device_type}"
        )
        self.device_type = device_type
        self.page_number = page_number


def extended_number(device_number: int, transmission_type: int) -> int:
    """20-bit device number: the transmission type's high nibble extends it."""
    return ((transmission_type & 0xF0) << 12) | (device_number & 0xFFFF)


@dataclass(frozen=True, slots=True)
class RawPage:
    """One broadcast as received: 8 payload bytes and the channel identity."""

    timestamp_s: float
    device_type: int
    device_number: int
    transmission_type: int
    data: bytes

    @property
    def extended_device_number(self) -> int:
        """The sender's 20-bit device number (:func:`extended_number`)."""
        return extended_number(self.device_number, self.transmission_type)


class BatteryStatus(IntEnum):
    """Battery status from common page 0x52 (values 0 and 6 are reserved)."""

    NEW = 1
    GOOD = 2
    OK = 3
    LOW = 4
    CRITICAL = 5


class FeState(IntEnum):
    """Fitness equipment state (FE-C b7 bits 4-6)."""

    ASLEEP = 1
    READY = 2
    IN_USE = 3
    FINISHED = 4


# --- results ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PowerOnlyPage:
    """Bicycle Power 0x10."""

    kind: ClassVar[str] = "power_only"
    event_count: int
    right_pct: int | None
    """Right pedal's share (%), only when the sensor says which side it is."""
    unknown_side_pct: int | None
    """A share (%) of a side the sensor does not name."""
    cadence_rpm: int | None
    accumulated_power_w: int
    instantaneous_power_w: int


@dataclass(frozen=True, slots=True)
class CrankTorquePage:
    """Bicycle Power 0x12 (raw wire units; see the properties for SI)."""

    kind: ClassVar[str] = "crank_torque"
    event_count: int
    crank_ticks: int
    cadence_rpm: int | None
    crank_period: int
    """Accumulated crank period, 1/2048 s, mod 65536."""
    accumulated_torque: int
    """Accumulated torque, 1/32 Nm, mod 65536."""


@dataclass(frozen=True, slots=True)
class TorqueEffectivenessPage:
    """Bicycle Power 0x13: torque effectiveness and pedal smoothness (%)."""

    kind: ClassVar[str] = "te_ps"
    event_count: int
    te_left_pct: float | None
    te_right_pct: float | None
    ps_left_pct: float | None
    ps_right_pct: float | None
    ps_combined_pct: float | None
    """Set instead of left/right when the sensor reports one combined figure."""


@dataclass(frozen=True, slots=True)
class CalibrationResponsePage:
    """Bicycle Power 0x01 calibration response (0xAC success, 0xAF failure)."""

    kind: ClassVar[str] = "calibration_response"
    success: bool
    auto_zero_enabled: bool | None
    """None when the sensor does not support auto zero (0xFF)."""
    calibration_value: int


@dataclass(frozen=True, slots=True)
class ManufacturerPage:
    """Common page 0x50."""

    kind: ClassVar[str] = "manufacturer"
    hardware_revision: int
    manufacturer_id: int
    model_number: int


@dataclass(frozen=True, slots=True)
class ProductPage:
    """Common page 0x51."""

    kind: ClassVar[str] = "product"
    software_main: int
    software_supplemental: int | None
    serial_number: int | None

    @property
    def software_version(self) -> str:
        """Version as the ANT+ convention prints it: main/10 or (main·100+supp)/1000."""
        if self.software_supplemental is None:
            return f"{self.software_main / 10:.1f}"
        return f"{(self.software_main * 100 + self.software_supplemental) / 1000:.3f}"


@dataclass(frozen=True, slots=True)
class BatteryPage:
    """Common page 0x52."""

    kind: ClassVar[str] = "battery"
    battery_id: int | None
    operating_time_s: int
    voltage_v: float | None
    status: BatteryStatus | None


@dataclass(frozen=True, slots=True)
class FeGeneralPage:
    """FE-C 0x10 general FE data."""

    kind: ClassVar[str] = "fe_general"
    equipment_type: int
    elapsed_time_s: float
    """0.25 s resolution, mod 64 s."""
    distance_m: int
    """Mod 256 m."""
    speed_mps: float | None
    heart_rate_bpm: int | None
    """Only when the capabilities' bits 0-1 name a heart-rate source."""
    capabilities: int
    fe_state: FeState | None
    lap_toggle: bool


@dataclass(frozen=True, slots=True)
class FeSettingsPage:
    """FE-C 0x11 general settings."""

    kind: ClassVar[str] = "fe_settings"
    cycle_length_m: float | None
    incline_pct: float | None
    resistance_pct: float | None
    fe_state: FeState | None
    lap_toggle: bool


@dataclass(frozen=True, slots=True)
class FeTrainerPage:
    """FE-C 0x19 specific trainer / stationary bike data."""

    kind: ClassVar[str] = "fe_trainer"
    event_count: int
    cadence_rpm: int | None
    accumulated_power_w: int
    instantaneous_power_w: int | None
    trainer_status: int
    """Bit 0 power calib., bit 1 resistance calib., bit 2 user config needed."""
    target_power_flag: int
    fe_state: FeState | None
    lap_toggle: bool


@dataclass(frozen=True, slots=True)
class FeTrainerTorquePage:
    """FE-C 0x1A trainer torque data (raw wire units)."""

    kind: ClassVar[str] = "fe_trainer_torque"
    event_count: int
    wheel_ticks: int
    wheel_period: int
    """Accumulated wheel period, 1/2048 s, mod 65536."""
    accumulated_torque: int
    """Accumulated torque, 1/32 Nm, mod 65536."""
    fe_state: FeState | None
    lap_toggle: bool


@dataclass(frozen=True, slots=True)
class HeartRatePage:
    """Heart rate pages 0-4 and 7: bytes 4-7 are the same in all of them.

    Page-specific fields are None on the pages that do not carry them.
    """

    kind: ClassVar[str] = "heart_rate"
    page_number: int
    toggle: bool
    beat_time: int
    """Last heart beat event time, 1/1024 s, mod 65536."""
    beat_count: int
    heart_rate_bpm: int | None
    previous_beat_time: int | None = None
    """Page 4: the beat before the last, 1/1024 s (R-R = beat_time - this)."""
    operating_time_s: int | None = None
    """Page 1: cumulative operating time (2 s resolution)."""
    manufacturer_id: int | None = None
    """Page 2."""
    serial_upper: int | None = None
    """Page 2: upper 16 bits of the serial number (device number is the lower)."""
    # Page 3:
    hardware_version: int | None = None
    software_version: int | None = None
    model_number: int | None = None
    # Page 7:
    battery_pct: int | None = None
    battery_voltage_v: float | None = None
    battery_status: BatteryStatus | None = None


type Page = (
    PowerOnlyPage
    | CrankTorquePage
    | TorqueEffectivenessPage
    | CalibrationResponsePage
    | ManufacturerPage
    | ProductPage
    | BatteryPage
    | FeGeneralPage
    | FeSettingsPage
    | FeTrainerPage
    | FeTrainerTorquePage
    | HeartRatePage
    | DynamicsPage
)

# --- helpers ---------------------------------------------------------------------


def _u16(data: bytes, at: int) -> int:
    return data[at] | (data[at + 1] << 8)


def _byte_or_none(value: int) -> int | None:
    return None if value == 0xFF else value


def _half_pct(value: int) -> float | None:
    """0.5 % units, 0xFF invalid; above 100 % is not a reading either.

    One impossible field is not an impossible page: the page's other fields
    (power, cadence) stay good, so the field alone becomes unknown.
    """
    return None if value > 200 else value / 2


def _fe_state(value: int) -> FeState | None:
    state = (value >> 4) & 0x07
    # 0, 5, 6, 7 are reserved: a state we cannot name is no state at all.
    return FeState(state) if 1 <= state <= 4 else None


def _battery_voltage(fraction: int, descriptive: int) -> float | None:
    coarse = descriptive & 0x0F
    return None if coarse == 0x0F else coarse + fraction / 256


def _battery_status(descriptive: int) -> BatteryStatus | None:
    status = (descriptive >> 4) & 0x07
    return BatteryStatus(status) if 1 <= status <= 5 else None


# --- common pages ----------------------------------------------------------------


def _manufacturer(data: bytes) -> ManufacturerPage:
    return ManufacturerPage(
        hardware_revision=data[3],
        manufacturer_id=_u16(data, 4),
        model_number=_u16(data, 6),
    )


def _product(data: bytes) -> ProductPage:
    serial = int.from_bytes(data[4:8], "little")
    return ProductPage(
        software_main=data[3],
        software_supplemental=_byte_or_none(data[2]),
        serial_number=None if serial == 0xFFFFFFFF else serial,
    )


def _battery(data: bytes) -> BatteryPage:
    descriptive = data[7]
    ticks = data[3] | (data[4] << 8) | (data[5] << 16)
    return BatteryPage(
        battery_id=_byte_or_none(data[2]),
        operating_time_s=ticks * (2 if descriptive & 0x80 else 16),
        voltage_v=_battery_voltage(data[6], descriptive),
        status=_battery_status(descriptive),
    )


_COMMON_PAGES: dict[int, Callable[[bytes], Page]] = {
    COMMON_PAGE_MANUFACTURER: _manufacturer,
    COMMON_PAGE_PRODUCT: _product,
    COMMON_PAGE_BATTERY: _battery,
}


# --- bicycle power ---------------------------------------------------------------


def _power_only(data: bytes) -> PowerOnlyPage:
    pedal = data[2]
    right_pct: int | None = None
    unknown_side_pct: int | None = None
    share = pedal & 0x7F
    if pedal != 0xFF and share <= 100:  # a share above 100 % is no share
        if pedal & 0x80:
            right_pct = share
        else:
            unknown_side_pct = share
    return PowerOnlyPage(
        event_count=data[1],
        right_pct=right_pct,
        unknown_side_pct=unknown_side_pct,
        cadence_rpm=_byte_or_none(data[3]),
        accumulated_power_w=_u16(data, 4),
        instantaneous_power_w=_u16(data, 6),
    )


def _crank_torque(data: bytes) -> CrankTorquePage:
    return CrankTorquePage(
        event_count=data[1],
        crank_ticks=data[2],
        cadence_rpm=_byte_or_none(data[3]),
        crank_period=_u16(data, 4),
        accumulated_torque=_u16(data, 6),
    )


PS_COMBINED_MARKER = 0xFE


def _te_ps(data: bytes) -> TorqueEffectivenessPage:
    combined = data[5] == PS_COMBINED_MARKER
    left_ps = _half_pct(data[4])
    return TorqueEffectivenessPage(
        event_count=data[1],
        te_left_pct=_half_pct(data[2]),
        te_right_pct=_half_pct(data[3]),
        ps_left_pct=None if combined else left_ps,
        ps_right_pct=None if combined else _half_pct(data[5]),
        ps_combined_pct=left_ps if combined else None,
    )


CALIBRATION_SUCCESS, CALIBRATION_FAILURE = 0xAC, 0xAF


def _calibration(data: bytes) -> CalibrationResponsePage:
    calibration_id = data[1]
    if calibration_id not in (CALIBRATION_SUCCESS, CALIBRATION_FAILURE):
        # Requests, auto-zero configuration and CTF messages: real, not ours.
        raise UnknownPage(DEVICE_TYPE_BICYCLE_POWER, 0x01)
    auto_zero = data[2]
    return CalibrationResponsePage(
        success=calibration_id == CALIBRATION_SUCCESS,
        auto_zero_enabled=None if auto_zero not in (0, 1) else auto_zero == 1,
        calibration_value=int.from_bytes(data[6:8], "little", signed=True),
    )


# --- fitness equipment -----------------------------------------------------------

INCLINE_INVALID = 0x7FFF


SPEED_INVALID = 0xFFFF


class HrSource(IntEnum):
    """Where an FE-C trainer's heart rate comes from (0x10, b7 bits 0-1)."""

    NONE = 0
    ANT_PLUS = 1
    EM_5KHZ = 2
    HAND_CONTACT = 3


def _fe_general(data: bytes) -> FeGeneralPage:
    speed = _u16(data, 4)
    has_heart_rate = data[7] & 0x03 != HrSource.NONE
    return FeGeneralPage(
        equipment_type=data[1] & 0x1F,
        elapsed_time_s=data[2] / 4,
        distance_m=data[3],
        speed_mps=None if speed == SPEED_INVALID else speed / 1000,
        heart_rate_bpm=_byte_or_none(data[6]) if has_heart_rate else None,
        capabilities=data[7] & 0x0F,
        fe_state=_fe_state(data[7]),
        lap_toggle=bool(data[7] & 0x80),
    )


def _fe_settings(data: bytes) -> FeSettingsPage:
    incline = int.from_bytes(data[4:6], "little", signed=True)
    # Beyond ±100 % is no incline (0x7FFF, invalid, is beyond it too).
    incline_pct = incline / 100 if abs(incline) <= 10000 else None
    resistance_pct = _half_pct(data[6])
    cycle = _byte_or_none(data[3])
    return FeSettingsPage(
        cycle_length_m=None if cycle is None else cycle / 100,
        incline_pct=incline_pct,
        resistance_pct=resistance_pct,
        fe_state=_fe_state(data[7]),
        lap_toggle=bool(data[7] & 0x80),
    )


def _fe_trainer(data: bytes) -> FeTrainerPage:
    instantaneous = data[5] | ((data[6] & 0x0F) << 8)
    return FeTrainerPage(
        event_count=data[1],
        cadence_rpm=_byte_or_none(data[2]),
        accumulated_power_w=_u16(data, 3),
        instantaneous_power_w=None if instantaneous == 0xFFF else instantaneous,
        trainer_status=data[6] >> 4,
        target_power_flag=data[7] & 0x0F,
        fe_state=_fe_state(data[7]),
        lap_toggle=bool(data[7] & 0x80),
    )


def _fe_trainer_torque(data: bytes) -> FeTrainerTorquePage:
    return FeTrainerTorquePage(
        event_count=data[1],
        wheel_ticks=data[2],
        wheel_period=_u16(data, 3),
        accumulated_torque=_u16(data, 5),
        fe_state=_fe_state(data[7]),
        lap_toggle=bool(data[7] & 0x80),
    )


# --- heart rate ------------------------------------------------------------------


def _heart_rate(data: bytes) -> Page:
    page_number = data[0] & 0x7F
    if COMMON_PAGE_MANUFACTURER <= page_number <= COMMON_PAGE_BATTERY:
        # Newer straps interleave the common pages; the toggle bit may ride on them.
        return _COMMON_PAGES[page_number](data)
    if page_number not in (0, 1, 2, 3, 4, 7):
        raise UnknownPage(DEVICE_TYPE_HEART_RATE, page_number)
    page = HeartRatePage(
        page_number=page_number,
        toggle=bool(data[0] & 0x80),
        beat_time=_u16(data, 4),
        beat_count=data[6],
        # The strap sends 0 when it has no valid heart rate.
        heart_rate_bpm=data[7] or None,
    )
    if page_number == 1:
        ticks = data[1] | (data[2] << 8) | (data[3] << 16)
        return replace(page, operating_time_s=ticks * 2)
    if page_number == 2:
        return replace(page, manufacturer_id=data[1], serial_upper=_u16(data, 2))
    if page_number == 3:
        return replace(
            page,
            hardware_version=data[1],
            software_version=data[2],
            model_number=data[3],
        )
    if page_number == 4:
        return replace(page, previous_beat_time=_u16(data, 2))
    if page_number == 7:
        level = data[1]
        return replace(
            page,
            battery_pct=level if level <= 100 else None,  # 0xFF: invalid
            battery_voltage_v=_battery_voltage(data[2], data[3]),
            battery_status=_battery_status(data[3]),
        )
    return page


# --- entry points ----------------------------------------------------------------

# Page decoders by device type and page number (heart rate: ``_heart_rate``).
_DECODERS: dict[int, dict[int, Callable[[bytes], Page]]] = {
    DEVICE_TYPE_BICYCLE_POWER: {
        0x01: _calibration,
        0x10: _power_only,
        0x12: _crank_torque,
        0x13: _te_ps,
        **dict.fromkeys(DYNAMICS_PAGES, decode_dynamics),
        **_COMMON_PAGES,
    },
    DEVICE_TYPE_FITNESS_EQUIPMENT: {
        0x10: _fe_general,
        0x11: _fe_settings,
        0x19: _fe_trainer,
        0x1A: _fe_trainer_torque,
        **_COMMON_PAGES,
    },
}


def decode_page(device_type: int, data: bytes) -> Page:
    """Decode one 8-byte payload of the given ANT+ device type.

    Raises MalformedPage (not 8 bytes) or its subclass
    UnknownPage (a page or device type we do not decode).
    """
    if len(data) != PAGE_LENGTH:
        raise MalformedPage(f"page has {len(data)} bytes, expected {PAGE_LENGTH}")
    if device_type == DEVICE_TYPE_HEART_RATE:
        return _heart_rate(data)
    decoder = _DECODERS.get(device_type, {}).get(data[0])
    if decoder is None:
        raise UnknownPage(device_type, data[0])
    return decoder(data)


def page_to_dict(page: Page) -> dict[str, object]:
    """A JSON-able view: the page kind, every field, enums by lower-case name."""
    result: dict[str, object] = {"page": page.kind}
    for item in fields(page):
        value = getattr(page, item.name)
        if isinstance(value, IntEnum):
            value = value.name.lower()
        result[item.name] = value
    if isinstance(page, ProductPage):
        result["software_version"] = page.software_version
    return result

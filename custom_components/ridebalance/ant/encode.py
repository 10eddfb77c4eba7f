"""Byte-exact ANT+ page encoders, the inverse of :mod:`.pages`.

:func:`encode_page` turns any decoded page back into its 8 bytes
(``decode_page(t, encode_page(p)) == p``). The simulator's device emulators
(:mod:`..sim.emulators`) build their broadcasts with it.
"""

from __future__ import annotations

from .dynamics import encode_dynamics
from .pages import (
    CALIBRATION_FAILURE,
    CALIBRATION_SUCCESS,
    INCLINE_INVALID,
    PS_COMBINED_MARKER,
    SPEED_INVALID,
    BatteryPage,
    BatteryStatus,
    CalibrationResponsePage,
    CrankTorquePage,
    FeGeneralPage,
    FeSettingsPage,
    FeState,
    FeTrainerPage,
    FeTrainerTorquePage,
    HeartRatePage,
    ManufacturerPage,
    Page,
    PowerOnlyPage,
    ProductPage,
    TorqueEffectivenessPage,
)


def _check(value: int, low: int, high: int, name: str) -> int:
    if not low <= value <= high:
        raise ValueError(f"{name} {value} is outside {low}..{high}")
    return value


def _u16(value: int, name: str) -> bytes:
    return _check(value, 0, 0xFFFF, name).to_bytes(2, "little")


def _opt_byte(value: int | None, name: str, high: int = 0xFE) -> int:
    return 0xFF if value is None else _check(value, 0, high, name)


def _half_pct(value: float | None, name: str) -> int:
    return 0xFF if value is None else _check(round(value * 2), 0, 200, name)


def _state_byte(fe_state: FeState | None, lap_toggle: bool, low_nibble: int = 0) -> int:
    state = 0 if fe_state is None else int(fe_state)
    return (low_nibble & 0x0F) | (state << 4) | (0x80 if lap_toggle else 0)


def _battery_bytes(voltage_v: float | None, status: BatteryStatus | None) -> bytes:
    """Fractional-volts byte and the descriptive byte's low 7 bits."""
    status_bits = (7 if status is None else int(status)) << 4
    if voltage_v is None:
        return bytes((0xFF, 0x0F | status_bits))
    steps = round(voltage_v * 256)
    coarse, fraction = divmod(steps, 256)
    _check(coarse, 0, 14, "battery volts")
    return bytes((fraction, coarse | status_bits))


def _encode_power_only(page: PowerOnlyPage) -> bytes:
    if page.right_pct is not None and page.unknown_side_pct is not None:
        raise ValueError("a pedal share is either the right one or of unknown side")
    if page.right_pct is not None:
        pedal = 0x80 | _check(page.right_pct, 0, 100, "right share")
    elif page.unknown_side_pct is not None:
        pedal = _check(page.unknown_side_pct, 0, 100, "pedal share")
    else:
        pedal = 0xFF
    return (
        bytes(
            (
                0x10,
                _check(page.event_count, 0, 255, "event count"),
                pedal,
                _opt_byte(page.cadence_rpm, "cadence"),
            )
        )
        + _u16(page.accumulated_power_w, "accumulated power")
        + _u16(page.instantaneous_power_w, "instantaneous power")
    )


def _torque_page_start(number: int, event_count: int, ticks: int, name: str) -> bytes:
    """Bytes 0-2 of both torque pages (0x12, 0x1A): number, events, revolutions."""
    return bytes(
        (
            number,
            _check(event_count, 0, 255, "event count"),
            _check(ticks, 0, 255, name),
        )
    )


def _encode_crank_torque(page: CrankTorquePage) -> bytes:
    return (
        _torque_page_start(0x12, page.event_count, page.crank_ticks, "crank ticks")
        + bytes((_opt_byte(page.cadence_rpm, "cadence"),))
        + _u16(page.crank_period, "crank period")
        + _u16(page.accumulated_torque, "accumulated torque")
    )


def _encode_te_ps(page: TorqueEffectivenessPage) -> bytes:
    if page.ps_combined_pct is not None:
        if page.ps_left_pct is not None or page.ps_right_pct is not None:
            raise ValueError("combined smoothness excludes left/right smoothness")
        ps = (_half_pct(page.ps_combined_pct, "smoothness"), PS_COMBINED_MARKER)
    else:
        ps = (
            _half_pct(page.ps_left_pct, "left smoothness"),
            _half_pct(page.ps_right_pct, "right smoothness"),
        )
    return bytes(
        (
            0x13,
            _check(page.event_count, 0, 255, "event count"),
            _half_pct(page.te_left_pct, "left torque effectiveness"),
            _half_pct(page.te_right_pct, "right torque effectiveness"),
            *ps,
            0xFF,
            0xFF,
        )
    )


def _encode_calibration(page: CalibrationResponsePage) -> bytes:
    auto_zero = 0xFF if page.auto_zero_enabled is None else int(page.auto_zero_enabled)
    value = _check(page.calibration_value, -32768, 32767, "calibration value")
    return bytes(
        (
            0x01,
            CALIBRATION_SUCCESS if page.success else CALIBRATION_FAILURE,
            auto_zero,
            0xFF,
            0xFF,
            0xFF,
        )
    ) + value.to_bytes(2, "little", signed=True)


def _encode_manufacturer(page: ManufacturerPage) -> bytes:
    return (
        bytes((0x50, 0xFF, 0xFF, _check(page.hardware_revision, 0, 255, "hardware")))
        + _u16(page.manufacturer_id, "manufacturer id")
        + _u16(page.model_number, "model number")
    )


def _encode_product(page: ProductPage) -> bytes:
    serial = 0xFFFFFFFF
    if page.serial_number is not None:
        serial = _check(page.serial_number, 0, 0xFFFFFFFE, "serial number")
    return bytes(
        (
            0x51,
            0xFF,
            _opt_byte(page.software_supplemental, "supplemental software"),
            _check(page.software_main, 0, 255, "main software"),
        )
    ) + serial.to_bytes(4, "little")


def _encode_battery(page: BatteryPage) -> bytes:
    seconds = _check(page.operating_time_s, 0, (1 << 24) * 16 - 16, "operating time")
    if seconds % 16 == 0:
        ticks, resolution_bit = seconds // 16, 0
    elif seconds % 2 == 0 and seconds < (1 << 24) * 2:
        ticks, resolution_bit = seconds // 2, 0x80
    else:
        raise ValueError(f"operating time {seconds} s is not a multiple of 2 s")
    fraction, descriptive = _battery_bytes(page.voltage_v, page.status)
    return (
        bytes((0x52, 0xFF, _opt_byte(page.battery_id, "battery id")))
        + ticks.to_bytes(3, "little")
        + bytes((fraction, descriptive | resolution_bit))
    )


def _encode_fe_general(page: FeGeneralPage) -> bytes:
    return (
        bytes(
            (
                0x10,
                _check(page.equipment_type, 0, 31, "equipment type"),
                _check(round(page.elapsed_time_s * 4), 0, 255, "elapsed time"),
                _check(page.distance_m, 0, 255, "distance"),
            )
        )
        + _u16(
            SPEED_INVALID
            if page.speed_mps is None
            else _check(round(page.speed_mps * 1000), 0, SPEED_INVALID - 1, "speed"),
            "speed",
        )
        + bytes(
            (
                _opt_byte(page.heart_rate_bpm, "heart rate"),
                _state_byte(page.fe_state, page.lap_toggle, page.capabilities),
            )
        )
    )


def _encode_fe_settings(page: FeSettingsPage) -> bytes:
    cycle = None if page.cycle_length_m is None else round(page.cycle_length_m * 100)
    incline = (
        INCLINE_INVALID
        if page.incline_pct is None
        else _check(round(page.incline_pct * 100), -10000, 10000, "incline")
    )
    return (
        bytes((0x11, 0xFF, 0xFF, _opt_byte(cycle, "cycle length")))
        + incline.to_bytes(2, "little", signed=True)
        + bytes(
            (
                _half_pct(page.resistance_pct, "resistance"),
                _state_byte(page.fe_state, page.lap_toggle),
            )
        )
    )


def _encode_fe_trainer(page: FeTrainerPage) -> bytes:
    power = (
        0xFFF
        if page.instantaneous_power_w is None
        else _check(page.instantaneous_power_w, 0, 0xFFE, "instantaneous power")
    )
    status = _check(page.trainer_status, 0, 15, "trainer status")
    return (
        bytes(
            (
                0x19,
                _check(page.event_count, 0, 255, "event count"),
                _opt_byte(page.cadence_rpm, "cadence"),
            )
        )
        + _u16(page.accumulated_power_w, "accumulated power")
        + bytes(
            (
                power & 0xFF,
                (power >> 8) | (status << 4),
                _state_byte(page.fe_state, page.lap_toggle, page.target_power_flag),
            )
        )
    )


def _encode_fe_trainer_torque(page: FeTrainerTorquePage) -> bytes:
    return (
        _torque_page_start(0x1A, page.event_count, page.wheel_ticks, "wheel ticks")
        + _u16(page.wheel_period, "wheel period")
        + _u16(page.accumulated_torque, "accumulated torque")
        + bytes((_state_byte(page.fe_state, page.lap_toggle),))
    )


def _encode_heart_rate(page: HeartRatePage) -> bytes:
    specific = b"\xff\xff\xff"
    number = page.page_number
    if number == 1:
        seconds = page.operating_time_s or 0
        specific = _check(seconds // 2, 0, 0xFFFFFF, "operating time").to_bytes(
            3, "little"
        )
    elif number == 2:
        specific = bytes(
            (_check(page.manufacturer_id or 0, 0, 255, "manufacturer id"),)
        ) + _u16(page.serial_upper or 0, "serial")
    elif number == 3:
        specific = bytes(
            (
                _check(page.hardware_version or 0, 0, 255, "hardware version"),
                _check(page.software_version or 0, 0, 255, "software version"),
                _check(page.model_number or 0, 0, 255, "model number"),
            )
        )
    elif number == 4:
        specific = b"\xff" + _u16(page.previous_beat_time or 0, "previous beat")
    elif number == 7:
        fraction, descriptive = _battery_bytes(
            page.battery_voltage_v, page.battery_status
        )
        specific = bytes(
            (_opt_byte(page.battery_pct, "battery level", 100), fraction, descriptive)
        )
    elif number != 0:
        raise ValueError(f"heart-rate page {number} has no encoder")
    return (
        bytes(((0x80 if page.toggle else 0) | number,))
        + specific
        + _u16(page.beat_time, "beat time")
        + bytes(
            (
                _check(page.beat_count, 0, 255, "beat count"),
                0 if page.heart_rate_bpm is None else page.heart_rate_bpm,
            )
        )
    )


def encode_page(page: Page) -> bytes:
    """The 8 bytes of ``page``; reserved bytes are 0xFF. ValueError if unencodable."""
    match page:
        case PowerOnlyPage():
            return _encode_power_only(page)
        case CrankTorquePage():
            return _encode_crank_torque(page)
        case TorqueEffectivenessPage():
            return _encode_te_ps(page)
        case CalibrationResponsePage():
            return _encode_calibration(page)
        case ManufacturerPage():
            return _encode_manufacturer(page)
        case ProductPage():
            return _encode_product(page)
        case BatteryPage():
            return _encode_battery(page)
        case FeGeneralPage():
            return _encode_fe_general(page)
        case FeSettingsPage():
            return _encode_fe_settings(page)
        case FeTrainerPage():
            return _encode_fe_trainer(page)
        case FeTrainerTorquePage():
            return _encode_fe_trainer_torque(page)
        case HeartRatePage():
            return _encode_heart_rate(page)
        case _:
            return encode_dynamics(page)

"""Page decoders: the ANT_NOTES.md test vectors and the edge cases around them."""

from __future__ import annotations

import json

from hypothesis import given, strategies as st
import pytest

from custom_components.ridebalance.ant.identity import AntDevice
from custom_components.ridebalance.ant.pages import (
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
    MalformedPage,
    ManufacturerPage,
    PowerOnlyPage,
    ProductPage,
    RawPage,
    TorqueEffectivenessPage,
    UnknownPage,
    decode_page,
    page_to_dict,
)

from .page_streams import DEVICE_TYPES, payloads

POWER, FEC, HR = 11, 17, 120


def page(device_type: int, hex_bytes: str) -> object:
    return decode_page(device_type, bytes.fromhex(hex_bytes))


# --- ANT_NOTES.md test vectors -------------------------------------------------


def test_vector_instantaneous_power_is_little_endian() -> None:
    decoded = page(POWER, "10 01 00 00 00 00 11 22")
    assert isinstance(decoded, PowerOnlyPage)
    assert decoded.instantaneous_power_w == 8721
    assert decoded.event_count == 1


@pytest.mark.parametrize(
    ("pedal_byte", "right", "unknown_side"),
    [("B2", 50, None), ("32", None, 50), ("FF", None, None)],
)
def test_vector_pedal_power_byte(
    pedal_byte: str, right: int | None, unknown_side: int | None
) -> None:
    decoded = page(POWER, f"10 01 {pedal_byte} 5A 00 00 00 00")
    assert isinstance(decoded, PowerOnlyPage)
    assert decoded.right_pct == right
    assert decoded.unknown_side_pct == unknown_side


def test_vector_crank_torque_fields() -> None:
    decoded = page(POWER, "12 01 01 3C 00 08 9C 05")
    assert decoded == CrankTorquePage(
        event_count=1,
        crank_ticks=1,
        cadence_rpm=60,
        crank_period=2048,
        accumulated_torque=1436,
    )
    assert 1436 / 32 == 44.875


def test_vector_te_both_sides_100() -> None:
    decoded = page(POWER, "13 FF C8 C8 FF FF FF FF")
    assert decoded == TorqueEffectivenessPage(
        event_count=255,
        te_left_pct=100.0,
        te_right_pct=100.0,
        ps_left_pct=None,
        ps_right_pct=None,
        ps_combined_pct=None,
    )


def test_vector_combined_pedal_smoothness() -> None:
    decoded = page(POWER, "13 05 FF FF 64 FE FF FF")
    assert isinstance(decoded, TorqueEffectivenessPage)
    assert decoded.ps_combined_pct == 50.0
    # The combined figure is not one side's: neither side gets it.
    assert decoded.ps_left_pct is None
    assert decoded.ps_right_pct is None


def test_vector_fec_trainer_cadence_and_12_bit_power() -> None:
    decoded = page(FEC, "19 01 80 00 00 55 0A 00")
    assert isinstance(decoded, FeTrainerPage)
    assert decoded.cadence_rpm == 128
    assert decoded.instantaneous_power_w == 2645
    assert decoded.trainer_status == 0


def test_vector_fec_state_in_use() -> None:
    decoded = page(FEC, "19 01 5A 00 00 C8 00 30")
    assert isinstance(decoded, FeTrainerPage)
    assert decoded.fe_state is FeState.IN_USE


def test_vector_battery_new_3_5_volts() -> None:
    decoded = page(POWER, "52 FF 02 13 00 00 80 13")
    assert decoded == BatteryPage(
        battery_id=2,
        operating_time_s=0x13 * 16,
        voltage_v=3.5,
        status=BatteryStatus.NEW,
    )


# --- bicycle power edge cases ----------------------------------------------------


def test_power_only_invalid_cadence_is_none_not_255() -> None:
    decoded = page(POWER, "10 07 B2 FF 10 00 64 00")
    assert isinstance(decoded, PowerOnlyPage)
    assert decoded.cadence_rpm is None


@pytest.mark.parametrize("pedal_byte", ["E5", "65", "FE"])
def test_a_share_above_100_costs_the_share_not_the_power(pedal_byte: str) -> None:
    decoded = page(POWER, f"10 01 {pedal_byte} 5A 34 12 FA 00")
    assert isinstance(decoded, PowerOnlyPage)
    assert (decoded.right_pct, decoded.unknown_side_pct) == (None, None)
    assert (decoded.cadence_rpm, decoded.instantaneous_power_w) == (90, 250)
    assert decoded.accumulated_power_w == 0x1234


def test_power_only_boundary_shares() -> None:
    right_all = page(POWER, "10 01 E4 5A 00 00 00 00")
    left_all = page(POWER, "10 01 80 5A 00 00 00 00")
    assert isinstance(right_all, PowerOnlyPage)
    assert isinstance(left_all, PowerOnlyPage)
    assert right_all.right_pct == 100
    assert left_all.right_pct == 0


def test_te_ps_half_percent_units_and_invalid_side() -> None:
    decoded = page(POWER, "13 09 91 95 2D FF FF FF")
    assert isinstance(decoded, TorqueEffectivenessPage)
    assert decoded.te_left_pct == 72.5
    assert decoded.te_right_pct == 74.5
    assert decoded.ps_left_pct == 22.5
    assert decoded.ps_right_pct is None
    assert decoded.ps_combined_pct is None


def test_te_or_ps_above_100_is_unknown_and_the_other_fields_stay() -> None:
    decoded = page(POWER, "13 01 C9 C8 FD 10 FF FF")
    assert isinstance(decoded, TorqueEffectivenessPage)
    assert decoded.te_left_pct is None  # 100.5 %
    assert decoded.te_right_pct == 100.0
    assert decoded.ps_left_pct is None  # 126.5 %
    assert decoded.ps_right_pct == 8.0


def test_calibration_success_with_signed_value() -> None:
    decoded = page(POWER, "01 AC 01 FF FF FF FB FF")
    assert decoded == CalibrationResponsePage(
        success=True, auto_zero_enabled=True, calibration_value=-5
    )


def test_calibration_failure_without_auto_zero_support() -> None:
    decoded = page(POWER, "01 AF FF FF FF FF 10 27")
    assert decoded == CalibrationResponsePage(
        success=False, auto_zero_enabled=None, calibration_value=10000
    )


def test_calibration_request_is_unknown_not_malformed() -> None:
    with pytest.raises(UnknownPage) as caught:
        page(POWER, "01 AA FF FF FF FF FF FF")
    assert caught.value.page_number == 0x01


def test_calibration_bad_auto_zero_status_keeps_the_result() -> None:
    decoded = page(POWER, "01 AC 05 FF FF FF 0A 00")
    assert decoded == CalibrationResponsePage(
        success=True, auto_zero_enabled=None, calibration_value=10
    )


# --- common pages ----------------------------------------------------------------


def test_manufacturer_page() -> None:
    decoded = page(POWER, "50 FF FF 03 07 01 0C 00")
    assert decoded == ManufacturerPage(
        hardware_revision=3, manufacturer_id=263, model_number=12
    )


def test_product_page_versions_and_serial() -> None:
    main_only = page(POWER, "51 FF FF 2A 15 CD 5B 07")
    with_supplemental = page(POWER, "51 FF 03 2A FF FF FF FF")
    assert isinstance(main_only, ProductPage)
    assert isinstance(with_supplemental, ProductPage)
    assert main_only.serial_number == 123456789
    assert main_only.software_version == "4.2"
    assert with_supplemental.software_version == "4.203"
    assert with_supplemental.serial_number is None


def test_battery_24_bit_operating_time_in_both_resolutions() -> None:
    sixteen = page(POWER, "52 FF FF 01 02 03 80 13")
    two = page(POWER, "52 FF FF 01 02 03 80 93")
    assert isinstance(sixteen, BatteryPage)
    assert isinstance(two, BatteryPage)
    assert sixteen.operating_time_s == 0x030201 * 16
    assert two.operating_time_s == 0x030201 * 2
    assert sixteen.battery_id is None


def test_battery_invalid_voltage_and_status() -> None:
    decoded = page(POWER, "52 FF FF 00 00 00 80 7F")
    assert isinstance(decoded, BatteryPage)
    assert decoded.voltage_v is None
    assert decoded.status is None


@pytest.mark.parametrize(
    ("descriptive", "status"),
    [
        ("23", BatteryStatus.GOOD),
        ("33", BatteryStatus.OK),
        ("43", BatteryStatus.LOW),
        ("53", BatteryStatus.CRITICAL),
        ("03", None),
        ("63", None),
    ],
)
def test_battery_status_codes(descriptive: str, status: BatteryStatus | None) -> None:
    decoded = page(FEC, f"52 FF FF 00 00 00 00 {descriptive}")
    assert isinstance(decoded, BatteryPage)
    assert decoded.status is status


# --- FE-C ------------------------------------------------------------------------


def test_fec_general_page() -> None:
    decoded = page(FEC, "10 19 28 64 28 23 8C B5")
    assert decoded == FeGeneralPage(
        equipment_type=25,
        elapsed_time_s=10.0,
        distance_m=100,
        speed_mps=9.0,
        heart_rate_bpm=140,  # heart-rate source 1: an ANT+ strap
        capabilities=5,
        fe_state=FeState.IN_USE,
        lap_toggle=True,
    )


def test_fec_general_invalid_heart_rate_and_reserved_state() -> None:
    decoded = page(FEC, "10 19 00 00 00 00 FF 03")
    assert isinstance(decoded, FeGeneralPage)
    assert decoded.heart_rate_bpm is None
    assert decoded.fe_state is None


@pytest.mark.parametrize(("b7", "heart_rate"), [("30", None), ("31", 140), ("33", 140)])
def test_fec_general_heart_rate_needs_a_heart_rate_source(
    b7: str, heart_rate: int | None
) -> None:
    """b7 bits 0-1 = 0: the trainer has no heart-rate source, b6 is no reading."""
    decoded = page(FEC, f"10 19 28 64 A0 0F 8C {b7}")
    assert isinstance(decoded, FeGeneralPage)
    assert decoded.heart_rate_bpm == heart_rate
    assert decoded.speed_mps == 4.0


def test_fec_general_speed_ffff_is_no_speed() -> None:
    decoded = page(FEC, "10 19 28 64 FF FF 8C 31")
    assert isinstance(decoded, FeGeneralPage)
    assert decoded.speed_mps is None
    assert decoded.heart_rate_bpm == 140


@pytest.mark.parametrize(
    ("incline_bytes", "incline"),
    [("18 FC", -10.0), ("E8 03", 10.0), ("F0 D8", -100.0), ("FF 7F", None)],
)
def test_fec_settings_incline_is_signed(
    incline_bytes: str, incline: float | None
) -> None:
    decoded = page(FEC, f"11 FF FF D2 {incline_bytes} 50 20")
    assert isinstance(decoded, FeSettingsPage)
    assert decoded.incline_pct == incline
    assert decoded.cycle_length_m == 2.1
    assert decoded.resistance_pct == 40.0
    assert decoded.fe_state is FeState.READY


def test_fec_settings_impossible_incline_or_resistance_is_that_field_only() -> None:
    steep = page(FEC, "11 FF FF D2 11 27 50 20")  # 100.01 %
    assert isinstance(steep, FeSettingsPage)
    assert (steep.incline_pct, steep.resistance_pct) == (None, 40.0)
    heavy = page(FEC, "11 FF FF D2 00 00 C9 20")  # 100.5 %
    assert isinstance(heavy, FeSettingsPage)
    assert (heavy.incline_pct, heavy.resistance_pct) == (0.0, None)
    assert heavy.cycle_length_m == 2.1


def test_fec_settings_invalid_markers() -> None:
    decoded = page(FEC, "11 FF FF FF FF 7F FF 00")
    assert decoded == FeSettingsPage(
        cycle_length_m=None,
        incline_pct=None,
        resistance_pct=None,
        fe_state=None,
        lap_toggle=False,
    )


def test_fec_trainer_invalid_power_and_status_bits() -> None:
    decoded = page(FEC, "19 10 FF 34 12 FF 7F 31")
    assert isinstance(decoded, FeTrainerPage)
    assert decoded.instantaneous_power_w is None
    assert decoded.cadence_rpm is None
    assert decoded.accumulated_power_w == 0x1234
    assert decoded.trainer_status == 7
    assert decoded.target_power_flag == 1
    assert decoded.fe_state is FeState.IN_USE


def test_fec_trainer_torque_fields_start_at_byte_3() -> None:
    decoded = page(FEC, "1A 05 10 00 08 40 01 30")
    assert decoded == FeTrainerTorquePage(
        event_count=5,
        wheel_ticks=16,
        wheel_period=2048,
        accumulated_torque=320,
        fe_state=FeState.IN_USE,
        lap_toggle=False,
    )


# --- heart rate ------------------------------------------------------------------


def test_heart_rate_page_4_with_toggle_bit() -> None:
    decoded = page(HR, "84 FF 00 04 00 08 10 3C")
    assert isinstance(decoded, HeartRatePage)
    assert decoded.page_number == 4
    assert decoded.toggle
    assert decoded.heart_rate_bpm == 60
    assert decoded.beat_count == 16
    assert (decoded.beat_time - (decoded.previous_beat_time or 0)) / 1024 == 1.0


def test_heart_rate_zero_means_no_reading() -> None:
    decoded = page(HR, "00 FF FF FF 00 00 00 00")
    assert isinstance(decoded, HeartRatePage)
    assert decoded.heart_rate_bpm is None


def test_heart_rate_background_pages() -> None:
    operating = page(HR, "81 10 00 00 00 04 05 46")
    manufacturer = page(HR, "02 01 34 12 00 04 05 46")
    product = page(HR, "83 07 0C 09 00 04 05 46")
    battery = page(HR, "07 50 E6 22 00 04 05 46")
    assert isinstance(operating, HeartRatePage)
    assert isinstance(manufacturer, HeartRatePage)
    assert isinstance(product, HeartRatePage)
    assert isinstance(battery, HeartRatePage)
    assert operating.operating_time_s == 32
    assert (manufacturer.manufacturer_id, manufacturer.serial_upper) == (1, 0x1234)
    assert (product.hardware_version, product.software_version) == (7, 12)
    assert product.model_number == 9
    assert battery.battery_pct == 80
    assert battery.battery_voltage_v == pytest.approx(2.898, abs=0.001)
    assert battery.battery_status is BatteryStatus.GOOD
    # Every page carries the heart rate in byte 7.
    assert {p.heart_rate_bpm for p in (operating, manufacturer, product, battery)} == {
        70
    }


@pytest.mark.parametrize("first_byte", ["52", "D2"])
def test_common_battery_page_from_a_strap_is_not_a_heart_rate_page(
    first_byte: str,
) -> None:
    decoded = page(HR, f"{first_byte} FF 01 10 00 00 00 23")
    assert isinstance(decoded, BatteryPage)
    assert decoded.status is BatteryStatus.GOOD


def test_common_manufacturer_page_from_a_strap() -> None:
    decoded = page(HR, "D0 FF FF 01 7B 00 02 00")
    assert decoded == ManufacturerPage(
        hardware_revision=1, manufacturer_id=123, model_number=2
    )


def test_heart_rate_battery_level_above_100_is_unknown_and_the_beat_stays() -> None:
    decoded = page(HR, "07 65 00 22 00 00 00 46")
    assert isinstance(decoded, HeartRatePage)
    assert decoded.battery_pct is None
    assert decoded.heart_rate_bpm == 70


@pytest.mark.parametrize("first_byte", ["05", "86", "20", "53"])
def test_heart_rate_unsupported_pages_are_unknown(first_byte: str) -> None:
    with pytest.raises(UnknownPage):
        page(HR, f"{first_byte} FF FF FF 00 00 00 46")


# --- entry point -----------------------------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 7, 9])
def test_wrong_length_is_malformed_not_unknown(length: int) -> None:
    with pytest.raises(MalformedPage, match="bytes") as caught:
        decode_page(POWER, bytes([0x10] * length))
    assert not isinstance(caught.value, UnknownPage)


@pytest.mark.parametrize(
    ("device_type", "first_byte"),
    [(POWER, 0x20), (POWER, 0x11), (FEC, 0x12), (FEC, 0x53), (121, 0x00)],
)
def test_unsupported_pages_and_device_types_are_unknown(
    device_type: int, first_byte: int
) -> None:
    data = bytes([first_byte, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(UnknownPage) as caught:
        decode_page(device_type, data)
    assert caught.value.device_type == device_type
    assert caught.value.page_number == first_byte
    assert isinstance(caught.value, ValueError)


def test_raw_page_and_heard_device_extend_the_number_alike() -> None:
    raw = RawPage(0.0, POWER, 0x1234, 0x35, bytes(8))
    assert raw.extended_device_number == 0x31234
    assert RawPage(0.0, POWER, 0x1234, 0x05, bytes(8)).extended_device_number == 0x1234
    heard = AntDevice(POWER, 0x1234, 0x35)
    assert heard.extended_device_number == raw.extended_device_number


@pytest.mark.parametrize(
    ("device_type", "hex_bytes", "kind"),
    [
        (POWER, "10 01 B2 5A 00 00 00 00", "power_only"),
        (POWER, "12 01 01 3C 00 08 9C 05", "crank_torque"),
        (POWER, "13 FF C8 C8 64 FE FF FF", "te_ps"),
        (POWER, "01 AC 01 FF FF FF FB FF", "calibration_response"),
        (POWER, "50 FF FF 03 07 01 0C 00", "manufacturer"),
        (POWER, "51 FF FF 2A 15 CD 5B 07", "product"),
        (POWER, "52 FF 02 13 00 00 80 13", "battery"),
        (FEC, "10 19 28 64 28 23 8C B5", "fe_general"),
        (FEC, "11 FF FF D2 18 FC 50 20", "fe_settings"),
        (FEC, "19 01 80 00 00 55 0A 00", "fe_trainer"),
        (FEC, "1A 05 10 00 08 40 01 30", "fe_trainer_torque"),
        (HR, "84 FF 00 04 00 08 10 3C", "heart_rate"),
    ],
)
def test_page_to_dict_is_json(device_type: int, hex_bytes: str, kind: str) -> None:
    decoded = decode_page(device_type, bytes.fromhex(hex_bytes))
    view = page_to_dict(decoded)
    assert view["page"] == kind
    assert json.loads(json.dumps(view)) == view


def test_page_to_dict_names_enums_and_versions() -> None:
    battery = page_to_dict(decode_page(POWER, bytes.fromhex("52 FF 02 13 00 00 80 13")))
    product = page_to_dict(decode_page(POWER, bytes.fromhex("51 FF FF 2A 15 CD 5B 07")))
    assert battery["status"] == "new"
    assert battery["voltage_v"] == 3.5
    assert product["software_version"] == "4.2"
    assert product["serial_number"] == 123456789


@given(st.sampled_from((*DEVICE_TYPES, 0, 121, 255)), payloads())
def test_decoders_raise_only_malformed_page(device_type: int, data: bytes) -> None:
    try:
        page = decode_page(device_type, data)
    except MalformedPage:
        return
    # Whatever decodes has a JSON view for the CLI.
    view = page_to_dict(page)
    assert json.loads(json.dumps(view)) == view

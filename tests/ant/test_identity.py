"""Manufacturer names and device descriptions."""

from __future__ import annotations

import pytest

from custom_components.ridebalance.ant.identity import MANUFACTURERS, describe_heard
from custom_components.ridebalance.ant.pages import (
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_HEART_RATE,
    RawPage,
)
from custom_components.ridebalance.ant.trackers import (
    HeartRateTracker,
    PowerMeterTracker,
)
from custom_components.ridebalance.sim.emulators import HeartRateEncoder, PedalEncoder

from .page_streams import PEDALS, STRAP
from .receiver_kit import MANUFACTURER_PAGE, PRODUCT_PAGE

SPEED_CADENCE = 121


@pytest.mark.parametrize(
    ("manufacturer_id", "name"),
    [
        (1, "Garmin"),
        (9, "Saris (CycleOps)"),
        (32, "Wahoo Fitness"),
        (51, "4iiii"),
        (86, "Elite"),
        (89, "Tacx"),
        (123, "Polar"),
        (263, "Favero Electronics"),
    ],
)
def test_manufacturer_names_match_the_fit_profile(
    manufacturer_id: int, name: str
) -> None:
    assert MANUFACTURERS[manufacturer_id] == name


def test_scan_labels_name_the_manufacturer() -> None:
    """What a scan heard is listed with the brand from page 0x50 or HR page 2."""
    pedal_pages = {}
    encoder = PedalEncoder(PEDALS, common_every=1)
    page = encoder.page(0.25, 200.0, 50.0, 90.0)
    pedal_pages[page.data[0]] = page.data
    assert describe_heard(DEVICE_TYPE_BICYCLE_POWER, pedal_pages) == (
        "Favero Electronics"
    )
    strap = HeartRateEncoder(STRAP, background_every=1)
    beat = strap.page(0.25, 120.0)
    assert describe_heard(DEVICE_TYPE_HEART_RATE, {beat.data[0] & 0x7F: beat.data}) == (
        "Garmin"
    )
    assert describe_heard(DEVICE_TYPE_HEART_RATE, {}) is None


def test_scan_labels_stay_empty_for_what_cannot_name_a_brand() -> None:
    """A speed/cadence sensor's or a garbled page 0x50 gives no label, no error."""
    manufacturer = bytes.fromhex("50 FF FF 01 20 01 0A 00")
    assert describe_heard(SPEED_CADENCE, {0x50: manufacturer}) is None
    assert describe_heard(DEVICE_TYPE_BICYCLE_POWER, {0x50: manufacturer[:5]}) is None
    assert describe_heard(DEVICE_TYPE_BICYCLE_POWER, {0x10: bytes(8)}) is None


def test_scan_labels_add_the_serial_and_software_from_page_0x51() -> None:
    pages = {0x50: MANUFACTURER_PAGE, 0x51: PRODUCT_PAGE}
    assert describe_heard(DEVICE_TYPE_BICYCLE_POWER, pages) == (
        "Manufacturer 288, serial 482253, software 2.142"
    )
    assert describe_heard(DEVICE_TYPE_BICYCLE_POWER, {0x51: PRODUCT_PAGE}) == (
        "serial 482253, software 2.142"
    )


def test_a_brand_not_listed_has_one_name_in_a_scan_and_on_the_tracked_device() -> None:
    """Manufacturer 288 is not in the list: the scan's label, the device registry
    and the diagnostics all call it by its id, none of them leaves it blank."""
    tracker = PowerMeterTracker(PEDALS, 5)
    tracker.update(
        RawPage(0.0, DEVICE_TYPE_BICYCLE_POWER, PEDALS, 5, MANUFACTURER_PAGE)
    )
    assert tracker.identity.manufacturer == "Manufacturer 288"
    assert describe_heard(DEVICE_TYPE_BICYCLE_POWER, {0x50: MANUFACTURER_PAGE}) == (
        tracker.identity.manufacturer
    )


def _strap_pages(encoder: HeartRateEncoder, *numbers: int) -> list[RawPage]:
    """The strap's broadcasts until each of the given page numbers was sent."""
    sent: list[RawPage] = []
    missing = set(numbers)
    t_s = 0.0
    while missing:
        t_s += 0.25
        page = encoder.page(t_s, 120.0)
        sent.append(page)
        missing.discard(page.data[0] & 0x7F)
    return sent


def test_a_strap_is_named_alike_in_a_scan_and_in_the_device_registry() -> None:
    """Pages 2 and 3 give the brand, the serial (page 2's upper 16 bits over the
    device number) and the software: the scan's label says what the tracker says."""
    encoder = HeartRateEncoder(
        STRAP, manufacturer_id=123, serial_upper=0x0042, software_version=17,
        background_every=1,
    )  # fmt: skip
    sent = _strap_pages(encoder, 2, 3)
    tracker = HeartRateTracker(STRAP)
    for page in sent:
        tracker.update(page)
    heard = {page.data[0] & 0x7F: page.data for page in sent}
    serial = (0x0042 << 16) | STRAP

    label = describe_heard(DEVICE_TYPE_HEART_RATE, heard, STRAP)

    assert label == f"Polar, serial {serial}, software 17"
    identity = tracker.identity
    assert (identity.manufacturer, identity.serial_number) == ("Polar", serial)
    assert identity.software_version == "17"


def test_a_strap_heard_without_its_number_is_labelled_without_a_serial() -> None:
    """Page 2 holds only the serial's upper half: without the device number the
    label leaves the serial out rather than show a wrong one."""
    encoder = HeartRateEncoder(
        STRAP, manufacturer_id=123, software_version=17, background_every=1
    )
    heard = {page.data[0] & 0x7F: page.data for page in _strap_pages(encoder, 2, 3)}
    assert describe_heard(DEVICE_TYPE_HEART_RATE, heard) == "Polar, software 17"

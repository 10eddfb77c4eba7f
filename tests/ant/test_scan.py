"""scan(), probe_stick() and the stick-open errors a rider can run into."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
import errno
import threading
import time
from typing import Any

from openant.base.driver import DriverNotFound
from openant.easy.exception import AntException
import pytest
from usb.core import NoBackendError, USBError

from custom_components.ridebalance.ant.identity import describe_heard
from custom_components.ridebalance.ant.scan import HeardDevice, probe_stick, scan
from custom_components.ridebalance.ant.stick import (
    ReceiverSettings,
)
from custom_components.ridebalance.ant.usb_errors import (
    AntStickBackendError,
    AntStickBusyError,
    AntStickError,
    AntStickNotFoundError,
    AntStickNotRespondingError,
    AntStickPermissionError,
    classify_open_error,
)
from tests.usbstick.air import Effort, Pedals
from tests.usbstick.backend import SimulatedStick

from .receiver_kit import (
    HRM,
    MANUFACTURER_PAGE,
    PEDALS,
    PRODUCT_PAGE,
    power_page,
    scan_with_channels,
    wait_for,
)

FAST = ReceiverSettings(
    stale_after_s=0.3,
    probe_timeout_s=0.3,
    batch_interval_s=0.05,
    backoff_initial_s=0.05,
    backoff_max_s=0.2,
    usb_error_pause_s=0.01,
)


def _scan_while_on_air(stick: SimulatedStick, **kwargs: Any) -> list[HeardDevice]:
    """Run a 0.5 s scan; the devices start sending once the stick listens."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(scan, 0.5, settings=FAST, **kwargs)
        assert wait_for(lambda: stick.scanning or len(stick.open_channels) == 3)
        _on_air(stick)
        return future.result(timeout=5)


def _on_air(stick: SimulatedStick) -> None:
    for event in range(3):
        page = bytes([0x10, event, 0xB2, 90, 0, 0, 250, 0])
        stick.queue_broadcast(11, 0x1234, page, tt=0x05)
    stick.queue_broadcast(11, 0x1234, MANUFACTURER_PAGE, tt=0x05)
    stick.queue_broadcast(17, 0x0BEE, bytes.fromhex("19 01 5A 00 00 FA 00 30"))
    stick.queue_broadcast(120, 0x00A7, bytes.fromhex("84 00 00 00 00 04 05 8C"))
    stick.queue_broadcast(120, 0x00A7, bytes.fromhex("04 00 00 00 00 08 06 8D"))
    stick.queue_broadcast(121, 0x0303, bytes(8))  # speed/cadence sensor


def _manufacturer(
    device_type: int, pages: Mapping[int, bytes], _number: int
) -> str | None:
    page = pages.get(0x50)
    if page is None:
        return None
    return f"type {device_type} mfr {int.from_bytes(page[4:6], 'little')}"


def _by_type(heard: list[HeardDevice]) -> dict[int, HeardDevice]:
    return {device.device_type: device for device in heard}


def test_a_strap_is_labelled_with_its_serial_in_a_scan(stick: SimulatedStick) -> None:
    """A strap's serial is its page 2's upper half over its own device number."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(scan, 0.5, settings=FAST, describe=describe_heard)
        assert wait_for(lambda: stick.scanning)
        # Page 2: manufacturer 1 (Garmin), serial upper half 0x0042.
        stick.queue_broadcast(120, 0x00A7, bytes.fromhex("82 01 42 00 00 08 06 8D"))
        heard = future.result(timeout=5)
    assert [d.description for d in heard] == [f"Garmin, serial {0x42 << 16 | 0x00A7}"]


@pytest.mark.usefixtures("no_thread_leak")
def test_scan_lists_every_device_heard(stick: SimulatedStick) -> None:
    heard = _scan_while_on_air(stick, describe=_manufacturer)

    assert [(d.device_type, d.device_number) for d in heard] == [
        (11, 0x1234),
        (17, 0x0BEE),
        (120, 0x00A7),
        (121, 0x0303),
    ]
    devices = _by_type(heard)
    pedals = devices[11]
    assert pedals.profile == "bicycle_power"
    assert pedals.page_count == 4
    assert pedals.manufacturer_page == MANUFACTURER_PAGE
    assert pedals.description == "type 11 mfr 288"
    assert devices[17].profile == "fitness_equipment"
    assert devices[17].manufacturer_page is None
    assert devices[17].description is None
    # Both heart-rate pages are page 4 (bit 7 only toggles): the latest is kept.
    assert devices[120].page_count == 2
    assert devices[120].pages == {4: bytes.fromhex("04 00 00 00 00 08 06 8D")}
    assert devices[121].profile == "speed_cadence"
    assert stick.scanning


@pytest.mark.usefixtures("no_thread_leak")
def test_scan_without_scan_mode_uses_wildcard_profile_channels(
    stick: SimulatedStick,
) -> None:
    stick.set_scan_supported(False)
    heard = _scan_while_on_air(stick)

    assert [(d.device_type, d.device_number) for d in heard] == [
        (11, 0x1234),
        (17, 0x0BEE),
        (120, 0x00A7),
    ]
    assert stick.open_channels == [(0, 11, 0), (1, 17, 0), (2, 120, 0)]
    assert stick.unheard == 1  # the speed sensor has no channel here


@pytest.mark.usefixtures("no_thread_leak")
def test_scan_without_scan_mode_lists_more_power_meters_than_an_exclusion_list_holds(
    stick: SimulatedStick,
) -> None:
    """Six power meters in range: the one power channel moves on after each device,
    excluding the last four it heard, so the sixth is listed too."""
    stick.set_scan_supported(False)
    stick.air.effort = Effort(power_w=200, cadence_rpm=85, left_pct=50)
    numbers = {0x1001 + i for i in range(6)}
    for i, number in enumerate(sorted(numbers)):
        stick.air.add(Pedals(number, phase_s=0.03 * i))
    heard = scan_with_channels(stick, 4.0)
    assert {d.device_number for d in heard if d.device_type == 11} == numbers


@pytest.mark.usefixtures("no_thread_leak")
def test_a_scan_stopped_while_the_stick_is_opening_ends_at_once(
    stick: SimulatedStick,
) -> None:
    """The dialog closed while a silent stick keeps the opening waiting."""
    stick.set_silent(True)
    stop = threading.Event()
    patient = replace(FAST, reply_timeout_s=30.0)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(scan, 60.0, settings=patient, stop=stop)
        assert wait_for(lambda: stick.drivers_opened == 1)
        time.sleep(0.2)  # waiting for the stick's first answer now
        started = time.monotonic()
        stop.set()
        assert future.result(timeout=10) == []
    assert time.monotonic() - started < 3
    assert not stick.in_use


@pytest.mark.usefixtures("no_thread_leak")
def test_scan_reports_a_stick_pulled_out_mid_scan(stick: SimulatedStick) -> None:
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(scan, 5.0, settings=FAST)
        time.sleep(0.3)
        started = time.monotonic()
        stick.unplug()
        with pytest.raises(AntStickNotFoundError):
            future.result(timeout=4)
        assert time.monotonic() - started < 2.5


@pytest.mark.usefixtures("no_thread_leak")
@pytest.mark.parametrize("scan_supported", [True, False])
def test_probe_reports_what_the_stick_can_do(
    stick: SimulatedStick, scan_supported: bool
) -> None:
    stick.set_scan_supported(scan_supported)
    info = probe_stick(FAST)
    assert info.scan_mode is scan_supported
    assert info.extended_messages
    assert info.max_channels == 8
    assert info.serial_number == stick.firmware.serial_number
    assert stick.scanning is False  # probing opens no channel


@pytest.mark.usefixtures("no_thread_leak")
def test_probe_without_a_stick_says_how_to_pass_one_through(
    stick: SimulatedStick,
) -> None:
    stick.unplug()
    with pytest.raises(AntStickNotFoundError) as caught:
        probe_stick(FAST)
    assert caught.value.reason == "not_found"
    assert "--device /dev/bus/usb" in caught.value.full_message
    assert "0FCF:1008" in caught.value.hint


@pytest.mark.usefixtures("no_thread_leak")
def test_probe_of_a_busy_stick_names_the_other_owner(stick: SimulatedStick) -> None:
    stick.set_open_error(errno.EBUSY)
    with pytest.raises(AntStickBusyError) as caught:
        probe_stick(FAST)
    assert "Zwift" in caught.value.hint
    assert isinstance(caught.value, AntStickError)


@pytest.mark.usefixtures("no_thread_leak")
def test_probe_without_permission_gives_the_udev_rule(stick: SimulatedStick) -> None:
    stick.set_open_error(errno.EACCES)
    with pytest.raises(AntStickPermissionError) as caught:
        probe_stick(FAST)
    assert (
        'SUBSYSTEM=="usb", ATTRS{idVendor}=="0fcf", ATTRS{idProduct}=="1008", '
        'MODE="0666"'
    ) in caught.value.hint
    assert caught.value.reason == "permission_denied"


def test_probe_with_the_real_driver_lookup_maps_openants_errors() -> None:
    # No fake installed: openant's own find_driver runs against this machine.
    try:
        info = probe_stick()
    except AntStickError as err:
        reason = err.reason
    else:  # pragma: no cover - only on a machine with a stick attached
        pytest.skip(f"a real ANT+ stick is attached: {info}")
    assert reason in {"not_found", "no_backend"}


@pytest.mark.parametrize(
    ("raised", "expected", "reason"),
    [
        (DriverNotFound(), AntStickNotFoundError, "not_found"),
        (ValueError("Device not found"), AntStickNotFoundError, "not_found"),
        (USBError("No such device", -4, 19), AntStickNotFoundError, "not_found"),
        (
            USBError("Access denied", -3, 13),
            AntStickPermissionError,
            "permission_denied",
        ),
        (USBError("Resource busy", -6, 16), AntStickBusyError, "busy"),
        (USBError("Resource busy", -6, None), AntStickBusyError, "busy"),
        (NoBackendError("No backend available"), AntStickBackendError, "no_backend"),
        (
            AntException("Timed out while waiting for message"),
            AntStickNotRespondingError,
            "not_responding",
        ),
        (USBError("Input/Output Error", -1, 5), AntStickError, "io_error"),
    ],
)
def test_open_errors_are_classified(
    raised: Exception, expected: type[AntStickError], reason: str
) -> None:
    err = classify_open_error(raised)
    assert type(err) is expected
    assert err.reason == reason
    assert err.full_message.startswith(err.message)
    assert err.hint in err.full_message
    assert str(err) == err.full_message  # printing it tells the rider the fix


def _scan_in_background(stick: SimulatedStick, **kwargs: Any) -> Any:
    pool = ThreadPoolExecutor(1)
    future = pool.submit(scan, 0.5, settings=FAST, **kwargs)
    pool.shutdown(wait=False)
    assert wait_for(lambda: stick.scanning)
    return future


def test_scan_keeps_identity_pages_and_survives_a_failing_label(
    stick: SimulatedStick,
) -> None:
    """Devices whose label cannot be worked out are still listed, unlabelled."""

    def describe(device_type: int, pages: Any, _number: int) -> str | None:
        if device_type == 120:
            raise ValueError("strap page 2 garbled")
        return "Favero" if 0x50 in pages else None

    future = _scan_in_background(stick, describe=describe)
    stick.queue_broadcast(11, PEDALS, power_page(1), tt=5)
    stick.queue_broadcast(11, PEDALS, MANUFACTURER_PAGE, tt=5)
    stick.queue_broadcast(11, PEDALS, PRODUCT_PAGE, tt=5)
    stick.queue_broadcast(120, HRM, bytes.fromhex("04 00 00 00 00 04 05 8C"))
    heard: list[HeardDevice] = future.result(timeout=5)
    pedals, strap = heard
    assert (pedals.device_number, pedals.description) == (PEDALS, "Favero")
    assert pedals.product_page == PRODUCT_PAGE
    assert pedals.manufacturer_page == MANUFACTURER_PAGE
    assert (strap.device_number, strap.description) == (HRM, None)
    assert strap.product_page is None


def test_scan_reports_a_usb_error_that_is_not_an_unplug(stick: SimulatedStick) -> None:
    """A flaky cable during the scan is an error, but not "stick not found"."""
    future = _scan_in_background(stick)
    stick.fail_next_read(errno.EIO)
    with pytest.raises(AntStickError) as caught:
        future.result(timeout=5)
    assert not isinstance(caught.value, AntStickNotFoundError)
    assert "Input/output error" in str(caught.value)

"""The ANT+ stick in Home Assistant: frames in, entity states out, unplug and back,
a flapping stick, the neighbours' devices."""

from __future__ import annotations

from datetime import timedelta
import threading

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    EVENT_HOMEASSISTANT_STOP,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ridebalance.ant.pages import (
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
    DEVICE_TYPE_HEART_RATE,
)
from custom_components.ridebalance.const import (
    DOMAIN,
)
from custom_components.ridebalance.sim.emulators import (
    HeartRateEncoder,
    PedalEncoder,
    TrainerEncoder,
)
from tests.ant.receiver_kit import broadcast_frame
from tests.usbstick.backend import SimulatedStick

from .ant_stick import HRM, ISSUE_ID, PEDALS
from .helpers import number, set_up, state, until


class Rider:
    """Plays pedals (and a strap) on the fake stick's air, page by page."""

    def __init__(self, stick: SimulatedStick) -> None:
        self.stick = stick
        self.pedals = PedalEncoder(PEDALS, common_every=8)
        self.strap = HeartRateEncoder(HRM, background_every=8)
        self.t_s = 0.0

    def ride(self, pages: int, power_w: float, left_pct: float, hr: float) -> None:
        """Queue ``pages`` pedal broadcasts (4 Hz) and a strap broadcast with each."""
        for _ in range(pages):
            self.t_s += 0.25
            pedal = self.pedals.page(self.t_s, power_w, left_pct, 90.0)
            self.stick.queue_broadcast(
                DEVICE_TYPE_BICYCLE_POWER, PEDALS, pedal.data, pedal.transmission_type
            )
            beat = self.strap.page(self.t_s, hr)
            self.stick.queue_broadcast(
                DEVICE_TYPE_HEART_RATE, HRM, beat.data, beat.transmission_type
            )


async def test_pedal_pages_become_rider_sensors(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """250 W at 52 % left on the air reads 250 W and 52 % left in Home Assistant."""
    await set_up(hass, ant_entry)
    rider = Rider(stick)
    rider.ride(4, 250.0, 52.0, 140.0)  # before any identity page
    await until(hass, lambda: number(hass, "sensor.ant_rider_power") is not None)
    # The pedals are a device from their first page on, named by number for now.
    connectivity = "binary_sensor.ant_pedals_12345_connectivity"
    await until(hass, lambda: hass.states.get(connectivity) is not None)
    assert state(hass, connectivity) == "on"

    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": "button.ant_rider_start_session"},
        blocking=True,
    )
    rider.ride(24, 250.0, 52.0, 140.0)
    await until(hass, lambda: number(hass, "sensor.ant_rider_left_balance") is not None)
    await until(
        hass, lambda: ant_entry.runtime_data.source.diagnostics()["samples"] > 20
    )
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()

    assert number(hass, "sensor.ant_rider_power") == pytest.approx(250, abs=1)
    assert number(hass, "sensor.ant_rider_left_balance") == pytest.approx(52, abs=0.6)
    assert number(hass, "sensor.ant_rider_cadence") == pytest.approx(90, abs=1)
    assert number(hass, "sensor.ant_rider_heart_rate") == pytest.approx(140, abs=1)

    # Once their identity pages have been heard, the pedals and the strap are
    # named after their brand; their entities keep their ids.
    registry = dr.async_get(hass)
    names = {
        device.name
        for device in dr.async_entries_for_config_entry(registry, ant_entry.entry_id)
    }
    assert "Favero pedals 12345" in names
    assert "Garmin heart rate strap 777" in names
    pedals = registry.async_get_device_by_identifier(
        (DOMAIN, f"{ant_entry.entry_id}_pedals_{PEDALS}"), ant_entry.entry_id
    )
    assert pedals is not None
    assert pedals.manufacturer == "Favero Electronics"
    assert pedals.serial_number == "123456789"
    assert pedals.sw_version == "4.2"
    assert state(hass, connectivity) == "on"
    await hass.config_entries.async_unload(ant_entry.entry_id)


async def test_unplug_makes_entities_unavailable_until_replug(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """Unplugging raises a repair issue; replugging brings values back, no reload."""
    await set_up(hass, ant_entry)
    rider = Rider(stick)
    rider.ride(8, 200.0, 50.0, 120.0)
    await until(hass, lambda: number(hass, "sensor.ant_rider_power") is not None)
    issues = ir.async_get(hass)

    stick.unplug()
    await until(
        hass, lambda: state(hass, "sensor.ant_rider_power") == STATE_UNAVAILABLE
    )
    issue = issues.async_get_issue(DOMAIN, ISSUE_ID)
    assert issue is not None
    assert issue.translation_key == "stick_not_found"
    assert issue.severity is ir.IssueSeverity.ERROR

    stick.replug()
    await until(hass, lambda: issues.async_get_issue(DOMAIN, ISSUE_ID) is None)
    rider.ride(8, 300.0, 50.0, 130.0)
    await until(hass, lambda: number(hass, "sensor.ant_rider_power") == 300)
    assert ant_entry.state is ConfigEntryState.LOADED
    assert ant_entry.runtime_data.source.diagnostics()["receiver"]["reconnects"] == 1
    await hass.config_entries.async_unload(ant_entry.entry_id)


async def test_busy_stick_raises_a_repair_issue_with_the_fix(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """A stick owned by Zwift or another integration: setup waits, the fix is named."""
    stick.set_open_error(16)
    ant_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(ant_entry.entry_id)
    assert ant_entry.state is ConfigEntryState.SETUP_RETRY
    assert "busy" in (ant_entry.reason or "")
    issues = ir.async_get(hass)
    issue = issues.async_get_issue(DOMAIN, ISSUE_ID)
    assert issue is not None
    assert issue.translation_key == "stick_busy"
    assert hass.states.get("sensor.ant_rider_power") is None

    stick.set_open_error(None)  # the other program let go
    await until(hass, lambda: ant_entry.state is ConfigEntryState.LOADED, 30)
    await until(hass, lambda: issues.async_get_issue(DOMAIN, ISSUE_ID) is None)
    await hass.config_entries.async_unload(ant_entry.entry_id)


async def test_malformed_frames_are_counted_not_raised(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """Line noise and broken pages show in diagnostics; readings keep coming."""
    await set_up(hass, ant_entry)
    source = ant_entry.runtime_data.source
    rider = Rider(stick)
    rider.ride(4, 220.0, 50.0, 120.0)
    await until(hass, lambda: source.diagnostics()["samples"] > 0)

    good = broadcast_frame(0, bytes(8), DEVICE_TYPE_BICYCLE_POWER, PEDALS, 5)
    stick.queue_raw(b"\xa4\x09\x4e\x00garbage" + good[:-1] + b"\x00")  # bad checksums
    rider.ride(8, 220.0, 50.0, 120.0)
    await until(hass, lambda: source.diagnostics()["samples"] > 4)
    diagnostics = source.diagnostics()
    assert diagnostics["receiver"]["malformed_frames"] >= 1
    pedals = next(d for d in diagnostics["devices"] if d["role"] == "pedals")
    assert pedals["pages_received"] >= 12
    assert number(hass, "sensor.ant_rider_power") is not None
    assert ant_entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(ant_entry.entry_id)


async def test_an_impossible_balance_byte_costs_the_balance_not_the_power(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """Pedals that send a share above 100 % still show their power and cadence."""
    await set_up(hass, ant_entry)
    source = ant_entry.runtime_data.source
    pedals = PedalEncoder(PEDALS, common_every=0)
    for n in range(1, 25):
        data = pedals.page(n / 4, 240.0, 50.0, 88.0).data
        stick.queue_broadcast(
            DEVICE_TYPE_BICYCLE_POWER, PEDALS, data[:2] + b"\xe5" + data[3:], 5
        )
    await until(hass, lambda: source.diagnostics()["samples"] > 20)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()
    assert number(hass, "sensor.ant_rider_power") == pytest.approx(240, abs=1)
    assert number(hass, "sensor.ant_rider_cadence") == pytest.approx(88, abs=1)
    assert state(hass, "sensor.ant_rider_left_balance") == STATE_UNKNOWN
    device = next(d for d in source.diagnostics()["devices"] if d["role"] == "pedals")
    assert device["pages_malformed"] == 0
    await hass.config_entries.async_unload(ant_entry.entry_id)


async def test_unload_joins_every_thread(
    hass: HomeAssistant,
    stick: SimulatedStick,
    ant_entry: MockConfigEntry,
) -> None:
    """After unloading, no receiver or openant thread is left running."""
    before = set(threading.enumerate())
    ant_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ant_entry.entry_id)
    await until(
        hass, lambda: any(t.name == "ridebalance-ant" for t in threading.enumerate())
    )
    Rider(stick).ride(4, 200.0, 50.0, 120.0)
    await until(
        hass, lambda: ant_entry.runtime_data.source.diagnostics()["samples"] > 0
    )

    assert await hass.config_entries.async_unload(ant_entry.entry_id)
    await hass.async_block_till_done()
    # Home Assistant's executor may have grown meanwhile; nothing else may have.
    left = {
        t.name
        for t in set(threading.enumerate()) - before
        if not t.name.startswith("SyncWorker")
    }
    assert left == set()
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID) is None


async def test_home_assistant_stop_closes_the_stick(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """When Home Assistant stops, the receiver's threads end with it."""
    ant_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ant_entry.entry_id)
    await until(hass, lambda: stick.scanning)

    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    assert not [t for t in threading.enumerate() if t.name.startswith("ridebalance")]
    assert not [t for t in threading.enumerate() if t.name.startswith("openant")]
    await hass.config_entries.async_unload(ant_entry.entry_id)


NEIGHBOURS_TRAINER = 4242


async def test_a_stick_that_does_not_answer_at_setup_retries_without_an_issue(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """Nothing the rider can fix in a repair: setup is retried, no issue raised."""
    stick.set_silent(True)
    ant_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(ant_entry.entry_id)
    assert ant_entry.state is ConfigEntryState.SETUP_RETRY
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID) is None
    await hass.config_entries.async_unload(ant_entry.entry_id)


async def test_a_neighbours_trainer_is_counted_but_not_tracked(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """Without a paired trainer, FE-C pages in the room are only diagnostics."""
    await set_up(hass, ant_entry)
    source = ant_entry.runtime_data.source
    trainer = TrainerEncoder(NEIGHBOURS_TRAINER, common_every=4)
    rider = Rider(stick)
    for i in range(8):  # the neighbour rides at the same time as the rider
        for page in trainer.pages(0.25 * (i + 1), 180.0, 85.0):
            if page.device_type == DEVICE_TYPE_FITNESS_EQUIPMENT:
                stick.queue_broadcast(
                    page.device_type, page.device_number, page.data, 0x05
                )
        rider.ride(1, 230.0, 51.0, 135.0)
    await until(hass, lambda: source.diagnostics()["receiver"]["pages_filtered"] >= 8)
    rider.ride(8, 230.0, 51.0, 135.0)
    await until(hass, lambda: number(hass, "sensor.ant_rider_power") == 230)
    diagnostics = source.diagnostics()
    assert {d["role"] for d in diagnostics["devices"]} == {"pedals", "heart_rate"}
    assert all(d["device_number"] != NEIGHBOURS_TRAINER for d in diagnostics["devices"])
    await hass.config_entries.async_unload(ant_entry.entry_id)


async def test_a_flapping_stick_shows_the_issue_that_fits_each_moment(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """Unplugged, back with a USB error, unplugged again, back but taken by Zwift,
    then free: the repair issue follows, and readings return without a reload."""
    await set_up(hass, ant_entry)
    source = ant_entry.runtime_data.source
    issues = ir.async_get(hass)

    def issue_key() -> str | None:
        issue = issues.async_get_issue(DOMAIN, ISSUE_ID)
        return None if issue is None else issue.translation_key

    def receiver_state() -> str:
        return str(source.diagnostics()["receiver"]["state"])

    rider = Rider(stick)
    rider.ride(24, 200.0, 50.0, 120.0)
    await until(hass, lambda: source.diagnostics()["samples"] >= 20)

    stick.unplug()
    await until(hass, lambda: issue_key() == "stick_not_found")
    assert state(hass, "sensor.ant_rider_power") == STATE_UNAVAILABLE

    stick.set_open_error(5)  # back, but the hub throws I/O errors
    stick.replug()
    await until(hass, lambda: receiver_state() == "error")
    # Not something a repair can explain: the earlier issue is kept.
    assert issue_key() == "stick_not_found"

    stick.unplug()
    await until(hass, lambda: receiver_state() == "disconnected")
    assert issue_key() == "stick_not_found"

    stick.set_open_error(16)  # back, but another program holds it
    stick.replug()
    await until(hass, lambda: issue_key() == "stick_busy")

    stick.set_open_error(None)
    await until(hass, lambda: issue_key() is None)
    rider.ride(8, 260.0, 50.0, 125.0)
    await until(hass, lambda: number(hass, "sensor.ant_rider_power") == 260)
    assert ant_entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(ant_entry.entry_id)


async def test_a_usb_glitch_while_riding_raises_no_issue(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """One I/O error mid-ride: the stick is reopened, nothing for the rider to fix."""
    await set_up(hass, ant_entry)
    source = ant_entry.runtime_data.source
    rider = Rider(stick)
    rider.ride(8, 210.0, 50.0, 120.0)
    await until(hass, lambda: number(hass, "sensor.ant_rider_power") == 210)

    stick.fail_next_read(5)
    await until(hass, lambda: source.diagnostics()["receiver"]["reconnects"] == 1)
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID) is None
    rider.ride(8, 240.0, 50.0, 120.0)
    await until(hass, lambda: number(hass, "sensor.ant_rider_power") == 240)

    # The pedals keep their brand name through the reopening and after it.
    registry = dr.async_get(hass)

    def pedals_name() -> str | None:
        device = registry.async_get_device_by_identifier(
            (DOMAIN, f"{ant_entry.entry_id}_pedals_{PEDALS}"), ant_entry.entry_id
        )
        return None if device is None else device.name

    assert pedals_name() == "Favero pedals 12345"
    rider.ride(8, 250.0, 50.0, 120.0)
    await until(hass, lambda: number(hass, "sensor.ant_rider_power") == 250)
    assert pedals_name() == "Favero pedals 12345"
    await hass.config_entries.async_unload(ant_entry.entry_id)


@pytest.mark.parametrize(
    "ride", [(60.0, 80.0, None), (60.0, 40.0, 45.0), (30.0, 20.0, 45.0)]
)
async def test_the_riders_power_floor_decides_whether_a_balance_counts(
    hass: HomeAssistant,
    stick: SimulatedStick,
    ant_entry: MockConfigEntry,
    ride: tuple[float, float, float | None],
) -> None:
    """45 % left at 60 W: hidden with an 80 W power floor, shown with 40 W; at
    30 W a 20 W floor shows it too (no second, fixed floor in the pedals' path)."""
    power_w, floor_w, shown = ride
    await set_up(hass, ant_entry)
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.ant_rider_power_floor", "value": floor_w},
        blocking=True,
    )
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": "button.ant_rider_start_session"},
        blocking=True,
    )
    rider = Rider(stick)
    rider.ride(60, power_w, 45.0, 120.0)
    source = ant_entry.runtime_data.source
    await until(hass, lambda: source.diagnostics()["samples"] >= 50, timeout_s=10.0)
    await until(hass, lambda: number(hass, "sensor.ant_rider_power") == power_w)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await hass.async_block_till_done()

    balance = number(hass, "sensor.ant_rider_left_balance")
    if shown is None:
        assert balance is None
    else:
        assert balance == pytest.approx(shown, abs=0.6)
    await hass.config_entries.async_unload(ant_entry.entry_id)

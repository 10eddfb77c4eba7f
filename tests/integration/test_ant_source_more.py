"""The ANT+ source in Home Assistant: a flapping stick, neighbours, odd labels."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ridebalance.ant.encode import TrainerEncoder
from custom_components.ridebalance.ant.pages import (
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
)
from custom_components.ridebalance.const import (
    DOMAIN,
)
from custom_components.ridebalance.sources.ant import describe_heard
from tests.ant.fake_driver import FakeStick

from .ant_stick import ISSUE_ID, PEDALS
from .test_ant_source import Rider, number, state, until

NEIGHBOURS_TRAINER = 4242
SPEED_CADENCE = 121


def test_scan_labels_stay_empty_for_what_cannot_name_a_brand() -> None:
    """A speed/cadence sensor's or a garbled page 0x50 gives no label, no error."""
    manufacturer = bytes.fromhex("50 FF FF 01 20 01 0A 00")
    assert describe_heard(SPEED_CADENCE, {0x50: manufacturer}) is None
    assert describe_heard(DEVICE_TYPE_BICYCLE_POWER, {0x50: manufacturer[:5]}) is None
    assert describe_heard(DEVICE_TYPE_BICYCLE_POWER, {0x10: bytes(8)}) is None


async def test_a_stick_that_does_not_answer_at_setup_retries_without_an_issue(
    hass: HomeAssistant, stick: FakeStick, ant_entry: MockConfigEntry
) -> None:
    """Nothing the rider can fix in a repair: setup is retried, no issue raised."""
    stick.set_silent(True)
    ant_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(ant_entry.entry_id)
    assert ant_entry.state is ConfigEntryState.SETUP_RETRY
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_ID) is None
    await hass.config_entries.async_unload(ant_entry.entry_id)


async def test_a_neighbours_trainer_is_counted_but_not_tracked(
    hass: HomeAssistant, stick: FakeStick, ant_entry: MockConfigEntry
) -> None:
    """Without a paired trainer, FE-C pages in the room are only diagnostics."""
    ant_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ant_entry.entry_id)
    await hass.async_block_till_done()
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
    await until(hass, lambda: source.diagnostics()["filtered_pages"].get("17", 0) >= 8)
    rider.ride(8, 230.0, 51.0, 135.0)
    await until(hass, lambda: number(hass, "sensor.ant_rider_power") == 230)
    diagnostics = source.diagnostics()
    assert {d["role"] for d in diagnostics["devices"]} == {"pedals", "heart_rate"}
    assert all(d["device_number"] != NEIGHBOURS_TRAINER for d in diagnostics["devices"])
    await hass.config_entries.async_unload(ant_entry.entry_id)


async def test_a_flapping_stick_shows_the_issue_that_fits_each_moment(
    hass: HomeAssistant, stick: FakeStick, ant_entry: MockConfigEntry
) -> None:
    """Unplugged, back with a USB error, unplugged again, back but taken by Zwift,
    then free: the repair issue follows, and readings return without a reload."""
    ant_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ant_entry.entry_id)
    await hass.async_block_till_done()
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
    hass: HomeAssistant, stick: FakeStick, ant_entry: MockConfigEntry
) -> None:
    """One I/O error mid-ride: the stick is reopened, nothing for the rider to fix."""
    ant_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(ant_entry.entry_id)
    await hass.async_block_till_done()
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

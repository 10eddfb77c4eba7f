"""Every entity of every platform, as registered and as shown mid-ride."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
)
from syrupy.assertion import SnapshotAssertion

START = "2026-03-01T07:00:00+00:00"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots that leave out registry ids and timestamps, as core's tests do."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


# Twelve ride minutes at 60x: the first steady block at about 210 W, 50/50.
RIDE_S = 12


async def _set_up_and_ride(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    platforms: list[Platform],
) -> None:
    freezer.move_to(START)
    entry.add_to_hass(hass)
    with patch("custom_components.ridebalance.PLATFORMS", platforms):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        for _ in range(RIDE_S):
            freezer.tick(timedelta(seconds=1))
            async_fire_time_changed(hass)
            await hass.async_block_till_done()
        # The publish clock and the simulator's clock fall due at the same instant
        # in no fixed order; one more pass at the same instant publishes whatever
        # the last tick delivered, so the states do not depend on that order.
        async_fire_time_changed(hass, fire_all=True)
        await hass.async_block_till_done()


@pytest.mark.usefixtures("enable_all_entities")
@pytest.mark.parametrize(
    "platform",
    [
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.EVENT,
        Platform.NUMBER,
        Platform.SENSOR,
        Platform.SWITCH,
    ],
)
async def test_platform_entities(  # noqa: PLR0917 - pytest passes fixtures by name
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    sim_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    platform: Platform,
) -> None:
    """Registry entries and states of one platform, twelve minutes into a ride."""
    await _set_up_and_ride(hass, sim_entry, freezer, [platform])
    await snapshot_platform(hass, entity_registry, snapshot, sim_entry.entry_id)
    assert await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_detail_sensors_are_disabled_by_default(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    sim_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """3 s power, TE, PS, PCO, power phase and last-seen wait until asked."""
    await _set_up_and_ride(hass, sim_entry, freezer, [Platform.SENSOR])
    disabled = {
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, sim_entry.entry_id)
        if e.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    }
    assert disabled == {
        "sensor.simulated_rider_power_3_s",
        "sensor.simulated_rider_torque_effectiveness_left",
        "sensor.simulated_rider_torque_effectiveness_right",
        "sensor.simulated_rider_pedal_smoothness_left",
        "sensor.simulated_rider_pedal_smoothness_right",
        "sensor.simulated_pedals_last_seen",
        "sensor.simulated_trainer_last_seen",
        "sensor.simulated_heart_rate_strap_last_seen",
        "sensor.simulated_rider_left_platform_centre_offset",
        "sensor.simulated_rider_right_platform_centre_offset",
        "sensor.simulated_rider_left_power_phase_start",
        "sensor.simulated_rider_left_power_phase_end",
        "sensor.simulated_rider_right_power_phase_start",
        "sensor.simulated_rider_right_power_phase_end",
    }
    assert hass.states.get("sensor.simulated_rider_torque_effectiveness_left") is None
    assert await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_devices(
    hass: HomeAssistant,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    sim_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The rider, and each simulated sensor as its identity pages describe it."""
    await _set_up_and_ride(hass, sim_entry, freezer, [Platform.SENSOR])
    devices = sorted(
        dr.async_entries_for_config_entry(device_registry, sim_entry.entry_id),
        key=lambda d: d.name or "",
    )
    assert [d.name for d in devices] == snapshot(name="names")
    for device in devices:
        assert device == snapshot(name=device.name or "")
    assert await hass.config_entries.async_unload(sim_entry.entry_id)

"""Other integrations' entities as the source of readings."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ridebalance.const import (
    CONF_BALANCE_ENTITY,
    CONF_BALANCE_SIDE,
    CONF_CADENCE_ENTITY,
    CONF_HEART_RATE_ENTITY,
    CONF_POWER_ENTITY,
    CONF_SOURCE,
    DOMAIN,
    SourceKind,
)


def _entry(side: str) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Trainer room",
        unique_id="sensor.kickr_power",
        data={
            CONF_SOURCE: SourceKind.ENTITIES.value,
            CONF_POWER_ENTITY: "sensor.kickr_power",
            CONF_CADENCE_ENTITY: "sensor.kickr_cadence",
            CONF_BALANCE_ENTITY: "sensor.pedals_balance",
            CONF_BALANCE_SIDE: side,
            CONF_HEART_RATE_ENTITY: "sensor.strap_heart_rate",
        },
    )


async def _tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int
) -> None:
    for _ in range(seconds):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


def _value(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


@pytest.mark.parametrize(
    ("side", "reported", "left"), [("right", 47, 53), ("left", 53, 53)]
)
async def test_entities_drive_the_rider(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    side: str,
    reported: float,
    left: float,
) -> None:
    """Steady readings (no state changes at all) still make a ride."""
    hass.states.async_set("sensor.kickr_power", "230")
    hass.states.async_set("sensor.kickr_cadence", "91")
    hass.states.async_set("sensor.pedals_balance", str(reported))
    hass.states.async_set("sensor.strap_heart_rate", "142")
    entry = _entry(side)
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    for _ in range(90):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
    await hass.async_block_till_done()

    assert _value(hass, "sensor.trainer_room_power") == "230"
    assert _value(hass, "sensor.trainer_room_cadence") == "91"
    assert _value(hass, "sensor.trainer_room_heart_rate") == "142"
    assert float(_value(hass, "sensor.trainer_room_left_balance")) == left
    assert _value(hass, "binary_sensor.trainer_room_riding") == "on"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_power_entity_unavailable_makes_the_rider_unavailable(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """No number from the power entity: entities go unavailable, then come back."""
    hass.states.async_set("sensor.kickr_power", "200")
    hass.states.async_set("sensor.pedals_balance", "not a number")
    entry = _entry("left")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await _tick(hass, freezer, 3)
    assert _value(hass, "sensor.trainer_room_power") == "200"

    hass.states.async_set("sensor.kickr_power", STATE_UNAVAILABLE)
    await _tick(hass, freezer, 3)
    assert _value(hass, "sensor.trainer_room_power") == STATE_UNAVAILABLE

    hass.states.async_set("sensor.kickr_power", "210")
    await _tick(hass, freezer, 3)
    assert _value(hass, "sensor.trainer_room_power") == "210"
    diagnostics = entry.runtime_data.source.diagnostics()
    assert diagnostics["balance_side"] == "left"
    assert diagnostics["samples"] >= 2
    await hass.config_entries.async_unload(entry.entry_id)

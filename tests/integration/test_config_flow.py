"""The config flow: choosing a source."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ridebalance.const import CONF_SOURCE, CONF_SPEED, DOMAIN


async def test_simulator_happy_path(hass: HomeAssistant) -> None:
    """A rider without hardware picks the simulator and gets an entry."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "simulator" in result["menu_options"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "simulator"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "simulator"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SPEED: 10}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Simulated rider"
    assert result["data"] == {CONF_SOURCE: "simulator"}
    assert result["options"] == {CONF_SPEED: 10.0}
    entry = result["result"]
    assert entry.unique_id == "simulator"
    await hass.async_block_till_done()
    assert hass.states.get("sensor.simulated_rider_power") is not None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_simulator_only_once(
    hass: HomeAssistant, sim_entry: MockConfigEntry
) -> None:
    """A second simulator entry is refused: one entry per source."""
    sim_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "simulator"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_options_change_speed(
    hass: HomeAssistant, sim_entry: MockConfigEntry
) -> None:
    """The simulator's speed can be changed later; the entry reloads with it."""
    sim_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(sim_entry.entry_id)
    await hass.async_block_till_done()

    result = await hass.config_entries.options.async_init(sim_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SPEED: 5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert sim_entry.options[CONF_SPEED] == 5.0
    assert sim_entry.runtime_data.source.diagnostics()["speed"] == 5.0
    await hass.config_entries.async_unload(sim_entry.entry_id)

"""The config flow's less travelled paths: odd input, odd entries, odd failures."""

from __future__ import annotations

from functools import partial
import threading
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ridebalance as integration
from custom_components.ridebalance import config_flow
from custom_components.ridebalance.ant.scan import scan
from custom_components.ridebalance.const import (
    CONF_BALANCE_ENTITY,
    CONF_BALANCE_SIDE,
    CONF_CADENCE_ENTITY,
    CONF_HEART_RATE,
    CONF_HEART_RATE_ENTITY,
    CONF_PEDALS,
    CONF_POWER_ENTITY,
    CONF_SOURCE,
    CONF_TRAINER,
    DOMAIN,
)
from custom_components.ridebalance.sources.ant import AntSource
from tests.ant.fake_driver import FakeStick, wait_for

from .test_config_flow import (
    FAST,
    HRM,
    PEDALS,
    TRAINER,
    ant_entry,
    finish_scan,
    options_of,
    rider_on_air,
    start_reconfigure,
    state_of,
)


@pytest.fixture
def stick(monkeypatch: pytest.MonkeyPatch) -> FakeStick:
    """A fake stick; the flow scans briefly and entries use short timings."""
    fake = FakeStick()
    fake.install(monkeypatch)
    monkeypatch.setattr(config_flow, "SCAN_SECONDS", 0.6)
    monkeypatch.setattr(config_flow, "STICK_SETTINGS", FAST)
    monkeypatch.setattr(integration, "AntSource", partial(AntSource, settings=FAST))
    return fake


async def open_ant_form(hass: HomeAssistant) -> Any:
    """The user menu, then the ANT+ stick's form."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "ant"}
    )


def default_of(result: Any, key: str) -> Any:
    """The value a form field is pre-filled with."""
    for marker in result["data_schema"].schema:
        if marker == key:
            return marker.default()
    raise AssertionError(f"{key} is not in the form")


def receiver_threads_gone() -> bool:
    """No receiver or openant thread is running (the scan has let go)."""
    return not any(
        t.name.startswith(("ridebalance-ant", "openant")) for t in threading.enumerate()
    )


async def test_a_number_too_big_for_ant_is_refused_and_the_typing_kept(
    hass: HomeAssistant, stick: FakeStick
) -> None:
    """A 7-digit number (beyond 20 bits) is refused; the form keeps what was typed."""
    rider_on_air(stick)
    result = await open_ant_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    assert default_of(result, CONF_PEDALS) == str(PEDALS)  # first heard

    for typed in ("1048576", "0", "-5"):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_PEDALS: typed, CONF_TRAINER: str(TRAINER), CONF_HEART_RATE: "none"},
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "invalid_device_number"}
        # What the rider typed and chose stays in the form to be corrected.
        assert default_of(result, CONF_PEDALS) == typed
        assert default_of(result, CONF_TRAINER) == str(TRAINER)
        assert default_of(result, CONF_HEART_RATE) == "none"

    # The largest 20-bit number is a valid device number.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PEDALS: "1048575", CONF_TRAINER: "none", CONF_HEART_RATE: str(HRM)},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_PEDALS] == 1048575
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)


async def test_an_unexpected_failure_opening_the_stick_is_unknown(
    hass: HomeAssistant, stick: FakeStick, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug below the flow shows "unknown" on the form instead of a broken dialog."""

    def broken_probe(_settings: object) -> None:
        raise RuntimeError("libusb handed back garbage")

    monkeypatch.setattr(config_flow, "probe_stick", broken_probe)
    result = await open_ant_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "ant"
    assert result["errors"] == {"base": "unknown"}
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_an_unexpected_failure_while_listening_can_be_retried(
    hass: HomeAssistant, stick: FakeStick, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan that breaks for no known reason says "unknown"; listening again works."""

    def broken_scan(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("openant thread died")

    monkeypatch.setattr(config_flow, "scan", broken_scan)
    result = await open_ant_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "scan_failed"
    assert result["errors"] == {"base": "unknown"}

    monkeypatch.setattr(config_flow, "scan", scan)
    rider_on_air(stick)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    assert [o["value"] for o in options_of(result, CONF_PEDALS)] == [str(PEDALS)]
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_closing_the_dialog_while_it_listens_frees_the_stick(
    hass: HomeAssistant, stick: FakeStick
) -> None:
    """Abandoned mid-scan: no flow is left, and the next setup can listen again."""
    result = await open_ant_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert await hass.async_add_executor_job(wait_for, lambda: stick.scanning)

    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress() == []
    assert await hass.async_add_executor_job(wait_for, receiver_threads_gone)

    rider_on_air(stick)
    result = await open_ant_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    hass.config_entries.flow.async_abort(result["flow_id"])


async def test_reconfigure_of_a_stopped_entry_leaves_it_stopped(
    hass: HomeAssistant, stick: FakeStick
) -> None:
    """An entry that is not running is not started by a reconfigure left half-way;
    a finished one stores the new devices and starts it."""
    entry = ant_entry()
    entry.add_to_hass(hass)
    assert entry.state is ConfigEntryState.NOT_LOADED

    result = await start_reconfigure(hass, entry)
    assert result["step_id"] == "reconfigure_ant"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    assert result["step_id"] == "pick"
    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    assert state_of(entry) is ConfigEntryState.NOT_LOADED

    rider_on_air(stick)
    result = await start_reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await finish_scan(hass, result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PEDALS: str(PEDALS), CONF_TRAINER: "none", CONF_HEART_RATE: str(HRM)},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_HEART_RATE] == HRM
    await hass.async_block_till_done()
    # Finishing it starts the entry with the devices just picked.
    assert state_of(entry) is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


def entities_entry(power: str, entry_id: str) -> MockConfigEntry:
    """A rider fed by another integration's power sensor."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Rider",
        unique_id=power,
        data={
            CONF_SOURCE: "entities",
            CONF_POWER_ENTITY: power,
            CONF_CADENCE_ENTITY: None,
            CONF_BALANCE_ENTITY: None,
            CONF_BALANCE_SIDE: "left",
            CONF_HEART_RATE_ENTITY: None,
        },
        entry_id=entry_id,
    )


async def test_reconfigure_entities_refuses_taken_or_repeated_sensors(
    hass: HomeAssistant,
) -> None:
    """Another rider's power sensor aborts; one sensor picked twice is an error."""
    trainer_rider = entities_entry("sensor.kickr_power", "kickr_entry")
    pedal_rider = entities_entry("sensor.assioma_power", "assioma_entry")
    trainer_rider.add_to_hass(hass)
    pedal_rider.add_to_hass(hass)

    result = await start_reconfigure(hass, trainer_rider)
    assert result["step_id"] == "reconfigure_entities"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_POWER_ENTITY: "sensor.kickr_power",
            CONF_CADENCE_ENTITY: "sensor.kickr_power",
            CONF_BALANCE_SIDE: "left",
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "same_entity_twice"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_POWER_ENTITY: "sensor.assioma_power", CONF_BALANCE_SIDE: "left"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    # Neither rider changed.
    assert trainer_rider.data[CONF_POWER_ENTITY] == "sensor.kickr_power"
    assert trainer_rider.unique_id == "sensor.kickr_power"
    assert pedal_rider.data[CONF_POWER_ENTITY] == "sensor.assioma_power"

"""A gateway through a real mosquitto and Home Assistant's own MQTT integration."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
import logging
import subprocess

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ridebalance.const import (
    CONF_GATEWAY,
    CONF_HEART_RATE,
    CONF_PEDALS,
    CONF_SOURCE,
    CONF_TOPIC_PREFIX,
    CONF_TRAINER,
    DOMAIN,
    SourceKind,
)
from custom_components.ridebalance.sim.rider import (
    SIM_HEART_RATE,
    SIM_PEDALS,
    SIM_TRAINER,
)
from custom_components.ridebalance.sources.gateway import (
    OFFLINE_ISSUE_AFTER,
    gateway_issue_id,
)
from tests.mqtt_broker import Broker

type StartGateway = Callable[..., subprocess.Popen[str]]
type SetupMqtt = Callable[[Broker], Awaitable[MockConfigEntry]]

POWER = "sensor.gym_rider_power"
CADENCE = "sensor.gym_rider_cadence"
HEART_RATE = "sensor.gym_rider_heart_rate"


def gateway_entry(gateway_id: str) -> MockConfigEntry:
    """The simulated rider's devices, heard through gateway ``gateway_id``."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Gym rider",
        unique_id=f"ridebalance/{gateway_id}",
        data={
            CONF_SOURCE: SourceKind.GATEWAY.value,
            CONF_GATEWAY: gateway_id,
            CONF_TOPIC_PREFIX: "ridebalance",
            CONF_PEDALS: SIM_PEDALS,
            CONF_TRAINER: SIM_TRAINER,
            CONF_HEART_RATE: SIM_HEART_RATE,
        },
        entry_id="gateway_entry_id",
    )


async def until(
    hass: HomeAssistant, predicate: Callable[[], bool], timeout_s: float = 30.0
) -> None:
    """Let the loop run (publishing each second) until ``predicate()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
        await hass.async_block_till_done()


def number(hass: HomeAssistant, entity_id: str) -> float | None:
    """The numeric state, None while unknown, unavailable or missing."""
    current = hass.states.get(entity_id)
    try:
        return None if current is None else float(current.state)
    except ValueError:
        return None


def unavailable(hass: HomeAssistant, entity_id: str) -> bool:
    current = hass.states.get(entity_id)
    return current is not None and current.state == STATE_UNAVAILABLE


async def start_riding(
    hass: HomeAssistant, setup_mqtt: SetupMqtt, broker: Broker, gateway_id: str
) -> MockConfigEntry:
    await setup_mqtt(broker)
    entry = gateway_entry(gateway_id)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_the_simulated_ride_reaches_the_entities(
    hass: HomeAssistant,
    mosquitto: Broker,
    ha_mqtt: SetupMqtt,
    gateway_process: StartGateway,
) -> None:
    """gateway → mosquitto → Home Assistant's MQTT → trackers → entities."""
    gateway_process(mosquitto, "garage")
    entry = await start_riding(hass, ha_mqtt, mosquitto, "garage")
    await until(hass, lambda: number(hass, HEART_RATE) is not None)
    await until(hass, lambda: number(hass, POWER) is not None)
    # The demo ride starts with an easy warm-up: 110 W at 85 rpm.
    power = number(hass, POWER)
    assert power is not None
    assert 80 < power < 140
    cadence = number(hass, CADENCE)
    assert cadence is not None
    assert 75 < cadence < 95
    diagnostics = entry.runtime_data.source.diagnostics()
    assert diagnostics["gateway"]["state"] == "online"
    assert diagnostics["gateway"]["stick"] == "simulated"
    assert diagnostics["received"]["malformed_batches"] == 0
    roles = {d["role"] for d in diagnostics["devices"]}
    assert {"pedals", "trainer", "heart_rate"} <= roles
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_killed_gateway_goes_unavailable_and_comes_back(
    hass: HomeAssistant,
    mosquitto: Broker,
    ha_mqtt: SetupMqtt,
    gateway_process: StartGateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Last will → unavailable, logged once; a repair issue if it stays away."""
    gateway = gateway_process(mosquitto, "gym-pi")
    entry = await start_riding(hass, ha_mqtt, mosquitto, "gym-pi")
    await until(hass, lambda: number(hass, POWER) is not None)
    caplog.set_level(logging.WARNING)

    gateway.kill()
    await until(hass, lambda: unavailable(hass, POWER))
    for _ in range(5):  # the retained will is the last word; nothing repeats
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
        await asyncio.sleep(0.1)
    warnings = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.ridebalance")
        and r.levelno >= logging.WARNING
    ]
    assert len(warnings) == 1
    assert "gateway gym-pi is offline" in warnings[0].getMessage()

    issues = ir.async_get(hass)
    issue_id = gateway_issue_id(entry.entry_id)
    assert issues.async_get_issue(DOMAIN, issue_id) is None  # not yet
    async_fire_time_changed(hass, dt_util.utcnow() + OFFLINE_ISSUE_AFTER)
    await hass.async_block_till_done()
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "gateway_offline"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["gateway"] == "gym-pi"

    gateway_process(mosquitto, "gym-pi")  # a new session, a new clock
    await until(hass, lambda: number(hass, POWER) is not None)
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_broker_restart_mid_ride_is_ridden_out(
    hass: HomeAssistant,
    own_broker: Broker,
    ha_mqtt: SetupMqtt,
    gateway_process: StartGateway,
) -> None:
    """Both sides reconnect by themselves; the ride goes on without a reload."""
    gateway_process(own_broker, "loft")
    entry = await start_riding(hass, ha_mqtt, own_broker, "loft")
    await until(hass, lambda: number(hass, POWER) is not None)
    batches_before = entry.runtime_data.source.diagnostics()["received"]["batches"]

    # Home Assistant announces itself (its birth message) once settled after each
    # connection; a broker that goes before that makes the announcement fail.
    births: list[object] = []
    unsubscribe = await mqtt.async_subscribe(
        hass, "homeassistant/status", lambda message: births.append(message.payload)
    )
    await until(hass, lambda: births == ["online"])

    await hass.async_add_executor_job(own_broker.stop)
    await until(hass, lambda: unavailable(hass, POWER))
    await hass.async_add_executor_job(own_broker.start)

    def riding_again() -> bool:
        received = entry.runtime_data.source.diagnostics()["received"]
        return received["batches"] > batches_before + 8 and not unavailable(hass, POWER)

    await until(hass, riding_again, timeout_s=60)
    assert mqtt.is_connected(hass)
    await until(hass, lambda: births.count("online") == 2)
    unsubscribe()
    assert number(hass, POWER) is not None
    assert entry.state is ConfigEntryState.LOADED
    await hass.config_entries.async_unload(entry.entry_id)

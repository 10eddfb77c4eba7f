"""A gateway through a real mosquitto and Home Assistant's own MQTT integration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
import logging
import threading
import time

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ridebalance.ant.pages import RawPage
from custom_components.ridebalance.const import (
    DOMAIN,
)
from custom_components.ridebalance.gateway.uplink import BrokerSettings, Uplink
from custom_components.ridebalance.gateway.wire import (
    Batch,
    GatewayState,
    GatewayStatus,
    StickState,
    encode_batches,
    encode_status,
)
from custom_components.ridebalance.sim.gym import Gym
from custom_components.ridebalance.sim.rider import (
    SIM_HEART_RATE,
    SIM_PEDALS,
)
from custom_components.ridebalance.sources.gateway import (
    OFFLINE_ISSUE_AFTER,
    GatewayClock,
    gateway_issue_id,
)
from tests.mqtt_broker import Broker, Listener, SetupMqtt, StartGateway

from . import helpers
from .helpers import gateway_entry, number, set_up, unavailable

POWER = "sensor.gym_rider_power"
CADENCE = "sensor.gym_rider_cadence"
HEART_RATE = "sensor.gym_rider_heart_rate"

# A gateway's pages pass a broker and MQTT first: give them longer than a stick's.
until = partial(helpers.until, timeout_s=30.0)


async def start_riding(
    hass: HomeAssistant, setup_mqtt: SetupMqtt, broker: Broker, gateway_id: str
) -> MockConfigEntry:
    await setup_mqtt(broker)
    entry = gateway_entry(gateway_id)
    await set_up(hass, entry)
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


async def test_a_crowded_gym_reaches_home_assistant_paced_and_filtered(
    hass: HomeAssistant, mosquitto: Broker, ha_mqtt: SetupMqtt
) -> None:
    """22 devices in range: 4 messages a second, only the rider's pages tracked."""
    await ha_mqtt(mosquitto)
    entry = gateway_entry("gym-floor", trainer=None)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    uplink = Uplink(
        BrokerSettings.from_url(mosquitto.url), "gym-floor", topic_prefix="ridebalance"
    )
    uplink.start()
    uplink.set_stick(StickState.CONNECTED, "continuous scan")
    gym = Gym(SIM_PEDALS, SIM_HEART_RATE, devices=22)
    done = threading.Event()

    def broadcast() -> None:
        """The stick's side: 22 devices at 4 Hz for 8 s, handed over as heard."""
        started = time.monotonic()
        for i in range(32):
            pages = gym.pages(i * 0.25)
            uplink.add_pages(
                [replace(p, timestamp_s=started + i * 0.25) for p in pages]
            )
            time.sleep(max(0.0, started + (i + 1) * 0.25 - time.monotonic()))
        done.set()

    source = entry.runtime_data.source
    await until(hass, lambda: source.diagnostics()["gateway"]["state"] == "online")
    feeder = threading.Thread(target=broadcast)
    started = time.monotonic()
    feeder.start()
    try:

        def all_arrived() -> bool:
            sent = uplink.counters()["pages_sent"]
            return done.is_set() and source.diagnostics()["received"]["pages"] == sent

        await until(hass, all_arrived)
        elapsed = time.monotonic() - started
        await until(hass, lambda: number(hass, POWER) == 200)
        assert number(hass, CADENCE) == pytest.approx(90, abs=1)
    finally:
        feeder.join()
        await hass.async_add_executor_job(uplink.stop)

    diagnostics = source.diagnostics()
    received = diagnostics["received"]
    assert received["pages"] == 32 * 22
    # However many devices, Home Assistant handles one message per interval.
    assert received["batches"] <= elapsed / 0.25 + 2
    assert received["batches_lost"] == 0
    # Only the rider's pedals and strap reach the trackers; the rest is counted.
    assert {d["device_number"] for d in diagnostics["devices"]} == {
        SIM_PEDALS,
        SIM_HEART_RATE,
    }
    assert diagnostics["filtered_pages"] == 32 * 20
    counters = uplink.counters()
    assert (counters["batches_dropped"], counters["backlog"]) == (0, 0)
    await hass.config_entries.async_unload(entry.entry_id)


def status(
    state: str = "online", stick: str = "connected", gateway: str = "odd"
) -> bytes:
    return encode_status(
        GatewayStatus(
            gateway, GatewayState(state), StickState(stick), "continuous scan"
        )
    )


async def test_what_cannot_be_read_is_counted_and_logged_once(
    hass: HomeAssistant,
    mosquitto: Broker,
    ha_mqtt: SetupMqtt,
    listen: Callable[..., Listener],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another version's batches, a stranger's status: dropped, counted, one line."""
    entry = await start_riding(hass, ha_mqtt, mosquitto, "odd")
    source = entry.runtime_data.source
    client = listen(mosquitto, "nothing/#")
    client.publish("ridebalance/odd/status", status(), retain=True)
    await until(hass, lambda: source.diagnostics()["gateway"]["state"] == "online")
    caplog.set_level(logging.WARNING)

    for version in (2, 3, 4, 5, 6):
        client.publish("ridebalance/odd/pages", bytes([version]) + bytes(32))
    client.publish("ridebalance/odd/status", status(gateway="other"))
    client.publish("ridebalance/odd/status", b"<html>")

    def counted() -> bool:
        received = source.diagnostics()["received"]
        return (received["malformed_batches"], received["malformed_status"]) == (5, 2)

    await until(hass, counted)
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("custom_") and r.levelno >= logging.WARNING
    ]
    assert len(lines) == 1
    assert "batch format 2 is not supported" in lines[0]
    assert hass.states.get(POWER) is not None
    assert not unavailable(hass, POWER)  # the gateway itself is still fine
    client.publish("ridebalance/odd/status", b"", retain=True)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_the_gateway_says_its_stick_is_gone_and_back(
    hass: HomeAssistant,
    mosquitto: Broker,
    ha_mqtt: SetupMqtt,
    listen: Callable[..., Listener],
) -> None:
    entry = await start_riding(hass, ha_mqtt, mosquitto, "odd2")
    source = entry.runtime_data.source
    client = listen(mosquitto, "nothing/#")
    client.publish("ridebalance/odd2/status", status(gateway="odd2"), retain=True)
    await until(hass, lambda: source.diagnostics()["gateway"]["state"] == "online")
    gym = Gym(SIM_PEDALS, SIM_HEART_RATE, devices=2)
    pages = [p for i in range(40) for p in gym.pages(1000.0 + i * 0.25)]
    # Batches 0 and 3 of a session: 1 and 2 were lost on the way (QoS 0).
    for sequence, chunk in ((0, pages[:40]), (3, pages[40:])):
        client.publish("ridebalance/odd2/pages", encode_batches(chunk, 77, sequence)[0])
    await until(hass, lambda: number(hass, POWER) == 200)
    assert source.diagnostics()["received"]["batches_lost"] == 2

    client.publish(
        "ridebalance/odd2/status",
        status(stick="disconnected", gateway="odd2"),
        retain=True,
    )
    await until(hass, lambda: unavailable(hass, POWER))
    client.publish("ridebalance/odd2/status", status(gateway="odd2"), retain=True)
    await until(hass, lambda: number(hass, POWER) is not None)
    client.publish("ridebalance/odd2/status", b"", retain=True)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_without_mqtt_the_rider_waits_for_it(hass: HomeAssistant) -> None:
    entry = gateway_entry("no-broker")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "MQTT integration is not set up" in str(entry.reason)


def test_a_session_s_times_map_onto_this_host_s_clock() -> None:
    """The fastest batch sets the offset; a restarted gateway starts over."""
    clock = GatewayClock()

    def batch(session: int, times: list[float]) -> Batch:
        return Batch(session, 0, [RawPage(t, 11, 1, 5, bytes(8)) for t in times])

    # Gateway clock 100 s; this host's 5000 s; the first batch took 0.3 s.
    first = clock.local(batch(1, [99.8, 100.0]), now_s=5000.3)
    assert [p.timestamp_s for p in first] == pytest.approx([5000.1, 5000.3])
    # A faster one (0.05 s) moves everything 0.25 s earlier; a slower one does not.
    assert clock.local(batch(1, [101.0]), 5001.05)[0].timestamp_s == pytest.approx(
        5001.05
    )
    assert clock.local(batch(1, [102.0]), 5002.9)[0].timestamp_s == pytest.approx(
        5002.05
    )
    # A restarted gateway: its clock and session are new.
    assert clock.local(batch(2, [3.0]), 5010.2)[0].timestamp_s == pytest.approx(5010.2)

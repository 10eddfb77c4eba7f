"""The diagnostics download of a rider."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import ExtendedJSONEncoder
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
)
from syrupy.assertion import SnapshotAssertion

import custom_components.ridebalance as integration
from custom_components.ridebalance.ant.pages import DEVICE_TYPE_BICYCLE_POWER
from custom_components.ridebalance.ant.stick import ReceiverSettings
from custom_components.ridebalance.const import (
    CONF_DEVICE,
    CONF_HEART_RATE,
    CONF_PEDALS,
    CONF_SOURCE,
    CONF_SPEED,
    CONF_TRAINER,
    DOMAIN,
    SourceKind,
)
from custom_components.ridebalance.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.ridebalance.sim.emulators import PedalEncoder
from custom_components.ridebalance.sources.ant import AntSource
from tests.usbstick.backend import SimulatedStick

from .helpers import set_up

START = "2026-03-01T07:00:00+00:00"


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots that leave out registry ids and timestamps, as core's tests do."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


USB_PATH = "/dev/serial/by-id/usb-Dynastream_Innovations_ANT_USB-m_Stick_123-if00"


async def _ride(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int
) -> None:
    for _ in range(seconds):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    # The simulator's clock and the publish clock fall due together in no fixed
    # order: one more pass at the same instant lets both catch up.
    async_fire_time_changed(hass, fire_all=True)
    await hass.async_block_till_done()


async def _download(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    """The diagnostics as the JSON file the rider downloads."""
    data = await async_get_config_entry_diagnostics(hass, entry)
    loaded: dict[str, Any] = json.loads(json.dumps(data, cls=ExtendedJSONEncoder))
    return loaded


async def test_diagnostics_mid_ride(
    hass: HomeAssistant,
    sim_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    snapshot: SnapshotAssertion,
) -> None:
    """Twelve ride minutes in: the session, settings and simulated devices."""
    freezer.move_to(START)
    await set_up(hass, sim_entry)
    await _ride(hass, freezer, 12)

    diagnostics = await _download(hass, sim_entry)

    coordinator = diagnostics["coordinator"]
    assert isinstance(coordinator, dict)
    assert coordinator["status"] == {"state": "connected", "detail": None}
    session = coordinator["session"]
    assert isinstance(session, dict)
    assert diagnostics == snapshot
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_usb_path_and_stick_serial_are_redacted(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The stick's path and serial never leave the house; the rest stays readable."""
    freezer.move_to(START)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Trainer room",
        unique_id="ANT_USB-m_Stick_123",
        data={CONF_SOURCE: SourceKind.SIMULATOR.value, CONF_DEVICE: USB_PATH},
        options={CONF_SPEED: 60.0},
    )
    await set_up(hass, entry)

    diagnostics = await _download(hass, entry)

    assert "Stick_123" not in str(diagnostics)
    entry_info = diagnostics["entry"]
    assert isinstance(entry_info, dict)
    assert entry_info["data"] == {
        CONF_SOURCE: SourceKind.SIMULATOR.value,
        CONF_DEVICE: "**REDACTED**",
    }
    assert entry_info["options"] == {CONF_SPEED: 60.0}
    assert entry_info["title"] == "Trainer room"
    await hass.config_entries.async_unload(entry.entry_id)


STICK_SERIAL = "40123456"
PEDALS = 12345


async def test_ant_stick_diagnostics(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receiver's state and the pedals' pages are there; the stick's serial not."""
    stick = SimulatedStick().install(monkeypatch)
    fast = ReceiverSettings(
        stale_after_s=0.5,
        probe_timeout_s=0.3,
        batch_interval_s=0.05,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        stop_timeout_s=1.0,
        reply_timeout_s=0.5,
    )
    monkeypatch.setattr(integration, "AntSource", partial(AntSource, settings=fast))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="ANT+ rider",
        unique_id=STICK_SERIAL,
        data={
            CONF_SOURCE: SourceKind.ANT.value,
            CONF_DEVICE: STICK_SERIAL,
            CONF_PEDALS: PEDALS,
            CONF_TRAINER: None,
            CONF_HEART_RATE: None,
        },
    )
    await set_up(hass, entry)
    pedals = PedalEncoder(PEDALS)
    for i in range(1, 13):
        page = pedals.page(i * 0.25, 230.0, 51.0, 90.0)
        stick.queue_broadcast(
            DEVICE_TYPE_BICYCLE_POWER, PEDALS, page.data, page.transmission_type
        )
    source = entry.runtime_data.source
    for _ in range(100):  # the receiver's thread hands pages over in batches
        if source.diagnostics()["samples"] >= 8:
            break
        await asyncio.sleep(0.05)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
        await hass.async_block_till_done()

    diagnostics = await _download(hass, entry)

    assert STICK_SERIAL not in json.dumps(diagnostics)
    assert diagnostics["entry"]["data"][CONF_DEVICE] == "**REDACTED**"
    assert diagnostics["entry"]["data"][CONF_PEDALS] == PEDALS
    coordinator = diagnostics["coordinator"]
    assert coordinator["status"]["state"] == "connected"
    assert coordinator["source"]["samples"] >= 8
    assert any(str(PEDALS) in key for key in diagnostics["devices"])
    await hass.config_entries.async_unload(entry.entry_id)

"""Helpers for tests that run Home Assistant: set an entry up, wait, read states."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
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
from tests.usbstick.backend import SimulatedStick


def gateway_entry(
    gateway_id: str,
    *,
    pedals: int = SIM_PEDALS,
    trainer: int | None = SIM_TRAINER,
    heart_rate: int = SIM_HEART_RATE,
) -> MockConfigEntry:
    """A rider's devices (the simulated rider's by default), heard by a gateway."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Gym rider",
        unique_id=f"ridebalance/{gateway_id}",
        data={
            CONF_SOURCE: SourceKind.GATEWAY.value,
            CONF_GATEWAY: gateway_id,
            CONF_TOPIC_PREFIX: "ridebalance",
            CONF_PEDALS: pedals,
            CONF_TRAINER: trainer,
            CONF_HEART_RATE: heart_rate,
        },
        entry_id="gateway_entry_id",
    )


SETUP_FAILURES = ["stick_busy", "platform_error"]


async def _fail_platform_setup(*_args: Any) -> bool:
    raise RuntimeError("a platform could not be set up")


def break_setup(
    hass: HomeAssistant,
    stick: SimulatedStick,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> ConfigEntryState:
    """Make the next setup fail after the rider's file is read: a busy stick
    (Home Assistant retries) or a platform that fails. Returns the state it ends in.
    """
    if failure == "stick_busy":
        stick.set_open_error(16)
        return ConfigEntryState.SETUP_RETRY
    monkeypatch.setattr(
        hass.config_entries, "async_forward_entry_setups", _fail_platform_setup
    )
    return ConfigEntryState.SETUP_ERROR


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add ``entry`` and set it up; the test fails unless it loads."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def until(
    hass: HomeAssistant, predicate: Callable[[], bool], timeout_s: float = 10.0
) -> None:
    """Let the loop run (and publish every second) until ``predicate()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
        await hass.async_block_till_done()


def state(hass: HomeAssistant, entity_id: str) -> str:
    """The state string of an entity that must exist."""
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current.state


def number(hass: HomeAssistant, entity_id: str) -> float | None:
    """The numeric state; None while unknown, unavailable or not created yet."""
    current = hass.states.get(entity_id)
    try:
        return None if current is None else float(current.state)
    except ValueError:
        return None


def unavailable(hass: HomeAssistant, entity_id: str) -> bool:
    """Whether the entity exists and is unavailable."""
    current = hass.states.get(entity_id)
    return current is not None and current.state == STATE_UNAVAILABLE


async def import_rides(
    hass: HomeAssistant, *paths: Path, **fields: Any
) -> dict[str, Any]:
    """Call the ``import_rides`` action on ``paths``; its response."""
    response = await hass.services.async_call(
        DOMAIN,
        "import_rides",
        {"paths": [str(p) for p in paths], **fields},
        blocking=True,
        return_response=True,
    )
    assert isinstance(response, dict)
    return response

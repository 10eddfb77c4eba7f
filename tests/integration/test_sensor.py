"""Sensors write slow-moving figures seldom, yet never keep a stale one."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from tests.usbstick.backend import SimulatedStick

from .helpers import number, set_up, until
from .test_ant_source import Rider

SESSION_BALANCE = "sensor.ant_rider_left_balance_session"


async def test_the_last_value_gets_out_when_the_pedals_fall_silent(
    hass: HomeAssistant, stick: SimulatedStick, ant_entry: MockConfigEntry
) -> None:
    """The session balance writes once a minute; its last value is not lost.

    The rider's balance moves, then the pedals stop sending (the rider got off).
    No reading arrives any more, and the sensor still shows where the session
    ended once its minute is up.
    """
    await set_up(hass, ant_entry)
    coordinator = ant_entry.runtime_data
    rider = Rider(stick)
    rider.ride(8, 250.0, 50.0, 130.0)
    await until(hass, lambda: coordinator.data.sample is not None)
    coordinator.async_start_session()
    rider.ride(40, 250.0, 50.0, 130.0)
    await until(hass, lambda: number(hass, SESSION_BALANCE) is not None)
    first = number(hass, SESSION_BALANCE)

    rider.ride(120, 250.0, 58.0, 130.0)  # thirty seconds further left
    await until(
        hass,
        lambda: (
            coordinator.data.live is not None
            and coordinator.data.live.balance_session_left_pct is not None
            and coordinator.data.live.balance_session_left_pct > 52
        ),
    )
    live = coordinator.data.live
    assert live is not None
    assert live.balance_session_left_pct is not None
    final = round(live.balance_session_left_pct, 1)
    assert number(hass, SESSION_BALANCE) == first  # held back: not a minute yet

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await hass.async_block_till_done()
    assert number(hass, SESSION_BALANCE) == final
    await hass.config_entries.async_unload(ant_entry.entry_id)

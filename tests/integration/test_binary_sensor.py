"""Binary sensors: a sensor that falls silent shows it, with no page to say so."""

from __future__ import annotations

from functools import partial
import threading

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ridebalance as integration
from custom_components.ridebalance.ant.pages import DEVICE_TYPE_HEART_RATE
from custom_components.ridebalance.ant.trackers import TrackerConfig
from custom_components.ridebalance.const import DOMAIN
from custom_components.ridebalance.sources.ant import AntSource
from custom_components.ridebalance.sources.pipeline import PagesSource
from tests.usbstick.backend import SimulatedStick

from .ant_stick import FAST, HRM, PEDALS
from .helpers import set_up, state, until
from .test_ant_source import Rider

POWER = "sensor.ant_rider_power"
# A sensor unheard for 1.5 s counts as gone (five seconds on a real ride).
QUICK = TrackerConfig(coasting_timeout_s=0.5, stale_after_s=1.5)


def connectivity(hass: HomeAssistant, device_key: str) -> str | None:
    """The connectivity sensor of one sensor device, once it exists."""
    return er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"ant_entry_id_{device_key}_connected"
    )


@pytest.fixture
def quick_stick(
    stick: SimulatedStick, monkeypatch: pytest.MonkeyPatch
) -> SimulatedStick:
    """The simulated stick, with trackers that give up on a silent sensor quickly."""
    monkeypatch.setattr(
        integration,
        "AntSource",
        partial(AntSource, settings=FAST, tracker_config=QUICK),
    )
    return stick


async def test_a_sensor_that_falls_silent_shows_disconnected(
    hass: HomeAssistant,
    quick_stick: SimulatedStick,
    ant_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pedals and strap stop sending while the stick stays up, then the strap is back.

    Nothing arrives to say a sensor went quiet: the source notices by itself, and
    the stick staying up keeps the rider's sensors available. It looks in the event
    loop, where the trackers are fed, never from a worker thread beside it.
    """
    threads: set[int] = set()
    push = PagesSource._push_devices

    def recorded(source: PagesSource) -> None:
        threads.add(threading.get_ident())
        push(source)

    monkeypatch.setattr(PagesSource, "_push_devices", recorded)
    await set_up(hass, ant_entry)
    rider = Rider(quick_stick)
    rider.ride(8, 200.0, 50.0, 120.0)
    await until(hass, lambda: connectivity(hass, f"heart_rate_{HRM}") is not None)
    pedals_heard = connectivity(hass, f"pedals_{PEDALS}")
    strap_heard = connectivity(hass, f"heart_rate_{HRM}")
    assert pedals_heard is not None
    assert strap_heard is not None
    assert state(hass, pedals_heard) == STATE_ON
    assert state(hass, strap_heard) == STATE_ON

    # Everyone got off the bike: not one page more.
    await until(hass, lambda: state(hass, pedals_heard) == STATE_OFF)
    assert state(hass, strap_heard) == STATE_OFF
    assert state(hass, POWER) != STATE_UNAVAILABLE

    # The strap is worn again; the pedals stay asleep.
    for _ in range(8):
        rider.t_s += 0.25
        beat = rider.strap.page(rider.t_s, 110.0)
        quick_stick.queue_broadcast(
            DEVICE_TYPE_HEART_RATE, HRM, beat.data, beat.transmission_type
        )
    await until(hass, lambda: state(hass, strap_heard) == STATE_ON)
    assert threads == {threading.get_ident()}
    assert state(hass, pedals_heard) == STATE_OFF
    await hass.config_entries.async_unload(ant_entry.entry_id)

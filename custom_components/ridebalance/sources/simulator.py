"""A simulated rider: plays the scripted demo ride, optionally faster than life.

The ride goes through the same path as the stick's: every 4 Hz reading is encoded
into byte-exact ANT+ pages by simulated pedals, a trainer and a heart-rate strap,
and decoded by the same :class:`RiderMerger` and trackers. What the entities show
is what real sensors sending that ride would show (coasting, artefact filtering,
power from accumulated counters).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..ant.merger import RiderMerger
from ..ant.pages import RawPage
from ..ant.pairing import DeviceRole, Pairing
from ..sim import RideScript, demo_ride, generate
from ..sim.rider import (
    SAMPLE_HZ,
    SIM_HEART_RATE,
    SIM_PEDALS,
    SIM_TRAINER,
    SimulatedRider,
)
from . import (
    SensorDevice,
    SourceListener,
    SourceState,
    SourceStatus,
    sensor_device,
)

TICK = timedelta(milliseconds=250)
# Keys and names stay those of the simulated sensors (the rider should see they
# are simulated); everything else about them comes from the pages they send.
_DEVICES: Final = {
    DeviceRole.PEDALS: ("pedals", "Simulated pedals"),
    DeviceRole.TRAINER: ("trainer", "Simulated trainer"),
    DeviceRole.HEART_RATE: ("hr", "Simulated heart rate strap"),
}


class SimulatorSource:
    """Emits the demo ride through simulated ANT+ sensors at 4 Hz of ride time.

    Ride time is derived from the wall clock times ``speed``, so a test that moves
    Home Assistant's clock forward gets every reading in between, and a slow tick
    never loses readings. The trackers emit a Sample per new pedal power event,
    about three a second (the other pages carry torque effectiveness and identity).
    """

    def __init__(
        self,
        hass: HomeAssistant,
        speed: float = 1.0,
        seed: int = 0,
        script: RideScript | None = None,
        dynamics: bool = False,
    ) -> None:
        self._hass = hass
        self._dynamics = dynamics
        self._script = script or demo_ride()
        self._speed = speed
        self._seed = seed
        self._rider: SimulatedRider | None = None
        self._started_at: datetime | None = None
        self._unsub: CALLBACK_TYPE | None = None
        self._pending: asyncio.Future[None] | None = None
        self._listener: SourceListener | None = None
        self._samples = 0
        self._merger = RiderMerger(
            Pairing(pedals=SIM_PEDALS, trainer=SIM_TRAINER, heart_rate=SIM_HEART_RATE)
        )

    def _described_devices(self) -> dict[str, SensorDevice]:
        """The simulated pedals, trainer and strap, as their pages describe them."""
        if self._started_at is None or self._rider is None:
            return {}
        now_s = self._rider.ride_time_s
        out: dict[str, SensorDevice] = {}
        for state in self._merger.device_states(now_s):
            if state.role not in _DEVICES:
                continue  # the trainer's own power channel
            key, name = _DEVICES[state.role]
            last_seen = (
                None
                if state.last_seen_s is None
                else self._started_at
                + timedelta(seconds=state.last_seen_s / self._speed)
            )
            device = sensor_device(state, key, last_seen, state.connected)
            out[key] = replace(device, name=name)
        return out

    async def async_start(self, listener: SourceListener) -> None:
        """Generate the ride (off the loop) and start the clock."""
        self._rider = SimulatedRider(
            await self._hass.async_add_executor_job(generate, self._script, self._seed),
            dynamics=self._dynamics,
        )
        self._prepare_next_lap()
        self._listener = listener
        self._started_at = dt_util.utcnow()
        self._unsub = async_track_time_interval(
            self._hass, self._tick, TICK, name="RideBalance simulator"
        )
        listener.status(SourceStatus(SourceState.CONNECTED))

    async def async_stop(self) -> None:
        """Stop the clock."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        if self._pending is not None:
            await self._pending
            self._pending = None

    def diagnostics(self) -> dict[str, Any]:
        """Where the simulated ride is, and what the trackers made of its pages."""
        rider = self._rider
        now_s = 0.0 if rider is None else rider.ride_time_s
        return {
            "speed": self._speed,
            "cycling_dynamics": self._dynamics,
            "lap": 0 if rider is None else rider.lap,
            "readings": 0 if rider is None else rider.emitted,
            "samples": self._samples,
            "pages": {
                state.role.value: state.counters.pages
                for state in self._merger.device_states(now_s)
            },
        }

    @callback
    def _tick(self, now: datetime) -> None:
        assert self._started_at is not None
        listener = self._listener
        assert listener is not None
        rider = self._rider
        assert rider is not None
        due = int((now - self._started_at).total_seconds() * self._speed * SAMPLE_HZ)
        pages: list[RawPage] = []
        while rider.emitted < due:
            lap = rider.lap
            pages.extend(rider.next_pages())
            if rider.lap != lap:
                self._prepare_next_lap()
        samples = self._merger.feed(pages)
        listener.devices(self._described_devices())
        if samples:
            self._samples += len(samples)
            listener.samples(samples)

    def _prepare_next_lap(self) -> None:
        """Generate the lap after the current one off the loop, with new noise."""
        rider = self._rider
        assert rider is not None

        async def _generate() -> None:
            rider.next_lap = await self._hass.async_add_executor_job(
                generate, self._script, self._seed + rider.lap + 1
            )

        self._pending = self._hass.async_create_task(
            _generate(), "RideBalance simulator next lap", eager_start=False
        )

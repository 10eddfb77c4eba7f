"""A simulated rider: plays the scripted demo ride, optionally faster than life."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..model import Sample
from ..sim import RideArrays, demo_ride, generate
from . import (
    SampleCallback,
    SensorDevice,
    SourceState,
    SourceStatus,
    StatusCallback,
)

TICK = timedelta(milliseconds=250)
SAMPLE_HZ = 4.0
# Between two laps of the demo ride the rider rests, so sessions end and start.
REST_S = 120.0


class SimulatorSource:
    """Emits the demo ride's readings at 4 Hz of ride time.

    Ride time is derived from the wall clock times ``speed``, so a test that moves
    Home Assistant's clock forward gets every sample in between, and a slow tick
    never loses readings.
    """

    def __init__(self, hass: HomeAssistant, speed: float = 1.0, seed: int = 0) -> None:
        self._hass = hass
        self._speed = speed
        self._seed = seed
        self._lap = 0
        self._arrays: RideArrays | None = None
        self._next_arrays: RideArrays | None = None
        self._started_at: datetime | None = None
        self._emitted = 0  # samples emitted, counting rest samples, since start
        self._lap_offset = 0  # index at which the current lap began
        self._unsub: CALLBACK_TYPE | None = None
        self._pending: asyncio.Future[None] | None = None
        self._on_samples: SampleCallback | None = None
        self._devices = {
            key: SensorDevice(
                key=key,
                name=name,
                profile=profile,
                manufacturer="RideBalance",
                model=f"Simulated {profile}",
            )
            for key, name, profile in (
                ("pedals", "Simulated pedals", "power"),
                ("trainer", "Simulated trainer", "fitness equipment"),
                ("hr", "Simulated heart rate strap", "heart rate"),
            )
        }

    @property
    def devices(self) -> dict[str, SensorDevice]:
        """The three simulated sensors."""
        return self._devices

    async def async_start(
        self, on_samples: SampleCallback, on_status: StatusCallback
    ) -> None:
        """Generate the ride (off the loop) and start the clock."""
        self._arrays = await self._hass.async_add_executor_job(
            generate, demo_ride(), self._seed
        )
        self._prepare_next_lap()
        self._on_samples = on_samples
        self._started_at = dt_util.utcnow()
        self._unsub = async_track_time_interval(
            self._hass, self._tick, TICK, name="RideBalance simulator"
        )
        for device in self._devices.values():
            device.connected = True
        on_status(SourceStatus(SourceState.CONNECTED))

    async def async_stop(self) -> None:
        """Stop the clock."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        if self._pending is not None:
            await self._pending
            self._pending = None

    def diagnostics(self) -> dict[str, Any]:
        """Where the simulated ride is."""
        return {"speed": self._speed, "lap": self._lap, "samples": self._emitted}

    @callback
    def _tick(self, now: datetime) -> None:
        assert self._started_at is not None
        assert self._on_samples is not None
        due = int((now - self._started_at).total_seconds() * self._speed * SAMPLE_HZ)
        batch: list[Sample] = []
        while self._emitted < due:
            batch.append(self._next_sample())
        if batch:
            self._on_samples(batch)

    def _next_sample(self) -> Sample:
        assert self._arrays is not None
        index = self._emitted - self._lap_offset
        t_s = self._emitted / SAMPLE_HZ
        self._emitted += 1
        ride_len = len(self._arrays)
        if index < ride_len:
            return replace(self._arrays.sample(index), t_s=t_s)
        if index >= ride_len + REST_S * SAMPLE_HZ - 1 and self._next_arrays:
            # Next lap: a fresh ride with new noise, generated ahead off the loop.
            self._lap += 1
            self._lap_offset = self._emitted
            self._arrays, self._next_arrays = self._next_arrays, None
            self._prepare_next_lap()
        return Sample(t_s=t_s, power_w=0.0, cadence_rpm=0.0)

    def _prepare_next_lap(self) -> None:
        async def _generate() -> None:
            self._next_arrays = await self._hass.async_add_executor_job(
                generate, demo_ride(), self._seed + self._lap + 1
            )

        self._pending = self._hass.async_create_task(
            _generate(), "RideBalance simulator next lap", eager_start=False
        )

"""Sources of rider readings: the ANT+ stick, Home Assistant entities, the simulator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from ..model import Sample

type SampleCallback = Callable[[list[Sample]], None]
type StatusCallback = Callable[["SourceStatus"], None]


class SourceNotReadyError(Exception):
    """The source cannot deliver yet (e.g. its USB stick is missing); retry later."""


class SourceState(StrEnum):
    """Whether a source is delivering readings."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A source's state, with the reason when it is not delivering."""

    state: SourceState
    detail: str | None = None


@dataclass(slots=True)
class SensorDevice:
    """One physical (or simulated) sensor a source hears, for the device registry."""

    key: str
    name: str
    profile: str
    connected: bool = False
    last_seen: datetime | None = None
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None
    sw_version: str | None = None
    hw_version: str | None = None
    battery_pct: int | None = None
    battery_status: str | None = None
    battery_voltage_v: float | None = None
    counters: dict[str, int] = field(default_factory=dict)


class Source(Protocol):
    """A producer of Samples for one config entry.

    Samples are delivered in the event loop through ``on_samples``; a source never
    blocks the loop (USB work happens in its own thread or an executor).
    """

    @property
    def devices(self) -> dict[str, SensorDevice]:
        """The sensors this source hears, keyed by a stable key."""

    async def async_start(
        self, on_samples: SampleCallback, on_status: StatusCallback
    ) -> None:
        """Start delivering samples."""

    async def async_stop(self) -> None:
        """Stop and release every thread, timer and handle the source holds."""

    def diagnostics(self) -> dict[str, Any]:
        """Counters and state for the diagnostics download."""

"""Sources of rider readings: the ANT+ stick, Home Assistant entities, the simulator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

from ..ant.identity import PROFILE_LABELS, device_name
from ..ant.merger import DeviceState
from ..model import Sample


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


@dataclass(frozen=True, slots=True)
class SensorDevice:
    """One physical (or simulated) sensor a source hears, for the device registry.

    Frozen, counters included: one instance is shared by every entity that shows
    it, and a source describes a change with a new one.
    """

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
    counters: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "counters", MappingProxyType(dict(self.counters)))

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for the diagnostics download."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["counters"] = dict(self.counters)
        return out


def sensor_device(
    state: DeviceState, key: str, last_seen: datetime | None, connected: bool
) -> SensorDevice:
    """One tracked ANT+ device as the device registry and its entities see it."""
    identity = state.identity
    manufacturer = identity.manufacturer
    battery = state.battery
    return SensorDevice(
        key=key,
        name=device_name(
            state.role, state.device_type, state.device_number, manufacturer
        ),
        profile=PROFILE_LABELS.get(state.device_type, str(state.device_type)),
        connected=connected,
        last_seen=last_seen,
        manufacturer=manufacturer,
        model=None if identity.model_number is None else str(identity.model_number),
        serial=None if identity.serial_number is None else str(identity.serial_number),
        sw_version=identity.software_version,
        hw_version=(
            None
            if identity.hardware_revision is None
            else str(identity.hardware_revision)
        ),
        battery_pct=None if battery is None else battery.level_pct,
        battery_status=(
            None
            if battery is None or battery.status is None
            else battery.status.name.lower()
        ),
        battery_voltage_v=None if battery is None else battery.voltage_v,
        counters={
            "pages": state.counters.pages,
            "malformed": state.counters.malformed,
            "unknown": state.counters.unknown,
        },
    )


@dataclass(frozen=True, slots=True)
class SourceListener:
    """Where a source pushes what it has, always in the event loop."""

    samples: Callable[[list[Sample]], None]
    """New readings, in order."""
    status: Callable[[SourceStatus], None]
    """The source's state, when it changes."""
    devices: Callable[[Mapping[str, SensorDevice]], None]
    """Every sensor the source hears, keyed by a stable key, when any changed."""


class Source(Protocol):
    """A producer of Samples for one config entry.

    Everything is pushed to a :class:`SourceListener`; nothing is read from the
    source but its diagnostics. A source never blocks the event loop (USB work
    happens in its own thread or an executor).
    """

    async def async_start(self, listener: SourceListener) -> None:
        """Start delivering to ``listener``."""

    async def async_stop(self) -> None:
        """Stop and release every thread, timer and handle the source holds."""

    def diagnostics(self) -> dict[str, Any]:
        """Counters and state for the diagnostics download."""

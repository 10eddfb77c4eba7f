"""The RideCoordinator: one per config entry, owns the source and the analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from .const import DOMAIN, LOGGER, PUBLISH_INTERVAL
from .model import Sample
from .sources import SensorDevice, Source, SourceState, SourceStatus

type RideBalanceConfigEntry = ConfigEntry[RideCoordinator]


@dataclass(frozen=True, slots=True)
class RideSnapshot:
    """What the entities show, published at most once per second."""

    available: bool
    sample: Sample | None = None
    devices: dict[str, SensorDevice] = field(default_factory=dict)


class RideCoordinator(DataUpdateCoordinator[RideSnapshot]):
    """Receives samples from the source and publishes snapshots to entities.

    Push only: there is no polling. Samples arrive at the sensors' rate (about
    4 Hz); entities are told at most once per ``PUBLISH_INTERVAL``, and only when
    something arrived since the last publication.
    """

    config_entry: RideBalanceConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: RideBalanceConfigEntry, source: Source
    ) -> None:
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=None,
            always_update=False,
        )
        self.source = source
        self._status = SourceStatus(SourceState.CONNECTING)
        self._latest: Sample | None = None
        self._dirty = False
        self._unsub_publish: CALLBACK_TYPE | None = None
        self.data = RideSnapshot(available=False)

    async def async_start(self) -> None:
        """Start the source and the publishing clock."""
        await self.source.async_start(self._on_samples, self._on_status)
        self._unsub_publish = async_track_time_interval(
            self.hass, self._publish, PUBLISH_INTERVAL, name="RideBalance publish"
        )

    async def async_shutdown(self) -> None:
        """Stop the source and the clock; called on unload and on HA stop."""
        if self._unsub_publish is not None:
            self._unsub_publish()
            self._unsub_publish = None
        await self.source.async_stop()
        await super().async_shutdown()

    @callback
    def _on_samples(self, samples: list[Sample]) -> None:
        self._latest = samples[-1]
        self._dirty = True

    @callback
    def _on_status(self, status: SourceStatus) -> None:
        was = self._status.state
        self._status = status
        if status.state is SourceState.DISCONNECTED and was is not status.state:
            LOGGER.warning("Rider sensors unavailable: %s", status.detail)
        elif status.state is SourceState.CONNECTED and was is SourceState.DISCONNECTED:
            LOGGER.info("Rider sensors are back")
        self._dirty = True
        self._publish(None)

    @callback
    def _publish(self, _now: datetime | None) -> None:
        if not self._dirty:
            return
        self._dirty = False
        self.async_set_updated_data(
            RideSnapshot(
                available=self._status.state is SourceState.CONNECTED,
                sample=self._latest,
                devices=self.source.devices,
            )
        )

    def diagnostics(self) -> dict[str, Any]:
        """Coordinator and source state for the diagnostics download."""
        return {
            "status": {"state": self._status.state, "detail": self._status.detail},
            "source": self.source.diagnostics(),
        }

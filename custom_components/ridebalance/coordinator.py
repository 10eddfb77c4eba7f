"""The RideCoordinator: one per config entry, owns the source and the analysis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .analysis import Baselines, LiveMetrics, SessionSummary
from .analysis.compare import compare_baselines
from .analysis.session import Alert, AlertType, RiderSettings, SessionTracker
from .const import DOMAIN, LOGGER, PUBLISH_INTERVAL
from .model import Sample
from .sources import SensorDevice, Source, SourceState, SourceStatus
from .store import (
    RECENT_SESSIONS,
    RiderData,
    RiderStore,
    RunningSession,
    SessionRecord,
)

type RideBalanceConfigEntry = ConfigEntry[RideCoordinator]

# How often a running session is written down, so a crash loses little.
SESSION_SAVE_INTERVAL = timedelta(minutes=2)
# A session stored at shutdown is resumed when Home Assistant is back within this.
RESUME_WITHIN = timedelta(minutes=5)
# Publication ticks after the last reading, so that entities writing every N
# seconds (sensor.py, ``every_s``) still show the final value.
SETTLE_TICKS = 60


@dataclass(frozen=True, slots=True)
class RideSnapshot:
    """What the entities show, published at most once per second."""

    available: bool
    riding: bool = False
    sample: Sample | None = None
    live: LiveMetrics | None = None
    power_3s_w: float | None = None
    minutes_since_break: float | None = None
    devices: dict[str, SensorDevice] = field(default_factory=dict)
    sessions: tuple[SessionRecord, ...] = ()
    indoor_vs_outdoor: tuple[dict[str, Any], ...] = ()
    settings: RiderSettings = field(default_factory=RiderSettings)


class RideCoordinator(DataUpdateCoordinator[RideSnapshot]):
    """Receives samples, runs sessions and publishes snapshots to entities.

    Push only: there is no polling. Samples arrive at the sensors' rate (about
    4 Hz); entities are told at most once per ``PUBLISH_INTERVAL``, and only when
    something arrived since the last publication. Alerts go out at once.
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
        self.store = RiderStore(hass, entry.entry_id)
        self.baselines = Baselines()
        self.sessions: list[SessionRecord] = []
        self.tracker = SessionTracker(RiderSettings(), self.baselines)
        self.last_session_samples: list[Sample] = []
        self._session_started: datetime | None = None
        self._status = SourceStatus(SourceState.CONNECTING)
        self._dirty = False
        self._settle_ticks = 0
        self._unsubs: list[CALLBACK_TYPE] = []
        self._alert_listeners: list[Callable[[Alert], None]] = []
        self.data = RideSnapshot(available=False)

    # --- life cycle ------------------------------------------------------------

    async def async_start(self) -> None:
        """Load what was stored, start the source and the clocks."""
        await self._async_load()
        await self.source.async_start(self._on_samples, self._on_status)
        self._unsubs.append(
            async_track_time_interval(
                self.hass, self._publish, PUBLISH_INTERVAL, name="RideBalance publish"
            )
        )
        self._unsubs.append(
            async_track_time_interval(
                self.hass,
                self._save_running,
                SESSION_SAVE_INTERVAL,
                name="RideBalance session save",
            )
        )
        self._publish(None)

    async def async_shutdown(self) -> None:
        """Stop the source and clocks, keep a running session for resumption."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        await self.source.async_stop()
        await self.store.async_save(self._rider_data())
        await super().async_shutdown()

    async def _async_load(self) -> None:
        rider = await self.store.async_load()
        self.baselines = rider.baselines
        self.tracker = SessionTracker(rider.settings, self.baselines)
        self.sessions = list(rider.sessions)
        if rider.running is not None:
            await self._async_resume(rider.running)

    async def _async_resume(self, running: RunningSession) -> None:
        saved = running.saved
        # Replaying an hour of readings takes a noticeable fraction of a second:
        # off the loop (nothing else touches the tracker before the source starts).
        await self.hass.async_add_executor_job(
            self.tracker.resume,
            list(running.samples),
            (dt_util.utcnow() - saved).total_seconds(),
        )
        self._session_started = running.started
        if dt_util.utcnow() - saved > RESUME_WITHIN:
            # Too long ago to be the same ride: close it with what it had.
            LOGGER.info("Closing the session interrupted at %s", saved.isoformat())
            self._handle(self.tracker.close(), ended=saved)
        else:
            LOGGER.info(
                "Resuming the session started at %s", running.started.isoformat()
            )

    def _rider_data(self) -> RiderData:
        """What is stored: a running session too, so a restart can resume it."""
        running = None
        if self.tracker.active and self._session_started:
            running = RunningSession(
                started=self._session_started,
                saved=dt_util.utcnow(),
                samples=tuple(self.tracker.samples),
            )
        return RiderData(
            settings=self.tracker.settings,
            baselines=self.baselines,
            sessions=tuple(self.sessions),
            running=running,
        )

    @callback
    def _save_running(self, _now: datetime) -> None:
        if self.tracker.active:
            self._save()

    @callback
    def _save(self) -> None:
        self.store.async_delay_save(self._rider_data)

    # --- what the rider does ---------------------------------------------------

    @callback
    def async_add_alert_listener(
        self, listener: Callable[[Alert], None]
    ) -> CALLBACK_TYPE:
        """Be told of every alert as it happens."""
        self._alert_listeners.append(listener)
        return lambda: self._alert_listeners.remove(listener)

    @callback
    def async_start_session(self) -> None:
        """Start a session now."""
        self._handle(self.tracker.start())
        self._force_publish()

    @callback
    def async_stop_session(self) -> None:
        """End the running session now."""
        self._handle(self.tracker.stop())
        self._force_publish()

    @callback
    def async_reset_baseline(self, context: str | None = None) -> None:
        """Forget what was learnt of the rider's usual balance."""
        self.baselines.reset(context)
        self.tracker.baseline_changed()
        self._save()
        self._force_publish()

    @callback
    def async_update_settings(self, **changes: Any) -> None:
        """Change the rider's knobs (numbers and switches)."""
        current = self.tracker.settings.to_dict()
        current.update(changes)
        self.tracker.update_settings(RiderSettings.from_dict(current))
        self._save()
        self._force_publish()

    @callback
    def async_learn(self, context: str, summary: SessionSummary) -> None:
        """Teach a baseline from an imported ride."""
        self.baselines.learn(context, summary)
        self.tracker.baseline_changed()
        self._save()
        self._force_publish()

    # --- plumbing --------------------------------------------------------------

    @callback
    def _on_samples(self, samples: list[Sample]) -> None:
        self._handle(self.tracker.push(samples))
        self._dirty = True

    @callback
    def _handle(self, alerts: list[Alert], ended: datetime | None = None) -> None:
        for alert in alerts:
            if alert.type is AlertType.SESSION_STARTED:
                self._session_started = dt_util.utcnow()
            elif alert.type is AlertType.SESSION_ENDED:
                summary: SessionSummary = alert.data.pop("summary")
                started = self._session_started or dt_util.utcnow()
                self.sessions.append(
                    SessionRecord(
                        started=started.isoformat(),
                        ended=(ended or dt_util.utcnow()).isoformat(),
                        summary=summary,
                    )
                )
                del self.sessions[:-RECENT_SESSIONS]
                self.last_session_samples = self.tracker.last_session_samples
                self._session_started = None
                self._save()
            for listener in list(self._alert_listeners):
                listener(alert)

    @callback
    def _on_status(self, status: SourceStatus) -> None:
        was = self._status.state
        self._status = status
        if status.state is SourceState.DISCONNECTED and was is not status.state:
            LOGGER.warning("Rider sensors unavailable: %s", status.detail)
        elif status.state is SourceState.CONNECTED and was is SourceState.DISCONNECTED:
            LOGGER.info("Rider sensors are back")
        self._force_publish()

    @callback
    def _force_publish(self) -> None:
        self._dirty = True
        self._publish(None)

    def indoor_vs_outdoor(self) -> tuple[dict[str, Any], ...]:
        """Per power band ridden on both sides: usual balance indoors and outdoors."""
        if "outdoor" not in self.baselines.by_context:
            return ()
        rows = compare_baselines(
            self.baselines.get("indoor"), self.baselines.get("outdoor")
        )
        return tuple(r.to_dict(1) for r in rows if r.difference_pts is not None)

    @callback
    def _publish(self, _now: datetime | None) -> None:
        if not self._dirty:
            if self._settle_ticks > 0:
                # Entities that write slowly still owe the latest value.
                self._settle_ticks -= 1
                self.async_update_listeners()
            return
        self._dirty = False
        self._settle_ticks = SETTLE_TICKS
        self.async_set_updated_data(
            RideSnapshot(
                available=self._status.state is SourceState.CONNECTED,
                riding=self.tracker.active,
                sample=self.tracker.last_sample,
                live=self.tracker.live(),
                power_3s_w=self.tracker.power_3s_w(),
                minutes_since_break=self.tracker.minutes_since_break(),
                devices=self.source.devices,
                sessions=tuple(self.sessions),
                indoor_vs_outdoor=self.indoor_vs_outdoor(),
                settings=self.tracker.settings,
            )
        )

    def diagnostics(self) -> dict[str, Any]:
        """Coordinator and source state for the diagnostics download."""
        live = self.tracker.live()
        return {
            "status": {"state": self._status.state, "detail": self._status.detail},
            "source": self.source.diagnostics(),
            "settings": self.tracker.settings.to_dict(),
            "baselines": self.baselines.to_dict(),
            "session": None if live is None else live.to_dict(),
            "recent_sessions": [asdict(s.card()) for s in self.sessions],
            "power_sources": sorted(
                {
                    str(s.power_source)
                    for s in self.tracker.samples[-50:]
                    if s.power_source
                }
            ),
        }

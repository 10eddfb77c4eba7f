"""The RideCoordinator: one per config entry, owns the source and the session.

Pure push, like Home Assistant's ``wled`` coordinator: the source calls in with
readings, its state and its devices; the coordinator runs the session and hands
the entities one frozen :class:`RideSnapshot`. What is kept between restarts is
``store.py``'s job; how often each sensor writes is the sensor's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from . import statistics
from .analysis import AnalysisSettings, Baseline, Baselines, LiveMetrics, SessionSummary
from .analysis.compare import BandComparison, compare_baselines
from .analysis.live_dynamics import DynamicsNow
from .analysis.session import Alert, AlertType, RiderSettings, SessionTracker
from .const import DOMAIN, LOGGER, PUBLISH_INTERVAL
from .model import Sample
from .registry import SensorDeviceRegistry
from .sources import SensorDevice, Source, SourceListener, SourceState, SourceStatus
from .store import (
    RECENT_SESSIONS,
    RiderData,
    RiderStore,
    RunningSession,
    SessionCard,
    SessionRecord,
)

type RideBalanceConfigEntry = ConfigEntry[RideCoordinator]

# How often a running session is written down, so a crash loses little.
SESSION_SAVE_INTERVAL = timedelta(minutes=2)
# A session stored at shutdown is resumed when Home Assistant is back within this.
RESUME_WITHIN = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class RideSnapshot:
    """What the entities show, published at most once per second."""

    available: bool
    riding: bool = False
    sample: Sample | None = None
    live: LiveMetrics | None = None
    power_3s_w: float | None = None
    minutes_since_break: float | None = None
    dynamics: DynamicsNow | None = None
    devices: Mapping[str, SensorDevice] = field(
        default_factory=lambda: MappingProxyType({})
    )
    sessions: tuple[SessionCard, ...] = ()
    indoor_vs_outdoor: tuple[BandComparison, ...] = ()
    settings: RiderSettings = field(default_factory=RiderSettings)


class RideCoordinator(DataUpdateCoordinator[RideSnapshot]):
    """Receives samples, runs sessions and publishes snapshots to entities.

    Samples arrive at the sensors' rate (about 4 Hz); entities are told at most
    once per ``PUBLISH_INTERVAL``, and only when something arrived since the last
    publication. Alerts go out at once.
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
        self._store = RiderStore(hass, entry.entry_id)
        self._baselines = Baselines()
        self._sessions: list[SessionRecord] = []
        self._ride_ids: set[str] = set()
        self._started = False
        self._unsaved = False  # changed while setting up, saved once set up
        self._tracker = SessionTracker(RiderSettings(), self._baselines)
        # The last ended live session's readings and start, for the export.
        self._last_session_start: datetime | None = None  # its readings: tracker's
        self._session_started: datetime | None = None
        self._status = SourceStatus(SourceState.CONNECTING)
        self._devices: Mapping[str, SensorDevice] = MappingProxyType({})
        self._device_registry = SensorDeviceRegistry(hass, entry.entry_id)
        self._dirty = False
        self._unsubs: list[CALLBACK_TYPE] = []
        self._unsub_hass_stop: CALLBACK_TYPE | None = None
        self._alert_listeners: list[Callable[[Alert], None]] = []
        self.data = RideSnapshot(available=False)
        self._dynamics_present = False

    # --- life cycle ------------------------------------------------------------

    async def async_start(self) -> None:
        """Load what was stored, start the source and the clocks."""
        await self._async_load()
        # Sessions kept before trends existed (or while the recorder was off)
        # reach the statistics too; rows are replaced, never doubled.
        statistics.async_add_all(
            self.hass,
            self.config_entry.entry_id,
            self.config_entry.title,
            self._sessions,
        )
        await self.source.async_start(
            SourceListener(self._on_samples, self._on_status, self._on_devices)
        )
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
        # Home Assistant does not unload entries when it stops: save the ride so far
        # then (the Store writes it before Home Assistant exits), to resume it.
        self._unsub_hass_stop = self.hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, self._on_hass_stop
        )
        self._publish(None)

    @callback
    def async_set_up(self) -> None:
        """The entry is set up: from now on what changes is saved.

        Until then nothing is written (a session the load closed is saved now,
        and so is a file the load found damaged), so a setup that fails after
        the load leaves the rider's file as it was.
        """
        self._started = True
        if self._unsaved or self._store.needs_rewrite:
            self._save()

    async def async_shutdown(self) -> None:
        """Stop the source and clocks, keep a running session for resumption.

        After a failed setup Home Assistant calls this too: then nothing is
        saved, so what could not be read (or was not yet) is never written over.
        """
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._unsub_hass_stop is not None:
            self._unsub_hass_stop()
            self._unsub_hass_stop = None
        await self.source.async_stop()
        if self._started:
            await self._store.async_save(self._rider_data())
            self._started = False
        await super().async_shutdown()

    async def _async_load(self) -> None:
        rider = await self._store.async_load()
        self._baselines = rider.baselines
        self._tracker = SessionTracker(rider.settings, self._baselines)
        self._sessions = list(rider.sessions)
        self._ride_ids = set(rider.ride_ids)
        if rider.running is not None:
            await self._async_resume(rider.running)

    async def _async_resume(self, running: RunningSession) -> None:
        saved = running.saved
        # Replaying an hour of readings takes a noticeable fraction of a second:
        # off the loop (nothing else touches the tracker before the source starts).
        await self.hass.async_add_executor_job(
            self._tracker.resume,
            list(running.samples),
            (dt_util.utcnow() - saved).total_seconds(),
        )
        self._session_started = running.started
        if dt_util.utcnow() - saved > RESUME_WITHIN:
            # Too long ago to be the same ride: close it with what it had.
            LOGGER.info("Closing the session interrupted at %s", saved.isoformat())
            self._handle(self._tracker.close(), ended=saved)
        else:
            LOGGER.info(
                "Resuming the session started at %s", running.started.isoformat()
            )

    def _rider_data(self) -> RiderData:
        """What is stored: a running session too, so a restart can resume it."""
        running = None
        if self._tracker.active and self._session_started:
            running = RunningSession(
                started=self._session_started,
                saved=dt_util.utcnow(),
                samples=tuple(self._tracker.samples),
            )
        return RiderData(
            settings=self._tracker.settings,
            baselines=self._baselines,
            sessions=tuple(self._sessions),
            running=running,
            ride_ids=frozenset(self._ride_ids),
        )

    @callback
    def _on_hass_stop(self, _event: Event) -> None:
        self._unsub_hass_stop = None  # fired: a listen_once listener is gone
        self._save()

    @callback
    def _save_running(self, _now: datetime) -> None:
        if self._tracker.active:
            self._save()

    @callback
    def _save(self) -> None:
        if self._started:
            self._store.async_delay_save(self._rider_data)
        else:
            self._unsaved = True

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
        self._handle(self._tracker.start())
        self._force_publish()

    @callback
    def async_stop_session(self) -> None:
        """End the running session now."""
        self._handle(self._tracker.stop())
        self._force_publish()

    @callback
    def async_reset_baseline(self, context: str | None = None) -> None:
        """Forget what was learnt of the rider's usual balance."""
        self._baselines.reset(context)
        self._sessions = [
            replace(s, learnt=False) if context in (None, s.context) else s
            for s in self._sessions
        ]
        self._tracker.baseline_changed()
        self._save()
        self._force_publish()

    @callback
    def async_update_settings(self, settings: RiderSettings) -> None:
        """Use and keep the rider's new knobs (numbers and switches)."""
        self._tracker.update_settings(settings)
        self._save()
        self._force_publish()

    @callback
    def async_learn(
        self,
        context: str,
        summary: SessionSummary,
        ride_id: str | None = None,
        started: datetime | None = None,
    ) -> None:
        """Teach a baseline from an imported ride (remembered, to learn it once).

        A ride whose start is known is also kept as a session, at its own date.
        """
        if ride_id is not None:
            self._ride_ids.add(ride_id)
        if started is not None:
            ended = started + timedelta(seconds=summary.duration_s)
            self._record(
                SessionRecord(
                    started=dt_util.as_utc(started).isoformat(),
                    ended=dt_util.as_utc(ended).isoformat(),
                    summary=summary,
                )
            )
        self._baselines.learn(context, summary)
        self._tracker.baseline_changed()
        self._save()
        self._force_publish()

    # --- what the rider's data is -----------------------------------------------

    def analysis_settings(self) -> AnalysisSettings:
        """The engine's settings from the rider's knobs (for imported rides)."""
        return self._tracker.settings.analysis

    def learnt_rides(self) -> frozenset[str]:
        """The identities of the rides already learnt from files."""
        return frozenset(self._ride_ids)

    def baseline(self, context: str) -> Baseline:
        """The rider's usual balance in ``context`` ("indoor" or "outdoor"); an
        empty one, not kept, where the rider has none yet (reading adds nothing)."""
        found = self._baselines.find(context)
        if found is None:
            return Baseline(power_edges_w=self._baselines.power_edges_w)
        return found

    def session_for_export(self) -> tuple[tuple[Sample, ...], datetime] | None:
        """The running session's readings, else the last one's, with its start.

        Only live sessions: an imported ride is not one to export. ``None`` when
        there is none (or the last one was deleted).
        """
        if self._tracker.active and self._tracker.samples:
            start = self._session_started or dt_util.utcnow()
            return tuple(self._tracker.samples), start
        if self._last_session_start is None:
            return None
        return tuple(self._tracker.last_session_samples), self._last_session_start

    # --- plumbing --------------------------------------------------------------

    @callback
    def async_delete_session(self, started: str) -> SessionRecord:
        """Forget one session: out of the list, the baseline and the trends.

        The baseline it was learnt into is learnt again from the sessions that
        remain (those it still held), in the order they were ridden. Raises
        ``KeyError`` when no session started at ``started``.
        """
        record = next((s for s in self._sessions if s.started == started), None)
        if record is None:
            raise KeyError(started)
        before = list(self._sessions)
        self._sessions.remove(record)
        last = self._last_session_start
        if last is not None and last.isoformat() == started:
            self._last_session_start = None
            self._tracker.last_session_samples = []
        if record.learnt:
            self._relearn(record.context)
        statistics.async_rebuild(
            self.hass,
            self.config_entry.entry_id,
            self.config_entry.title,
            before,
            self._sessions,
        )
        self._save()
        self._force_publish()
        return record

    def _relearn(self, context: str) -> None:
        self._baselines.reset(context)
        for session in self._sessions:
            if session.learnt and session.context == context:
                try:
                    self._baselines.learn(context, session.summary)
                except ValueError as err:  # cut into other power bands
                    LOGGER.warning("Session %s not relearnt: %s", session.started, err)
        self._tracker.baseline_changed()

    @callback
    def _record(self, record: SessionRecord) -> None:
        """Keep a finished or imported session, in start order, and its trends."""
        self._sessions.append(record)
        self._sessions.sort(key=lambda s: s.started)
        statistics.async_add_sessions(
            self.hass,
            self.config_entry.entry_id,
            self.config_entry.title,
            self._sessions,
            record,
        )

    @callback
    def _on_samples(self, samples: list[Sample]) -> None:
        self._handle(self._tracker.push(samples))
        self._dirty = True

    @callback
    def _handle(self, alerts: list[Alert], ended: datetime | None = None) -> None:
        for alert in alerts:
            if alert.type is AlertType.SESSION_STARTED:
                self._session_started = dt_util.utcnow()
            elif alert.type is AlertType.SESSION_ENDED:
                summary: SessionSummary = alert.data.pop("summary")
                started = self._session_started or dt_util.utcnow()
                self._record(
                    SessionRecord(
                        started=started.isoformat(),
                        ended=(ended or dt_util.utcnow()).isoformat(),
                        summary=summary,
                    )
                )
                self._last_session_start = started
                self._session_started = None
                self._save()
            for listener in list(self._alert_listeners):
                listener(alert)

    @callback
    def _on_devices(self, devices: Mapping[str, SensorDevice]) -> None:
        if devices == self._devices:
            return
        self._devices = MappingProxyType(dict(devices))
        self._device_registry.async_update(self._devices)
        self._dirty = True

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

    def _indoor_vs_outdoor(self) -> tuple[BandComparison, ...]:
        """Per power band ridden on both sides: usual balance indoors and outdoors."""
        if "outdoor" not in self._baselines.by_context:
            return ()
        rows = compare_baselines(
            self._baselines.get("indoor"), self._baselines.get("outdoor")
        )
        return tuple(r for r in rows if r.difference_pts is not None)

    def _log_dynamics(self, dynamics: DynamicsNow) -> None:
        """Say once when cycling dynamics start arriving and once when they stop."""
        present = dynamics.absent_reason is None
        if present == self._dynamics_present:
            return
        if present:
            LOGGER.info("Cycling dynamics received from the pedals")
        elif self._dynamics_present:
            LOGGER.info("Cycling dynamics unavailable: %s", dynamics.absent_reason)
        self._dynamics_present = present

    @callback
    def _publish(self, _now: datetime | None) -> None:
        if not self._dirty:
            return
        self._dirty = False
        dynamics = self._tracker.dynamics_now()
        self._log_dynamics(dynamics)
        self.async_set_updated_data(
            RideSnapshot(
                available=self._status.state is SourceState.CONNECTED,
                riding=self._tracker.active,
                sample=self._tracker.last_sample,
                live=self._tracker.live(),
                power_3s_w=self._tracker.power_3s_w(),
                minutes_since_break=self._tracker.minutes_since_break(),
                dynamics=dynamics,
                devices=self._devices,
                sessions=tuple(s.card() for s in self._sessions[-RECENT_SESSIONS:]),
                indoor_vs_outdoor=self._indoor_vs_outdoor(),
                settings=self._tracker.settings,
            )
        )

    def diagnostics(self) -> dict[str, Any]:
        """Coordinator and source state for the diagnostics download."""
        live = self._tracker.live()
        return {
            "status": {"state": self._status.state, "detail": self._status.detail},
            "source": self.source.diagnostics(),
            "settings": self._tracker.settings.to_dict(),
            "baselines": self._baselines.to_dict(),
            "session": None if live is None else live.to_dict(),
            "cycling_dynamics": asdict(self._tracker.dynamics_now()),
            "sessions": len(self._sessions),
            "recent_sessions": [
                asdict(s.card()) for s in self._sessions[-RECENT_SESSIONS:]
            ],
            "power_sources": sorted(
                {
                    str(s.power_source)
                    for s in self._tracker.samples[-50:]
                    if s.power_source
                }
            ),
        }

"""The RideCoordinator: one per config entry, owns the source and the analysis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .analysis import Baselines, LiveMetrics, SessionSummary
from .const import DOMAIN, LOGGER, PUBLISH_INTERVAL
from .model import READING_FIELDS, Sample
from .session import AlertType, Notice, RiderSettings, SessionTracker
from .sources import SensorDevice, Source, SourceState, SourceStatus

type RideBalanceConfigEntry = ConfigEntry[RideCoordinator]

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1
# How often a running session is written down, so a crash loses little.
SESSION_SAVE_INTERVAL = timedelta(minutes=2)
# A session stored at shutdown is resumed when Home Assistant is back within this.
RESUME_WITHIN = timedelta(minutes=5)
RECENT_SESSIONS = 20
# Publication ticks after the last reading, so that entities writing every N
# seconds (sensor.py, ``every_s``) still show the final value.
SETTLE_TICKS = 60
_COLUMNS = ("t_s", *READING_FIELDS)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A finished session as kept in the Store and shown to cards."""

    started: str
    ended: str
    summary: SessionSummary

    def to_dict(self) -> dict[str, Any]:
        """For the Store."""
        return {"started": self.started, "ended": self.ended, **self.summary.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionRecord:
        """From the Store."""
        return cls(
            started=str(data["started"]),
            ended=str(data["ended"]),
            summary=SessionSummary.from_dict(data),
        )

    def card(self) -> dict[str, Any]:
        """The short form a dashboard card shows."""
        s = self.summary
        return {
            "start": self.started,
            "duration_min": round(s.riding_s / 60.0, 1),
            "avg_power_w": None if s.avg_power_w is None else round(s.avg_power_w),
            "balance_left_pct": _round(s.balance_left_pct, 1),
            "episodes": len(s.episodes),
            "context": s.context,
        }


def storage_key(entry: ConfigEntry[Any]) -> str:
    """Where a rider's baseline and sessions are stored."""
    return f"{DOMAIN}.{entry.entry_id}"


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


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


def _samples_to_columns(samples: list[Sample]) -> dict[str, list[float | None]]:
    return {name: [getattr(s, name) for s in samples] for name in _COLUMNS}


def _columns_to_samples(columns: dict[str, list[float | None]]) -> list[Sample]:
    n = len(columns.get("t_s", []))
    out = []
    for i in range(n):
        values = {name: columns[name][i] for name in _COLUMNS if name in columns}
        t_s = values.pop("t_s")
        assert t_s is not None
        out.append(Sample(t_s=t_s, **values))  # type: ignore[arg-type]
    return out


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
        self.store: Store[dict[str, Any]] = Store(
            hass,
            STORAGE_VERSION,
            storage_key(entry),
            minor_version=STORAGE_MINOR_VERSION,
            atomic_writes=True,
        )
        self.baselines = Baselines()
        self.sessions: list[SessionRecord] = []
        self.tracker = SessionTracker(RiderSettings(), self.baselines)
        self.last_session_samples: list[Sample] = []
        self._session_started: datetime | None = None
        self._status = SourceStatus(SourceState.CONNECTING)
        self._dirty = False
        self._settle_ticks = 0
        self._unsubs: list[CALLBACK_TYPE] = []
        self._alert_listeners: list[Callable[[Notice], None]] = []
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
        await self.store.async_save(self._stored(keep_running=True))
        await super().async_shutdown()

    async def _async_load(self) -> None:
        stored = await self.store.async_load()
        if not stored:
            return
        self.tracker.settings = RiderSettings.from_dict(stored.get("settings", {}))
        try:
            self.baselines = Baselines.from_dict(stored["baselines"])
        except (KeyError, ValueError) as err:
            LOGGER.warning("Stored baseline not usable (%s); starting afresh", err)
            self.baselines = Baselines()
        self.tracker.baselines = self.baselines
        self.sessions = [SessionRecord.from_dict(s) for s in stored.get("sessions", [])]
        running = stored.get("running")
        if running:
            await self._async_restore_running(running)

    async def _async_restore_running(self, running: dict[str, Any]) -> None:
        samples = _columns_to_samples(running["columns"])
        saved = dt_util.parse_datetime(running["saved"])
        started = dt_util.parse_datetime(running["started"])
        if not samples or saved is None or started is None:
            return
        # Replaying an hour of readings takes a noticeable fraction of a second:
        # off the loop (nothing else touches the tracker before the source starts).
        await self.hass.async_add_executor_job(
            self.tracker.resume, samples, (dt_util.utcnow() - saved).total_seconds()
        )
        self._session_started = started
        if dt_util.utcnow() - saved > RESUME_WITHIN:
            # Too long ago to be the same ride: close it with what it had.
            LOGGER.info("Closing the session interrupted at %s", saved.isoformat())
            self._handle(self.tracker.close(), ended=saved)
        else:
            LOGGER.info("Resuming the session started at %s", started.isoformat())

    def _stored(self, keep_running: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "settings": self.tracker.settings.to_dict(),
            "baselines": self.baselines.to_dict(),
            "sessions": [s.to_dict() for s in self.sessions[-RECENT_SESSIONS:]],
            "running": None,
        }
        if keep_running and self.tracker.active and self._session_started:
            data["running"] = {
                "started": self._session_started.isoformat(),
                "saved": dt_util.utcnow().isoformat(),
                "columns": _samples_to_columns(self.tracker.samples),
            }
        return data

    @callback
    def _save_running(self, _now: datetime) -> None:
        if self.tracker.active:
            self.store.async_delay_save(lambda: self._stored(keep_running=True), 1)

    @callback
    def _save(self) -> None:
        self.store.async_delay_save(lambda: self._stored(keep_running=True), 1)

    # --- what the rider does ---------------------------------------------------

    @callback
    def async_add_alert_listener(
        self, listener: Callable[[Notice], None]
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
    def _handle(self, notices: list[Notice], ended: datetime | None = None) -> None:
        for notice in notices:
            if notice.type is AlertType.SESSION_STARTED:
                self._session_started = dt_util.utcnow()
            elif notice.type is AlertType.SESSION_ENDED:
                summary: SessionSummary = notice.data.pop("summary")
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
                listener(notice)

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
        """Per power band: the usual balance indoors and outdoors, side by side."""
        if "outdoor" not in self.baselines.by_context:
            return ()
        indoor = self.baselines.get("indoor")
        outdoor = self.baselines.get("outdoor")
        rows = []
        for band in outdoor.labels:
            i, o = indoor.expectation(band), outdoor.expectation(band)
            if i.weight <= 0 or o.weight <= 0:
                continue
            diff = o.mean_left_pct - i.mean_left_pct
            # Standard error of each band mean from its long-run block noise.
            se = math.hypot(
                i.sd_long_run_pts / math.sqrt(i.weight),
                o.sd_long_run_pts / math.sqrt(o.weight),
            )
            rows.append(
                {
                    "band": band,
                    "indoor_left_pct": round(i.mean_left_pct, 1),
                    "outdoor_left_pct": round(o.mean_left_pct, 1),
                    "difference_pts": round(diff, 1),
                    "significant": abs(diff) > max(2.0 * se, 1.0),
                }
            )
        return tuple(rows)

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
            "recent_sessions": [s.card() for s in self.sessions],
            "power_sources": sorted(
                {
                    str(s.power_source)
                    for s in self.tracker.samples[-50:]
                    if s.power_source
                }
            ),
        }

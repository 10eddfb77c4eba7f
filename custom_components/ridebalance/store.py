"""What is kept of a rider between restarts: settings, baselines, recent sessions.

One Home Assistant Store per config entry. Every read goes through :func:`decode`
and every write through :func:`encode`, so what the file may hold is decided in
one place. A running session is kept as columns of readings (one list per
field), which is several times smaller in JSON than a list of objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
import math
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .analysis import Baselines, SessionSummary
from .analysis.session import RiderSettings
from .const import DOMAIN, LOGGER
from .model import READING_FIELDS, Sample

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1
# Finished sessions kept for the dashboard and diagnostics.
RECENT_SESSIONS = 20
# A save is written this long after it was asked for, so a burst of changes
# (a rider turning a number up step by step) is one write.
SAVE_DELAY_S = 1.0
COLUMNS: tuple[str, ...] = ("t_s", *READING_FIELDS)

type Columns = dict[str, list[float | None]]


@dataclass(frozen=True, slots=True)
class SessionCard:
    """The short form of a finished session a dashboard card shows."""

    start: str
    duration_min: float
    avg_power_w: float | None
    balance_left_pct: float | None
    episodes: int
    context: str | None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A finished session as kept in the Store."""

    started: str
    ended: str
    summary: SessionSummary

    def to_dict(self) -> dict[str, Any]:
        """For the Store."""
        return {"started": self.started, "ended": self.ended, **self.summary.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionRecord:
        """From the Store."""
        return cls(
            started=str(data["started"]),
            ended=str(data["ended"]),
            summary=SessionSummary.from_dict(dict(data)),
        )

    def card(self) -> SessionCard:
        """What a dashboard card shows of this session."""
        s = self.summary
        return SessionCard(
            start=self.started,
            duration_min=round(s.riding_s / 60.0, 1),
            avg_power_w=None if s.avg_power_w is None else round(s.avg_power_w),
            balance_left_pct=_round(s.balance_left_pct, 1),
            episodes=len(s.episodes),
            context=s.context,
        )


@dataclass(frozen=True, slots=True)
class RunningSession:
    """A session still under way, kept so that a restart can resume it."""

    started: datetime
    saved: datetime
    samples: tuple[Sample, ...]


@dataclass(frozen=True, slots=True)
class RiderData:
    """Everything stored for one rider."""

    settings: RiderSettings = field(default_factory=RiderSettings)
    baselines: Baselines = field(default_factory=Baselines)
    sessions: tuple[SessionRecord, ...] = ()
    running: RunningSession | None = None


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def samples_to_columns(samples: Iterable[Sample]) -> Columns:
    """Readings as one list per field (``None`` where a field was not measured)."""
    rows = list(samples)
    return {name: [getattr(s, name) for s in rows] for name in COLUMNS}


def columns_to_samples(columns: Mapping[str, list[float | None]]) -> list[Sample]:
    """The inverse of :func:`samples_to_columns`; a missing field reads as None."""
    times = columns.get("t_s", [])
    present = [name for name in READING_FIELDS if name in columns]
    out: list[Sample] = []
    for i, t_s in enumerate(times):
        if t_s is None:
            raise ValueError(f"reading {i} has no time")
        values = {name: columns[name][i] for name in present}
        out.append(Sample(t_s, **values))  # type: ignore[arg-type]
    return out


def encode(data: RiderData) -> dict[str, Any]:
    """The Store's JSON for a rider; only the latest sessions are kept."""
    running = data.running
    return {
        "settings": data.settings.to_dict(),
        "baselines": data.baselines.to_dict(),
        "sessions": [s.to_dict() for s in data.sessions[-RECENT_SESSIONS:]],
        "running": None
        if running is None
        else {
            "started": running.started.isoformat(),
            "saved": running.saved.isoformat(),
            "columns": samples_to_columns(running.samples),
        },
    }


def decode(stored: Mapping[str, Any]) -> RiderData:
    """A rider from the Store's JSON; an unusable baseline starts afresh."""
    try:
        baselines = Baselines.from_dict(stored["baselines"])
    except (KeyError, ValueError) as err:
        LOGGER.warning("Stored baseline not usable (%s); starting afresh", err)
        baselines = Baselines()
    return RiderData(
        settings=RiderSettings.from_dict(stored.get("settings", {})),
        baselines=baselines,
        sessions=tuple(SessionRecord.from_dict(s) for s in stored.get("sessions", [])),
        running=_decode_running(stored.get("running")),
    )


def _decode_running(running: Mapping[str, Any] | None) -> RunningSession | None:
    if not running:
        return None
    samples = columns_to_samples(running["columns"])
    saved = dt_util.parse_datetime(running["saved"])
    started = dt_util.parse_datetime(running["started"])
    if not samples or saved is None or started is None:
        return None
    return RunningSession(started=started, saved=saved, samples=tuple(samples))


def storage_key(entry_id: str) -> str:
    """Where a rider's settings, baseline and sessions are stored."""
    return f"{DOMAIN}.{entry_id}"


class RiderStore:
    """Loads and saves one rider's data (a thin layer over Home Assistant's Store)."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._store: Store[dict[str, Any]] = Store(
            hass,
            STORAGE_VERSION,
            storage_key(entry_id),
            minor_version=STORAGE_MINOR_VERSION,
            atomic_writes=True,
        )

    async def async_load(self) -> RiderData:
        """What was stored, or a new rider's defaults when nothing was."""
        stored = await self._store.async_load()
        return decode(stored) if stored else RiderData()

    async def async_save(self, data: RiderData) -> None:
        """Write now (at shutdown)."""
        await self._store.async_save(encode(data))

    @callback
    def async_delay_save(self, data: Callable[[], RiderData]) -> None:
        """Write soon, with what ``data`` returns then."""
        self._store.async_delay_save(lambda: encode(data()), SAVE_DELAY_S)

    async def async_remove(self) -> None:
        """Delete the rider's file (the config entry is being removed)."""
        await self._store.async_remove()

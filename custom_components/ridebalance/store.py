"""What is kept of a rider between restarts: settings, baselines, every session.

One Home Assistant Store per config entry. Every read goes through :func:`decode`
and every write through :func:`encode`, so what the file may hold is decided in
one place. A running session is kept as columns of readings (one list per
field), which is several times smaller in JSON than a list of objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from copy import deepcopy
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
import json
import math
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import UnsupportedStorageVersionError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .analysis import Baseline, Baselines, SessionSummary
from .analysis.session import RiderSettings
from .const import DOMAIN, LOGGER
from .model import DYNAMICS_FIELDS, READING_FIELDS, RiderPosition, Sample
from .store_check import problem
from .store_files import (
    BACKUP_SUFFIX,
    backup_of,
    keep_aside,
    keep_backup,
    keep_backup_aside,
)

STORAGE_VERSION = 1
# 1.2: the identities of the rides learnt from files (``ride_ids``).
STORAGE_MINOR_VERSION = 2
# The latest sessions the dashboard and diagnostics list (the Store keeps all).
RECENT_SESSIONS = 20
# A save is written this long after it was asked for, so a burst of changes
# (a rider turning a number up step by step) is one write.
SAVE_DELAY_S = 1.0
# Flagged episodes kept per stored session: a ride that flags more (a loose
# pedal all afternoon) keeps the first ones and the count of the rest, so every
# session stays a few kilobytes however long it ran.
STORED_EPISODES = 40
COLUMNS: tuple[str, ...] = ("t_s", *READING_FIELDS, *DYNAMICS_FIELDS)

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
    """A finished or imported session as kept in the Store.

    Its summary is a few kilobytes whatever the ride's length (figures per band,
    the baseline's block statistics, at most ``STORED_EPISODES`` flagged
    episodes), so every session can be kept. ``learnt`` is whether the rider's
    baseline still holds it: a baseline reset forgets every session learnt
    before it. ``episodes_not_kept`` counts the episodes past the cap.
    """

    started: str
    ended: str
    summary: SessionSummary
    learnt: bool = True
    episodes_not_kept: int = 0

    def __post_init__(self) -> None:
        extra = len(self.summary.episodes) - STORED_EPISODES
        if extra > 0:
            kept = replace(
                self.summary, episodes=self.summary.episodes[:STORED_EPISODES]
            )
            object.__setattr__(self, "summary", kept)
            object.__setattr__(
                self, "episodes_not_kept", self.episodes_not_kept + extra
            )

    @property
    def context(self) -> str:
        """Indoor or outdoor (a live session without one is indoor)."""
        return self.summary.context or "indoor"

    def to_dict(self) -> dict[str, Any]:
        """For the Store."""
        return {
            "started": self.started,
            "ended": self.ended,
            "learnt": self.learnt,
            "episodes_not_kept": self.episodes_not_kept,
            **self.summary.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionRecord:
        """From the Store."""
        return cls(
            started=str(data["started"]),
            ended=str(data["ended"]),
            summary=SessionSummary.from_dict(dict(data)),
            learnt=bool(data.get("learnt", True)),
            episodes_not_kept=int(data.get("episodes_not_kept", 0)),
        )

    def card(self) -> SessionCard:
        """What a dashboard card shows of this session."""
        s = self.summary
        return SessionCard(
            start=self.started,
            duration_min=round(s.riding_s / 60.0, 1),
            avg_power_w=None if s.avg_power_w is None else round(s.avg_power_w),
            balance_left_pct=_round(s.balance_left_pct, 1),
            episodes=len(s.episodes) + self.episodes_not_kept,
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
    ride_ids: frozenset[str] = frozenset()
    """The rides learnt from files (their identities), so each is learnt once."""


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def samples_to_columns(samples: Iterable[Sample]) -> Columns:
    """Readings as one list per field (``None`` where a field was not measured)."""
    rows = list(samples)
    columns = {name: [getattr(s, name) for s in rows] for name in COLUMNS}
    # Most pedals never send cycling dynamics: keep those columns only when used.
    return {
        name: values
        for name, values in columns.items()
        if name not in DYNAMICS_FIELDS or any(v is not None for v in values)
    }


def columns_to_samples(columns: Mapping[str, list[float | None]]) -> list[Sample]:
    """The inverse of :func:`samples_to_columns`; a missing field reads as None."""
    times = columns.get("t_s", [])
    present = [name for name in COLUMNS[1:] if name in columns]
    out: list[Sample] = []
    for i, t_s in enumerate(times):
        if t_s is None:
            raise ValueError(f"reading {i} has no time")
        values = {name: columns[name][i] for name in present}
        if (position := values.get("rider_position")) is not None:
            values["rider_position"] = RiderPosition(int(position))
        out.append(Sample(t_s, **values))  # type: ignore[arg-type]
    return out


def encode(data: RiderData) -> dict[str, Any]:
    """The Store's JSON for a rider."""
    running = data.running
    return {
        "settings": data.settings.to_dict(),
        "baselines": data.baselines.to_dict(),
        "sessions": [s.to_dict() for s in data.sessions],
        "ride_ids": sorted(data.ride_ids),
        "running": None
        if running is None
        else {
            "started": running.started.isoformat(),
            "saved": running.saved.isoformat(),
            "columns": samples_to_columns(running.samples),
        },
    }


@dataclass(frozen=True, slots=True)
class Decoded:
    """A rider read back: the parts that are sound, and the damaged ones as stored."""

    data: RiderData
    damaged: dict[str, Any]
    reasons: tuple[str, ...]


class _Parts:
    """Collects the damaged parts of a stored rider, each as it was stored."""

    def __init__(self) -> None:
        self.damaged: dict[str, Any] = {}
        self.reasons: list[str] = []

    def read[T](
        self, key: str, label: str, raw: Any, read: Callable[[Any], T]
    ) -> T | None:
        """``read(raw)`` checked; None (and the part kept aside) when damaged."""
        try:
            value = read(raw)
            reason = problem(value)
        except Exception as err:  # any failure of a reader means a damaged part
            reason = f"{type(err).__name__}: {err}"
            value = None
        if reason is None:
            return value
        self.damaged[key] = raw
        self.reasons.append(f"{label} ({reason[:80]})")
        return None


def _mapping(raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise TypeError(f"a {type(raw).__name__} where a mapping belongs")
    return raw


def _list(raw: Any) -> list[Any]:
    if not isinstance(raw, list):
        raise TypeError(f"a {type(raw).__name__} where a list belongs")
    return raw


def decode(stored: Any) -> Decoded:
    """A rider from the Store's JSON, part by part: a damaged part is set aside.

    Settings, each context's baseline, each session, the running session and
    the learnt ride list are read and checked on their own; what is sound loads,
    what is not is returned as stored (to be kept in a file) with the reason.
    """
    parts = _Parts()
    if not isinstance(stored, Mapping):
        parts.damaged["data"] = stored
        parts.reasons.append(f"everything (a {type(stored).__name__}, not a mapping)")
        return Decoded(RiderData(), parts.damaged, tuple(parts.reasons))
    settings = parts.read(
        "settings",
        "settings",
        stored.get("settings", {}),
        lambda raw: RiderSettings.from_dict(dict(_mapping(raw))),
    )
    baselines = _decode_baselines(parts, stored.get("baselines"))
    raw_sessions = stored.get("sessions", [])
    if not isinstance(raw_sessions, list):
        parts.read("sessions", "the session list", raw_sessions, _list)
        raw_sessions = []
    sessions = []
    damaged_sessions = []
    for number, raw in enumerate(raw_sessions, 1):
        found = parts.read(
            "sessions",
            f"session {number}",
            raw,
            lambda r: SessionRecord.from_dict(_mapping(r)),
        )
        if found is None:
            damaged_sessions.append(raw)
        else:
            sessions.append(found)
    if damaged_sessions:
        parts.damaged["sessions"] = damaged_sessions
    running = parts.read(
        "running", "the running session", stored.get("running"), _decode_running
    )
    ride_ids = parts.read(
        "ride_ids", "the learnt ride list", stored.get("ride_ids", []), _ride_ids
    )
    return Decoded(
        RiderData(
            settings=settings or RiderSettings(),
            baselines=baselines,
            sessions=tuple(sessions),
            running=running,
            ride_ids=ride_ids or frozenset(),
        ),
        parts.damaged,
        tuple(parts.reasons),
    )


def _decode_baselines(parts: _Parts, raw: Any) -> Baselines:
    """Each context's baseline on its own; an unknown format is set aside whole."""
    if raw is None:
        return Baselines()
    whole = parts.read(
        "baselines",
        "the baselines",
        raw,
        lambda r: Baselines.from_dict({**_mapping(r), "contexts": {}}),
    )
    if whole is None:
        return Baselines()
    contexts = (
        raw.get("contexts", {}) if raw.get("version", 1) != 1 else {"indoor": raw}
    )
    if not isinstance(contexts, Mapping):
        parts.read("baselines", "the baselines", raw, _mapping)
        return whole
    damaged: dict[str, Any] = {}
    for context, item in contexts.items():
        found = parts.read(
            "baselines",
            f"the {context} baseline",
            item,
            lambda r: Baseline.from_dict(dict(_mapping(r))),
        )
        if found is None:
            damaged[context] = item
        else:
            whole.by_context[str(context)] = found
    if damaged:
        parts.damaged["baselines"] = {**raw, "contexts": damaged}
    return whole


def _ride_ids(raw: Any) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(i, str) for i in raw):
        raise TypeError("not a list of ride identities")
    return frozenset(raw)


def _decode_running(running: Any) -> RunningSession | None:
    if not running:
        return None
    running = _mapping(running)
    columns = _mapping(running["columns"])
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError("its columns differ in length")
    samples = columns_to_samples(columns)
    saved = dt_util.parse_datetime(running["saved"])
    started = dt_util.parse_datetime(running["started"])
    if saved is None or started is None:
        raise ValueError("its start or save time is not a time")
    if not samples:
        return None
    return RunningSession(started=started, saved=saved, samples=tuple(samples))


def store_issue_id(entry_id: str) -> str:
    """The repair issue about a rider's stored data (too new)."""
    return f"store_too_new_{entry_id}"


def damaged_issue_id(entry_id: str) -> str:
    """The repair issue about parts of a rider's stored data it could not read."""
    return f"store_damaged_{entry_id}"


def storage_key(entry_id: str) -> str:
    """Where a rider's settings, baseline and sessions are stored."""
    return f"{DOMAIN}.{entry_id}"


class StoreTooNewError(Exception):
    """The rider's file was written by a newer RideBalance: it is left untouched."""

    def __init__(self, found: str) -> None:
        super().__init__(f"stored by a newer RideBalance (store version {found})")
        self.found = found


def _taken(data: RiderData) -> RiderData:
    """``data`` as it is now, safe to encode in a worker thread: the baselines
    (learnt into in place) copied on the event loop; the rest never changes."""
    return replace(data, baselines=deepcopy(data.baselines))


class _Later:
    """What a delayed save writes: the rider's data taken when the write starts."""

    def __init__(self, data: Callable[[], RiderData]) -> None:
        self.data = data

    def __call__(self) -> dict[str, Any]:
        return encode(_taken(self.data()))


class _RiderFile(Store[dict[str, Any]]):
    """Home Assistant's Store, keeping the previous good file on every write.

    Encoding a rider and its JSON (hours of readings, every session) run in a
    worker thread: only taking the data runs on the event loop.
    """

    backup_ok = False  # the file on disk is one this version read whole or wrote
    loading = False

    async def async_save(self, data: dict[str, Any]) -> None:
        # Home Assistant saves a file of an older layout as soon as it migrated
        # it, during the load: before decode() checked it, before setup
        # succeeded, and with no backup. The first save after setup writes it.
        if not self.loading:
            await super().async_save(data)

    async def _async_write_data(self, data: dict[str, Any]) -> None:
        if isinstance(later := data.get("data_func"), _Later):
            data["data_func"] = partial(encode, _taken(later.data()))
        await super()._async_write_data(data)

    async def _async_migrate_func(
        self, old_major: int, old_minor: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        if (old_major, old_minor) > (self.version, self.minor_version):
            raise StoreTooNewError(f"{old_major}.{old_minor}")
        return old_data  # older layouts read as they are; decode() checks them

    def _write_prepared_data(self, mode: str, json_data: str | bytes) -> None:
        path = Path(self.path)
        if self.backup_ok and path.exists():
            keep_backup(path)  # atomic: a link (or copy) renamed over the .bak
        super()._write_prepared_data(mode, json_data)
        self.backup_ok = True


class RiderStore:
    """Loads and saves one rider's data, never writing over what it could not read.

    Nothing is written until a load succeeded; a file from a newer RideBalance
    is not read and stays as it is (:class:`StoreTooNewError`); damaged parts
    are kept in a file beside the store and reported in a repair issue (then
    ``needs_rewrite``), with the ``.bak`` then found (the saves that follow
    replace it) kept as ``<file>.bak-<hash>``; every write keeps the previous
    good file as ``<file>.bak``; when Home Assistant finds the file unreadable
    (and moves it aside), the ``.bak`` is read instead.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._hass = hass
        self._entry_id = entry_id
        self._store = _RiderFile(
            hass,
            STORAGE_VERSION,
            storage_key(entry_id),
            minor_version=STORAGE_MINOR_VERSION,
            atomic_writes=True,
            serialize_in_event_loop=False,
        )
        self._loaded = False
        self._refused = 0
        self._rewrite = False

    @property
    def needs_rewrite(self) -> bool:
        """The load set parts aside or read the ``.bak``: write once set up."""
        return self._rewrite

    @property
    def path(self) -> Path:
        """The rider's file."""
        return Path(self._store.path)

    async def async_load(self) -> RiderData:
        """What was stored (its sound parts), or a new rider's defaults."""
        self._store.loading = True
        try:
            stored = await self._store.async_load()
        except UnsupportedStorageVersionError as err:
            self._store.make_read_only()
            raise StoreTooNewError(str(err.found_version)) from err
        except StoreTooNewError:
            self._store.make_read_only()
            raise
        finally:
            self._store.loading = False
        restored = False
        if stored is None:
            stored = await self._hass.async_add_executor_job(self._read_backup)
            restored = stored is not None
        if stored is None:
            self._loaded = True
            return RiderData()
        # Checking an hour of readings takes a while: not on the event loop.
        decoded = await self._hass.async_add_executor_job(decode, stored)
        if decoded.damaged:
            kept, new = await self._hass.async_add_executor_job(
                self._keep_damaged, decoded
            )
            if new:  # the same damage found again (a setup retried): said once
                LOGGER.warning(
                    "Parts of %s could not be read and are kept in %s: %s",
                    self.path.name,
                    kept.name,
                    "; ".join(decoded.reasons),
                )
            self._report_damage(decoded.reasons, kept)
        if restored:
            LOGGER.warning(
                "%s was unreadable; loaded the previous good copy %s",
                self.path.name,
                self.path.name + BACKUP_SUFFIX,
            )
        self._store.backup_ok = not decoded.damaged and not restored
        self._rewrite = bool(decoded.damaged) or restored
        self._loaded = True
        return decoded.data

    def _read_backup(self) -> Any:
        try:
            stored = json.loads(backup_of(self.path).read_text(encoding="utf-8"))
        except OSError, ValueError:
            return None
        if not isinstance(stored, dict) or (
            stored.get("version"),
            stored.get("minor_version", 1),
        ) > (STORAGE_VERSION, STORAGE_MINOR_VERSION):
            return None
        return stored.get("data")

    def _keep_damaged(self, decoded: Decoded) -> tuple[Path, bool]:
        """Keep the damaged parts as stored, in a file named by its content
        (the same damage read again is kept once), and the ``.bak`` aside;
        also whether the damaged parts' file is new."""
        text = json.dumps(decoded.damaged, indent=1, default=str)
        kept = keep_aside(self.path, ".damaged", text.encode())
        keep_backup_aside(self.path)
        return kept

    def _report_damage(self, reasons: tuple[str, ...], kept: Path) -> None:
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            damaged_issue_id(self._entry_id),
            is_fixable=False,
            is_persistent=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key="store_damaged",
            translation_placeholders={
                "count": str(len(reasons)),
                "parts": "; ".join(reasons)[:600],
                "path": str(kept),
            },
        )

    def _writable(self) -> bool:
        if self._loaded:
            return True
        self._refused += 1
        if self._refused == 1:
            LOGGER.warning(
                "Not saving %s: it was not read, and is left as it is", self.path.name
            )
        return False

    async def async_save(self, data: RiderData) -> None:
        """Write now (at shutdown)."""
        if self._writable():
            self._rewrite = False
            encoded = await self._hass.async_add_executor_job(encode, _taken(data))
            await self._store.async_save(encoded)

    @callback
    def async_delay_save(self, data: Callable[[], RiderData]) -> None:
        """Write soon, with what ``data`` returns then."""
        if self._writable():
            self._rewrite = False
            self._store.async_delay_save(_Later(data), SAVE_DELAY_S)

    async def async_remove(self) -> None:
        """Delete the rider's file and its backup (the entry is being removed)."""
        await self._store.async_remove()
        await self._hass.async_add_executor_job(backup_of(self.path).unlink, True)

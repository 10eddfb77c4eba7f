"""The in-memory form of a ride read from a file.

A :class:`Ride` keeps the file's own resolution (usually one record per second)
as numpy arrays; ``NaN`` marks "not measured" so arithmetic stays vectorised.
The engine takes the arrays as they are (``analysis.analyze`` cleans them); the
head unit's figures and the dynamics start from :meth:`Ride.cleaned`, the same
cleaning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
import hashlib
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ..analysis.cleaning import CleanColumns, clean_columns, in_time_order
from ..analysis.settings import AnalysisSettings
from ..model import DYNAMICS_FIELDS, READING_FIELDS, ReadingArrays, Sample
from .dynamics import RideDynamics
from .errors import NoBalanceError, NoPowerError

type FloatArray = npt.NDArray[np.float64]
type BoolArray = npt.NDArray[np.bool_]
type BalanceSide = Literal["right", "unknown"]
type RideClock = Literal["timer", "wall"]

# Sub-sports that say "on a trainer" (FIT profile names); any other named
# sub-sport of a ride means outdoors, "generic" says nothing.
INDOOR_SUB_SPORTS = frozenset({"indoor_cycling", "virtual_activity", "spin"})
UNKNOWN_SUB_SPORTS = frozenset({"generic", "all"})


@dataclass(frozen=True, slots=True)
class HeadUnitSummary:
    """The session figures the recording device wrote itself (None = absent)."""

    right_pct: float | None = None
    balance_side: BalanceSide | None = None
    balance_raw: int | None = None
    avg_power_w: float | None = None
    normalized_power_w: float | None = None
    avg_cadence_rpm: float | None = None
    avg_heart_rate_bpm: float | None = None
    te_left_pct: float | None = None
    te_right_pct: float | None = None
    ps_left_pct: float | None = None
    ps_right_pct: float | None = None
    total_timer_s: float | None = None
    total_elapsed_s: float | None = None

    @property
    def left_pct(self) -> float | None:
        """The left share, when the head unit said which side it measured."""
        if self.right_pct is None or self.balance_side != "right":
            return None
        return 100.0 - self.right_pct


_ARRAY_FIELDS = (
    "t_s",
    *READING_FIELDS,
    "timer_t_s",
    "timer_running",
    "unsided_balance_pct",
)


def _nan_array(n: int) -> FloatArray:
    return np.full(n, np.nan, dtype=np.float64)


@dataclass(frozen=True, slots=True, eq=False)
class Ride(ReadingArrays):
    """One ride: per-record arrays (NaN = not measured) and file metadata.

    ``t_s`` is elapsed seconds since the first record (wall clock, pauses
    included); ``timer_t_s`` is the activity timer's clock at that record
    (pauses excluded, like a head unit's timer time) and ``timer_running`` says
    whether the timer ran there, so paused records can be skipped.
    ``start_time`` is the wall-clock time of the first record (``t_s == 0``).
    ``ride_id`` says which ride this is, so it is learnt once: a FIT file's
    serial number and creation time (plus the session for a file of several
    rides), otherwise a hash of the file's bytes. ``truncated`` marks a ride read
    from a file cut short (``allow_truncated``). ``session`` is the ride's
    session number (from 1) in a file of several sessions (a multisport file).
    ``left_pct`` is the LEFT share in percent and is only filled when the file
    said which side its balance figure belongs to (``balance_side == "right"``);
    a balance without the side bit stays in ``unsided_balance_pct`` and is
    never used as L/R.
    """

    timer_t_s: FloatArray
    timer_running: BoolArray
    unsided_balance_pct: FloatArray
    sport: str | None = None
    sub_sport: str | None = None
    start_time: datetime | None = None
    manufacturer: str | None = None
    device: str | None = None
    indoor: bool | None = None
    balance_side: BalanceSide | None = None
    head_unit_summary: HeadUnitSummary | None = None
    dynamics: RideDynamics | None = None
    balance_artefacts: int = 0
    file_format: Literal["fit", "csv"] = "fit"
    path: Path | None = None
    ride_id: str | None = None
    session: int | None = None
    truncated: bool = False
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = len(self.t_s)
        for name in _ARRAY_FIELDS:
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"Ride.{name} has {len(getattr(self, name))} values, t_s {n}"
                )
        if self.dynamics is not None and len(self.dynamics) != n:
            raise ValueError(f"Ride.dynamics has {len(self.dynamics)} rows, t_s {n}")

    @classmethod
    def from_columns(
        cls,
        t_s: npt.ArrayLike,
        *,
        power_w: npt.ArrayLike | None = None,
        left_pct: npt.ArrayLike | None = None,
        cadence_rpm: npt.ArrayLike | None = None,
        heart_rate_bpm: npt.ArrayLike | None = None,
        te_left_pct: npt.ArrayLike | None = None,
        te_right_pct: npt.ArrayLike | None = None,
        ps_left_pct: npt.ArrayLike | None = None,
        ps_right_pct: npt.ArrayLike | None = None,
        timer_t_s: npt.ArrayLike | None = None,
        timer_running: npt.ArrayLike | None = None,
        unsided_balance_pct: npt.ArrayLike | None = None,
        **meta: Any,
    ) -> Ride:
        """Build a ride from columns; missing columns become all-NaN."""
        t = np.asarray(t_s, dtype=np.float64)
        n = len(t)

        def col(values: npt.ArrayLike | None) -> FloatArray:
            return (
                _nan_array(n)
                if values is None
                else np.asarray(values, dtype=np.float64)
            )

        running = (
            np.ones(n, dtype=np.bool_)
            if timer_running is None
            else np.asarray(timer_running, dtype=np.bool_)
        )
        left = col(left_pct)
        if "balance_side" not in meta:
            meta["balance_side"] = "right" if np.isfinite(left).any() else None
        return cls(
            t,
            col(power_w),
            left,
            col(cadence_rpm),
            col(heart_rate_bpm),
            col(te_left_pct),
            col(te_right_pct),
            col(ps_left_pct),
            col(ps_right_pct),
            t - t[0] if timer_t_s is None and n else col(timer_t_s) if n else t,
            running,
            col(unsided_balance_pct),
            **meta,
        )

    @classmethod
    def from_samples(cls, samples: Iterable[Sample], **meta: Any) -> Ride:
        """Collect a live session's samples (e.g. to export it as FIT)."""
        rows = list(samples)

        def col(name: str) -> FloatArray:
            values = (getattr(s, name) for s in rows)
            return np.array(
                [math.nan if v is None else v for v in values], dtype=np.float64
            )

        t = col("t_s")
        dynamics = {name: col(name) for name in DYNAMICS_FIELDS}
        if any(np.isfinite(values).any() for values in dynamics.values()):
            meta.setdefault("dynamics", RideDynamics(dynamics))
        return cls.from_columns(
            t - t[0] if t.size else t,
            power_w=col("power_w"),
            left_pct=col("left_pct"),
            cadence_rpm=col("cadence_rpm"),
            heart_rate_bpm=col("heart_rate_bpm"),
            te_left_pct=col("te_left_pct"),
            te_right_pct=col("te_right_pct"),
            ps_left_pct=col("ps_left_pct"),
            ps_right_pct=col("ps_right_pct"),
            **meta,
        )

    def __len__(self) -> int:
        return len(self.t_s)

    @property
    def right_pct(self) -> FloatArray:
        """The right share per record (NaN where unknown)."""
        return 100.0 - self.left_pct

    @property
    def duration_s(self) -> float:
        """Wall-clock span from the first to the last record."""
        return float(self.t_s[-1] - self.t_s[0]) if len(self.t_s) else 0.0

    @property
    def has_power(self) -> bool:
        """Whether any record carries a power figure."""
        return bool(np.isfinite(self.power_w).any())

    @property
    def has_balance(self) -> bool:
        """Whether any record carries a sided (usable) L/R balance."""
        return bool(np.isfinite(self.left_pct).any())

    def require_power(self) -> None:
        """Raise :class:`NoPowerError` unless the ride has power."""
        if not self.has_power:
            raise NoPowerError(f"{self._name()}: the ride has no power readings")

    def require_balance(self) -> None:
        """Raise :class:`NoBalanceError` unless the ride has a sided balance."""
        self.require_power()
        if self.has_balance:
            return
        if np.isfinite(self.unsided_balance_pct).any():
            raise NoBalanceError(
                f"{self._name()}: the file records a left/right balance but not "
                "which side it belongs to (side unknown), so it cannot be used as L/R"
            )
        raise NoBalanceError(f"{self._name()}: the ride has no left/right balance")

    def select(self, mask: npt.ArrayLike) -> Ride:
        """The same ride keeping only the records where ``mask`` is true."""
        keep = np.asarray(mask, dtype=np.bool_)
        arrays = {name: getattr(self, name)[keep] for name in _ARRAY_FIELDS}
        dynamics = None if self.dynamics is None else self.dynamics.select(keep)
        return replace(self, **arrays, dynamics=dynamics)

    def running(self) -> Ride:
        """Only the records while the activity timer ran (what analyses use)."""
        return (
            self if bool(self.timer_running.all()) else self.select(self.timer_running)
        )

    def cleaned(
        self, settings: AnalysisSettings, clock: RideClock = "timer"
    ) -> tuple[CleanColumns, Ride]:
        """The running records in time order, cleaned by the engine's rules.

        ``settings`` brings the power floor. ``clock`` is the time the clean
        columns run on (their ``t_s``) and put in order by: ``"timer"`` (the
        activity timer, pauses left out: a head unit's figures) or ``"wall"``
        (the ride's own ``t_s``, pauses kept: the clock the engine analyses the
        running records on, so its episodes and blocks line up with it). The
        ride returned holds the same records as read, row for row, with their
        dynamics.
        """
        running = self.running()
        t = running.timer_t_s if clock == "timer" else running.t_s
        keep = in_time_order(t)
        kept = running.select(keep)
        columns = {name: getattr(kept, name) for name in READING_FIELDS}
        return clean_columns(t[keep], columns, settings, Counter()), kept

    def _name(self) -> str:
        return self.path.name if self.path is not None else "ride"


@dataclass(frozen=True, slots=True)
class RideFile:
    """What one file holds: its rides, and what was skipped (named, one line each)."""

    rides: tuple[Ride, ...]
    skipped: tuple[str, ...] = ()


def content_id(data: bytes | memoryview) -> str:
    """The identity of a ride file without one of its own: a hash of its bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()[:32]


def indoor_from_sub_sport(sub_sport: str | None) -> bool | None:
    """Indoor/outdoor as the file's sub-sport tells it (None = it does not say)."""
    if sub_sport is None or sub_sport in UNKNOWN_SUB_SPORTS:
        return None
    return sub_sport in INDOOR_SUB_SPORTS

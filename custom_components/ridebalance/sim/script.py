"""Scripted rides: a rider's true balance plus realistic sensor noise.

A ride is a list of segments (effort, cadence) ridden by a ``Rider`` whose normal
balance depends on power, with optional injected ``Shift``s in balance and a
``CadenceSag``. ``generate`` turns it into 4 Hz arrays with autocorrelated noise
and keeps the noise-free ``truth`` so detectors can be scored against it.

Noise figures follow what dual-sided pedals record: a second-to-second balance
SD of 3-5 points, autocorrelated over a couple of seconds (AR(1) with time
constant ``balance_tau_s``). Measured on the head-unit files in ``../shared/fit``
during steady riding (1 s records, detrended by a 1-minute mean): SD 3.3-3.6
points, lag-1 correlation 0.16 (Vector) and 0.65 (PowerTap P1), lag-3 at most
0.12. A 2 s time constant gives 0.61 and 0.22: the more correlated of the two.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ..model import READING_FIELDS, PowerSource, ReadingArrays, Sample

type FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of steady effort. ``left_pct=None`` means the rider's own normal."""

    duration_s: float
    power_w: float
    cadence_rpm: float
    left_pct: float | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class Rider:
    """How this rider's balance depends on effort when nothing is wrong."""

    left_below_pct: float = 50.0
    left_above_pct: float = 50.0
    split_w: float = 150.0
    # Extra lean to the left when spinning easy (high cadence, low power).
    easy_lean_pts: float = 0.0
    easy_below_w: float = 130.0
    te_pct: float = 78.0
    ps_pct: float = 23.0

    def left_at(self, power_w: float, cadence_rpm: float) -> float:
        """The rider's normal left share at this effort."""
        if power_w <= 0 or cadence_rpm <= 0:
            return math.nan
        left = self.left_below_pct if power_w < self.split_w else self.left_above_pct
        if power_w < self.easy_below_w:
            left += self.easy_lean_pts
        return left


@dataclass(frozen=True, slots=True)
class Shift:
    """A change of ``points`` in the left share from ``start_s`` on.

    It ramps in over ``ramp_s`` and, when ``end_s`` is set, is gone again from then.
    """

    start_s: float
    points: float
    ramp_s: float = 0.0
    end_s: float | None = None

    def at(self, t_s: FloatArray) -> FloatArray:
        """Offset in points at each time."""
        if self.ramp_s > 0:
            frac = np.clip((t_s - self.start_s) / self.ramp_s, 0.0, 1.0)
        else:
            frac = (t_s >= self.start_s).astype(np.float64)
        if self.end_s is not None:
            frac = np.where(t_s >= self.end_s, 0.0, frac)
        return self.points * frac


@dataclass(frozen=True, slots=True)
class CadenceSag:
    """Cadence falls by ``drop_rpm`` over ``ramp_s`` from ``start_s`` (fatigue)."""

    start_s: float
    drop_rpm: float
    ramp_s: float = 300.0
    end_s: float | None = None

    def at(self, t_s: FloatArray) -> FloatArray:
        """Cadence change in rpm (negative) at each time."""
        frac = np.clip((t_s - self.start_s) / max(self.ramp_s, 1e-9), 0.0, 1.0)
        if self.end_s is not None:
            frac = np.where(t_s >= self.end_s, 0.0, frac)
        return -self.drop_rpm * frac


@dataclass(frozen=True, slots=True)
class RideScript:
    """Everything needed to generate one ride."""

    segments: tuple[Segment, ...]
    rider: Rider = field(default_factory=Rider)
    shifts: tuple[Shift, ...] = ()
    cadence_sags: tuple[CadenceSag, ...] = ()
    balance_sd_pct: float = 4.0
    balance_tau_s: float = 2.0
    power_sd_w: float = 6.0
    cadence_sd_rpm: float = 1.5
    resting_hr_bpm: float = 62.0
    # Dual pedals report 100/0 while coasting; True reproduces that artefact.
    coasting_artefacts: bool = True

    @property
    def duration_s(self) -> float:
        """Total length of the ride."""
        return float(sum(s.duration_s for s in self.segments))


@dataclass(frozen=True, slots=True)
class RideArrays(ReadingArrays):
    """A generated ride at a fixed rate. NaN means "not measured"."""

    truth: FloatArray
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.t_s.size)

    def sample(self, i: int) -> Sample:
        """The i-th reading as the one Sample type."""

        def opt(a: FloatArray) -> float | None:
            v = float(a[i])
            return None if math.isnan(v) else round(v, 2)

        # Keyword by keyword from the one list; mypy cannot follow names in a loop.
        values: dict[str, Any] = {
            name: opt(getattr(self, name)) for name in READING_FIELDS
        }
        return Sample(float(self.t_s[i]), **values, power_source=PowerSource.SIMULATOR)

    def samples(self) -> Iterator[Sample]:
        """All readings in order."""
        for i in range(len(self)):
            yield self.sample(i)


def _ar1(
    rng: np.random.Generator, n: int, sd: float, tau_s: float, hz: float
) -> FloatArray:
    """Stationary AR(1) noise with marginal SD ``sd`` and time constant ``tau_s``."""
    if n == 0 or sd <= 0:
        return np.zeros(n)
    phi = math.exp(-1.0 / (tau_s * hz)) if tau_s > 0 else 0.0
    innovations = rng.normal(0.0, sd * math.sqrt(1.0 - phi * phi), n)
    out = np.empty(n)
    prev = rng.normal(0.0, sd)
    # A plain loop: n is a few tens of thousands at most and this runs once per ride.
    for i in range(n):
        prev = phi * prev + innovations[i]
        out[i] = prev
    return out


def generate(script: RideScript, seed: int = 0, hz: float = 4.0) -> RideArrays:
    """Generate the ride's readings at ``hz`` with reproducible noise."""
    rng = np.random.default_rng(seed)
    step = 1.0 / hz
    counts = [round(s.duration_s * hz) for s in script.segments]
    n = int(sum(counts))
    t = np.arange(n, dtype=np.float64) * step
    seg_idx = np.repeat(np.arange(len(script.segments)), counts)

    power_set = np.array([s.power_w for s in script.segments])[seg_idx]
    cad_set = np.array([s.cadence_rpm for s in script.segments])[seg_idx]
    rider = script.rider
    seg_left = [
        s.left_pct
        if s.left_pct is not None
        else rider.left_at(s.power_w, s.cadence_rpm)
        for s in script.segments
    ]
    truth = np.array(seg_left, dtype=np.float64)[seg_idx]
    for shift in script.shifts:
        truth = truth + shift.at(t)

    moving = power_set > 0
    power = np.where(
        moving,
        np.maximum(power_set + _ar1(rng, n, script.power_sd_w, 2.0, hz), 0.0),
        0.0,
    )
    cadence = cad_set.copy()
    for sag in script.cadence_sags:
        cadence = cadence + np.where(moving, sag.at(t), 0.0)
    cadence = np.where(
        moving,
        np.maximum(cadence + _ar1(rng, n, script.cadence_sd_rpm, 3.0, hz), 0.0),
        0.0,
    )

    noise = _ar1(rng, n, script.balance_sd_pct, script.balance_tau_s, hz)
    left = np.clip(truth + noise, 0.0, 100.0)
    if script.coasting_artefacts:
        # What Assioma-like pedals send while coasting: all on one side.
        left = np.where(moving, left, 0.0)
    else:
        left = np.where(moving, left, np.nan)

    # Heart rate lags effort by about half a minute and creeps up with time.
    target_hr = script.resting_hr_bpm + 0.42 * power_set + t / 120.0
    alpha = 1.0 - math.exp(-step / 30.0)
    hr = np.empty(n)
    level = script.resting_hr_bpm + 20.0
    for i in range(n):
        level += alpha * (target_hr[i] - level)
        hr[i] = level
    hr = np.round(hr + _ar1(rng, n, 1.0, 5.0, hz))

    te = np.where(moving, rider.te_pct + _ar1(rng, n, 2.0, 5.0, hz), 0.0)
    te_r = np.where(moving, rider.te_pct - 1.0 + _ar1(rng, n, 2.0, 5.0, hz), 0.0)
    ps = np.where(moving, rider.ps_pct + _ar1(rng, n, 1.5, 5.0, hz), 0.0)
    ps_r = np.where(moving, rider.ps_pct + _ar1(rng, n, 1.5, 5.0, hz), 0.0)

    # Readings come at the pedals' resolution: 0.5 % for TE/PS, 1 % for balance.
    return RideArrays(
        t_s=t,
        power_w=np.round(power),
        left_pct=np.round(left),
        cadence_rpm=np.round(cadence),
        heart_rate_bpm=hr,
        te_left_pct=np.clip(np.round(te * 2) / 2, 0, 100),
        te_right_pct=np.clip(np.round(te_r * 2) / 2, 0, 100),
        ps_left_pct=np.clip(np.round(ps * 2) / 2, 0, 100),
        ps_right_pct=np.clip(np.round(ps_r * 2) / 2, 0, 100),
        truth=truth,
        labels=tuple(s.label for s in script.segments),
    )


def demo_ride() -> RideScript:
    """The scripted hour the simulator source plays.

    The rider of the story: 50/50 at effort, leaning 4 points further left when
    spinning easy. It holds, within its first hour, a temporary left shift (an
    asymmetry episode that starts and clears), a slow balance drift from minute 40,
    a cadence sag from minute 42 that recovers, and easy spinning.
    """
    m = 60.0
    segments = (
        Segment(3 * m, 110, 85, label="warm-up"),
        Segment(3 * m, 150, 88, label="warm-up"),
        Segment(4 * m, 180, 90, label="warm-up"),
        Segment(8 * m, 210, 90, label="steady"),
        Segment(20, 420, 105, label="surge"),
        Segment(100, 120, 92, label="easy spin"),
        Segment(20, 430, 108, label="surge"),
        Segment(100, 120, 92, label="easy spin"),
        Segment(12 * m, 215, 90, label="steady"),
        Segment(30, 0, 0, label="coast"),
        Segment(4 * m, 115, 95, label="easy spin"),
        Segment(20 * m, 205, 90, label="steady"),
        Segment(5 * m, 120, 88, label="cool-down"),
    )
    return RideScript(
        segments=segments,
        rider=Rider(easy_lean_pts=4.0),
        shifts=(
            # A temporary asymmetry episode during the second steady block.
            Shift(start_s=25 * m, points=6.0, ramp_s=20.0, end_s=29 * m),
            # The slow drift that sets in after about 40 minutes.
            Shift(start_s=40 * m, points=4.0, ramp_s=8 * m),
        ),
        cadence_sags=(
            CadenceSag(start_s=42 * m, drop_rpm=12.0, ramp_s=3 * m, end_s=52 * m),
        ),
    )

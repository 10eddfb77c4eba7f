"""Session figures as a head unit computes them for a FIT session message.

These are the numbers a FIT ``session`` carries (average and normalized power,
balance, cadence, TE/PS), computed from a ride's records the way head units do,
so a file we write reads like one a head unit wrote, and a file we read can be
checked against its own session. Rider analysis (bands, baseline, episodes)
belongs to ``analysis``, not here.

Conventions (checked against Garmin Edge 810 and Edge 530 sessions):

- Only records while the activity timer runs count (pauses are skipped), after
  the analysis' cleaning (a 1e12 W or 65,000 W reading, an impossible cadence
  or heart rate is not measured; records going back in time are dropped).
- A running timer without a record for over ``GAP_S`` is a gap, not riding:
  it counts for one recording interval in the timer time and the 1 Hz grid.
- Average power: mean of measured power (a dropout is not a zero).
- Normalized power: power on a 1 Hz grid of timer time, 30 s rolling mean,
  fourth-power mean, fourth root. Records closer than a second are averaged
  into their second, a missing second inside a running stretch (smart
  recording) holds the previous reading for up to ``HOLD_S`` seconds and is a
  zero beyond that; a dropout (record without power) is a zero, as the head
  unit's "include zeros" default does. Rides shorter than 30 s have no NP.
- Balance: the right share weighted by power over records with power > 0 and a
  sided balance (the head unit's session value; an unweighted mean differs by
  up to a point on real rides).
- Cadence: mean of non-zero cadence (coasting is not a cadence of 0).
- TE / PS: mean over records where the rider pedals (power > 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.cleaning import CleanColumns
from ..analysis.measured import mean, power_weighted
from .dynamics import HEAD_UNIT_CLEANING
from .ride import BoolArray, FloatArray, Ride

NP_WINDOW_S = 30
HOLD_S = 5
GAP_S = 60.0


@dataclass(frozen=True, slots=True)
class SessionFigures:
    """Head-unit style session figures (None = not computable from the ride)."""

    timer_s: float
    elapsed_s: float
    avg_power_w: float | None
    normalized_power_w: float | None
    right_pct: float | None
    avg_cadence_rpm: float | None
    avg_heart_rate_bpm: float | None
    te_left_pct: float | None
    te_right_pct: float | None
    ps_left_pct: float | None
    ps_right_pct: float | None

    @property
    def left_pct(self) -> float | None:
        """The left share (the rider-facing convention)."""
        return None if self.right_pct is None else 100.0 - self.right_pct


def power_grid(timer_t_s: FloatArray, power_w: FloatArray) -> FloatArray:
    """Power on a 1 Hz grid of timer time (see the module docstring)."""
    if timer_t_s.size == 0:
        return np.zeros(0)
    p = np.nan_to_num(power_w, nan=0.0)
    second = np.floor(timer_t_s - timer_t_s[0]).astype(np.int64)
    n = int(second.max()) + 1
    sums = np.bincount(second, weights=p, minlength=n)
    counts = np.bincount(second, minlength=n)
    grid = np.zeros(n)
    have = counts > 0
    grid[have] = sums[have] / counts[have]
    # Hold the last reading over short recording gaps (smart recording).
    last = np.maximum.accumulate(np.where(have, np.arange(n), -1))
    short = (~have) & (last >= 0) & (np.arange(n) - last <= HOLD_S)
    grid[short] = grid[last[short]]
    return grid


def normalized_power(grid_w: FloatArray) -> float | None:
    """NP of a 1 Hz power grid (None when shorter than the 30 s window)."""
    if grid_w.size < NP_WINDOW_S:
        return None
    cumulative = np.concatenate(([0.0], np.cumsum(grid_w)))
    rolling = (cumulative[NP_WINDOW_S:] - cumulative[:-NP_WINDOW_S]) / NP_WINDOW_S
    return float(np.mean(rolling**4) ** 0.25)


def _sample_step(t_s: FloatArray) -> float:
    """The recording interval: the last record counts for one of these."""
    steps = np.diff(t_s)
    steps = steps[(steps > 0) & (steps <= GAP_S)]
    return float(np.median(steps)) if steps.size else 1.0


def close_gaps(t_s: FloatArray, step: float) -> FloatArray:
    """The clock with every silence over ``GAP_S`` shrunk to one ``step``.

    A running timer with no record for minutes (a lost sensor, a clock jump) is
    not riding time; closing the gap also keeps the 1 Hz grid as long as the
    records, not the span.
    """
    if t_s.size == 0:
        return t_s
    steps = np.diff(t_s)
    steps = np.where(steps > GAP_S, step, steps)
    return float(t_s[0]) + np.concatenate(([0.0], np.cumsum(steps)))


def _cleaned(ride: Ride) -> tuple[CleanColumns, BoolArray]:
    """The running records in time order, with the analysis' cleaning.

    The floor is 0 W: a head unit keeps coasting in its averages. The second
    value marks power readings the cleaning refused (a 1e12 W or 65,000 W
    reading): those records are left out of the 1 Hz grid, not taken as zeros.
    """
    clean, kept = ride.cleaned(HEAD_UNIT_CLEANING)
    refused = np.isfinite(kept.power_w) & np.isnan(clean.power_w)
    return clean, refused


def session_figures(ride: Ride) -> SessionFigures:
    """Compute the figures a head unit would write for ``ride``."""
    clean, refused = _cleaned(ride)
    power = clean.power_w
    has_power = bool(np.isfinite(power).any())
    pedalling = np.isfinite(power) & (power > 0)
    cadence = clean.cadence_rpm
    step = _sample_step(ride.t_s)
    timer_t = close_gaps(clean.t_s, step)
    grid = power_grid(timer_t[~refused], power[~refused]) if has_power else np.zeros(0)
    timer_s = float(timer_t[-1] - timer_t[0] + step) if timer_t.size else 0.0

    def while_pedalling(values: FloatArray) -> float | None:
        return mean(np.where(pedalling, values, np.nan))

    return SessionFigures(
        timer_s=timer_s,
        elapsed_s=ride.duration_s + step if len(ride) else 0.0,
        avg_power_w=mean(power),
        normalized_power_w=normalized_power(grid) if has_power else None,
        right_pct=power_weighted(power, 100.0 - clean.left_pct),
        avg_cadence_rpm=mean(np.where(cadence > 0, cadence, np.nan)),
        avg_heart_rate_bpm=mean(clean.heart_rate_bpm),
        te_left_pct=while_pedalling(clean.te_left_pct),
        te_right_pct=while_pedalling(clean.te_right_pct),
        ps_left_pct=while_pedalling(clean.ps_left_pct),
        ps_right_pct=while_pedalling(clean.ps_right_pct),
    )

"""Input cleaning shared by the streaming and batch paths.

What is refused, and why (counted in :class:`DropCounts`):

* balance, TE and PS while coasting: cadence 0, or power missing or under the power
  floor. Dual pedals send 100/0 (and TE/PS above zero) at zero power; those are
  artefacts, not a one-legged rider;
* balance of exactly 0 or 100 % or outside that range, TE/PS outside 0-100 %;
* power outside 0-3000 W, cadence outside 0-250 rpm, heart rate outside 25-250 bpm;
* samples whose time goes backwards (the whole sample).

A sample is *riding* (:func:`is_riding`) when power is at or above the floor and
in range, and the cadence is not 0 (missing cadence does not stop a sample from
counting as riding: files without a cadence sensor still have balance). The
session's start and end (:mod:`.session`) and the dynamics use the same rule.

The scalar :func:`clean_values` and the vectorised :func:`clean_columns` implement
the same rules; the streaming/batch equivalence test holds them together.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import overload

import numpy as np
import numpy.typing as npt

from ..model import ReadingArrays, Sample
from .results import DropTally
from .settings import AnalysisSettings

type FloatArray = npt.NDArray[np.float64]
type BoolArray = npt.NDArray[np.bool_]

MAX_POWER_W = 3000.0
MAX_CADENCE_RPM = 250.0
MIN_HR_BPM = 25.0
MAX_HR_BPM = 250.0

NAN = math.nan


@dataclass(frozen=True, slots=True)
class CleanValues:
    """One cleaned sample; NaN = missing or refused."""

    power_w: float
    left_pct: float
    cadence_rpm: float
    heart_rate_bpm: float
    te_left_pct: float
    te_right_pct: float
    ps_left_pct: float
    ps_right_pct: float
    riding: bool


def _f(v: float | None) -> float:
    return NAN if v is None else float(v)


@overload
def is_riding(
    power_w: float, cadence_rpm: float, settings: AnalysisSettings
) -> bool: ...


@overload
def is_riding(
    power_w: FloatArray, cadence_rpm: FloatArray, settings: AnalysisSettings
) -> BoolArray: ...


def is_riding(
    power_w: float | FloatArray,
    cadence_rpm: float | FloatArray,
    settings: AnalysisSettings,
) -> bool | BoolArray:
    """Whether the rider rides: power in range and at the floor, cadence not 0.

    NaN is "not measured": no power is not riding, no cadence does not stop it.
    Raw and cleaned values give the same answer (cleaning only turns what this
    refuses into NaN), and one sample or whole columns alike.
    """
    return (
        (power_w >= settings.power_floor_w)
        & (power_w >= 0.0)
        & (power_w <= MAX_POWER_W)
        & (cadence_rpm != 0.0)
    )


def clean_values(
    sample: Sample, settings: AnalysisSettings, counts: DropTally
) -> CleanValues:
    """Clean one sample (time order is checked by the caller)."""
    p = _f(sample.power_w)
    if not math.isnan(p) and not 0.0 <= p <= MAX_POWER_W:
        counts["power_out_of_range"] += 1
        p = NAN
    c = _f(sample.cadence_rpm)
    if not math.isnan(c) and not 0.0 <= c <= MAX_CADENCE_RPM:
        counts["cadence_out_of_range"] += 1
        c = NAN
    hr = _f(sample.heart_rate_bpm)
    if not math.isnan(hr) and not MIN_HR_BPM <= hr <= MAX_HR_BPM:
        counts["heart_rate_out_of_range"] += 1
        hr = NAN
    riding = is_riding(p, c, settings)
    left = _f(sample.left_pct)
    if not math.isnan(left):
        if not riding:
            counts["balance_coasting"] += 1
            left = NAN
        elif not 0.0 < left < 100.0:
            counts["balance_out_of_range"] += 1
            left = NAN
    te_ps = []
    for raw in (
        sample.te_left_pct,
        sample.te_right_pct,
        sample.ps_left_pct,
        sample.ps_right_pct,
    ):
        v = _f(raw)
        if not math.isnan(v):
            if not riding:
                counts["te_ps_coasting"] += 1
                v = NAN
            elif not 0.0 <= v <= 100.0:
                counts["te_ps_out_of_range"] += 1
                v = NAN
        te_ps.append(v)
    return CleanValues(p, left, c, hr, te_ps[0], te_ps[1], te_ps[2], te_ps[3], riding)


@dataclass(frozen=True, slots=True)
class CleanColumns(ReadingArrays):
    """A whole ride cleaned: kept samples only, NaN = missing or refused."""

    riding: BoolArray


def _col(values: object, n: int) -> FloatArray:
    a = np.asarray(values, dtype=np.float64)
    if a.shape != (n,):
        raise ValueError(f"ride columns differ in length ({a.shape} vs {n} times)")
    return a


def in_time_order(t: FloatArray) -> BoolArray:
    """The samples kept by the time rule: a time, and none earlier than before."""
    n = t.size
    tt = np.where(np.isnan(t), -np.inf, t)
    prev_max = np.empty(n)
    if n:
        prev_max[0] = -np.inf
        prev_max[1:] = np.maximum.accumulate(tt)[:-1]
    return ~np.isnan(t) & (t >= prev_max)


def clean_columns(
    t_s: FloatArray,
    columns: dict[str, FloatArray],
    settings: AnalysisSettings,
    counts: DropTally,
) -> CleanColumns:
    """Vectorised twin of :func:`clean_values` plus the time-order check."""
    t = np.asarray(t_s, dtype=np.float64)
    n = t.size
    keep = in_time_order(t)
    counts["out_of_order"] += int(n - np.count_nonzero(keep))

    def col(name: str) -> FloatArray:
        return _col(columns[name], n)[keep]

    p = col("power_w")
    bad = ~np.isnan(p) & ~((p >= 0.0) & (p <= MAX_POWER_W))
    counts["power_out_of_range"] += int(np.count_nonzero(bad))
    p = np.where(bad, np.nan, p)
    c = col("cadence_rpm")
    bad = ~np.isnan(c) & ~((c >= 0.0) & (c <= MAX_CADENCE_RPM))
    counts["cadence_out_of_range"] += int(np.count_nonzero(bad))
    c = np.where(bad, np.nan, c)
    hr = col("heart_rate_bpm")
    bad = ~np.isnan(hr) & ~((hr >= MIN_HR_BPM) & (hr <= MAX_HR_BPM))
    counts["heart_rate_out_of_range"] += int(np.count_nonzero(bad))
    hr = np.where(bad, np.nan, hr)
    riding = is_riding(p, c, settings)

    left = col("left_pct")
    present = ~np.isnan(left)
    coasting = present & ~riding
    out = present & riding & ~((left > 0.0) & (left < 100.0))
    counts["balance_coasting"] += int(np.count_nonzero(coasting))
    counts["balance_out_of_range"] += int(np.count_nonzero(out))
    left = np.where(coasting | out, np.nan, left)

    te_ps: list[FloatArray] = []
    for name in ("te_left_pct", "te_right_pct", "ps_left_pct", "ps_right_pct"):
        v = col(name)
        present = ~np.isnan(v)
        coasting = present & ~riding
        out = present & riding & ~((v >= 0.0) & (v <= 100.0))
        counts["te_ps_coasting"] += int(np.count_nonzero(coasting))
        counts["te_ps_out_of_range"] += int(np.count_nonzero(out))
        te_ps.append(np.where(coasting | out, np.nan, v))
    return CleanColumns(
        t[keep], p, left, c, hr, te_ps[0], te_ps[1], te_ps[2], te_ps[3], riding
    )

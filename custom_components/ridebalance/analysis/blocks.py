"""Block means and the CUSUM statistic the detectors run over them.

Why blocks: a 4 Hz balance reading is mostly noise (second-to-second SD 3-5
points, correlated over several seconds). Power-weighted 10 s means are the unit
every detector works on; both paths build identical blocks.

Two-sided tabular CUSUM (Page, 1954, "Continuous inspection schemes",
Biometrika 41; tabular form and ARL tables in Montgomery, *Introduction to
Statistical Quality Control*, ch. 9). CUSUM is chosen over EWMA because it
gives a change-point estimate for free (the last time the statistic was zero =
the onset reported to the rider) and is the optimal (Lorden 1971) test for a
step of a known size, which is what a fitting or fatigue change looks like.

For a block at power band *b* with power-weighted mean left share *x*::

    r  = x - mean_b                  (points; mean_b from the Baseline)
    u+ = (r - tol_b) / sd_b          u- = (-r - tol_b) / sd_b
    S+ = max(0, S+ + u+ - k)         S- = max(0, S- + u- - k)
    k  = (threshold / 2) / sd_b      (reference value: half the step to detect)

The decision interval ``h`` is calibrated per band: Siegmund's approximation
of the in-control average run length of a one-sided CUSUM,
``ARL0 = (exp(2 k' b) - 2 k' b - 1) / (2 k'^2)`` with ``b = h + 1.166`` and
``k' = k + min(tol_b, 0.5) / sd_b`` (Siegmund, *Sequential Analysis*, 1985;
Montgomery ch. 9), is solved for ``h`` so that the two sides together give
one false alarm per ``false_alarm_interval_h`` hours of riding (default 10).
The tolerance enters the calibration only up to 0.5 points: beyond that it
stands for doubt about the mean rather than a known margin, so bands with
little history keep a high ``h`` and stay conservative. A quieter
band (smaller ``sd_b``) thus gets a smaller ``h`` and faster detection at the
same false-alarm rate. ``benchmarks/bench_detection.py`` measures the rate on
simulated pedal noise (the approximation is slightly pessimistic there).

``sd_b`` is the long-run SD of a block mean: the block SD inflated for
autocorrelation, ``sd * sqrt((1 + phi) / (1 - phi))``, so that the in-control
run length holds on correlated data. ``tol_b`` is the baseline's tolerance (a
dead zone, wide while the band has little history). The end of an episode is
decided by a mirror CUSUM ``E = max(0, E + k - u)`` on the flagged side; the
end time is the last time ``E`` was zero.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

from .results import Episode, EpisodeKind


@dataclass(frozen=True, slots=True)
class Block:
    """Aggregates of one block (elapsed times; None = not valid for that measure)."""

    index: int
    start_s: float
    end_s: float
    left_pct: float | None
    power_w: float | None
    cadence_rpm: float | None
    riding_s: float
    bal_power_sum: float
    bal_power_left_sum: float


def siegmund_arl0(k: float, h: float) -> float:
    """In-control ARL (blocks) of a one-sided CUSUM with reference k, interval h."""
    b = h + 1.166
    if k < 1e-6:
        return b * b
    x = 2.0 * k * b
    if x > 700.0:
        return math.inf
    return (math.expm1(x) - x) / (2.0 * k * k)


def calibrate_h(k: float, arl_blocks: float) -> float:
    """The decision interval whose one-sided ARL0 is ``arl_blocks`` (bisection)."""
    lo, hi = 0.0, 100.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if siegmund_arl0(k, mid) < arl_blocks:
            lo = mid
        else:
            hi = mid
    return hi


class Cusum:
    """One-sided CUSUM with onset tracking and a mirror CUSUM for the end."""

    __slots__ = (
        "committed_n",
        "committed_sum",
        "e",
        "end_zero_s",
        "n",
        "onset_s",
        "s",
        "sum",
    )

    def __init__(self) -> None:
        self.s = 0.0
        self.onset_s = 0.0
        self.sum = 0.0
        self.n = 0
        self.e = 0.0
        self.end_zero_s = 0.0
        self.committed_sum = 0.0
        self.committed_n = 0

    def reset(self) -> None:
        self.s = 0.0
        self.sum = 0.0
        self.n = 0

    def step(self, block: Block, u: float, k: float, value: float) -> None:
        new = self.s + u - k
        if new <= 0.0:
            self.reset()
            return
        if self.s == 0.0:
            self.onset_s = block.start_s
            self.sum = 0.0
            self.n = 0
        self.s = new
        self.sum += value
        self.n += 1

    def start_episode(
        self, block: Block, kind: EpisodeKind, unit: str, reference: float, band: str
    ) -> Episode:
        """The episode this run raises at ``block``; the end CUSUM starts afresh."""
        self.e = 0.0
        self.end_zero_s = block.end_s
        self.committed_sum = self.sum
        self.committed_n = self.n
        self.sum = 0.0
        self.n = 0
        return Episode(
            kind=kind,
            onset_s=self.onset_s,
            detected_s=block.end_s,
            magnitude=self.magnitude(),
            unit=unit,
            reference=reference,
            power_band=band,
            reason="",
        )

    def step_end(self, block: Block, u: float, k: float, value: float) -> None:
        """Advance the end CUSUM (the caller compares ``e`` with its interval)."""
        self.e = max(0.0, self.e + k - u)
        self.sum += value
        self.n += 1
        if self.e == 0.0:
            self.end_zero_s = block.end_s
            self.committed_sum += self.sum
            self.committed_n += self.n
            self.sum = 0.0
            self.n = 0

    def magnitude(self) -> float:
        if self.committed_n:
            return self.committed_sum / self.committed_n
        return self.sum / self.n if self.n else 0.0

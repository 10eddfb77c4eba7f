"""Indoor against outdoor: the rider's usual balance per power band, side by side.

The one rule for whether a difference is real (used by the coordinator's
"indoor vs outdoor" sensor and by ``ridebalance compare``), on each side's
:class:`~.baseline.Baseline` learnt from its rides:

* a side's balance in a band is the mean of its 10-second block means there;
* its standard error is ``SD / sqrt(n_eff)`` with ``n_eff = n (1 - phi) / (1 + phi)``
  for the baseline's pooled lag-1 autocorrelation ``phi`` of block residuals;
* a difference *exceeds noise* when it is larger than the 95 % interval of the
  difference, ``1.96 * sqrt(SE_in^2 + SE_out^2)``, and at least 1 point;
* a side needs 6 blocks (a minute) in the band for a verdict.

Why the autocorrelation correction: balance is reported every second and drifts
slowly, so consecutive 10-second block means are positively correlated (phi is
typically 0.2-0.6). Treating them as independent would shrink the standard error
by ``sqrt((1 + phi) / (1 - phi))`` and call ordinary wandering a difference. The
correlation is pooled over all bands (with the baseline's weak prior) because a
per-band estimate from a few dozen blocks is too unsteady to trust. The 1-point
floor is the pedals' resolution: they report balance in whole percent, and
dual-sided pedals' own balance accuracy is of that order.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any

from .baseline import Baseline

Z95 = 1.96
RESOLUTION_PTS = 1.0
MIN_BLOCKS = 6


@dataclass(frozen=True, slots=True)
class BandSide:
    """One side's balance in one power band and the noise of that figure."""

    left_pct: float | None
    blocks: float
    """Effective number of 10 s blocks (after the baseline's forgetting)."""
    standard_error_pts: float | None
    """None with fewer than ``MIN_BLOCKS`` blocks."""

    @property
    def ci95_pts(self) -> float | None:
        """Half-width of this side's 95 % interval."""
        se = self.standard_error_pts
        return None if se is None else Z95 * se


def band_side(baseline: Baseline, label: str) -> BandSide:
    """What ``baseline`` knows of power band ``label`` (no prior mixed in)."""
    band = baseline.bands.get(label)
    if band is None or band.weight <= 0:
        return BandSide(None, 0.0, None)
    se: float | None = None
    if band.weight >= MIN_BLOCKS:
        phi = baseline.phi()
        n_eff = band.weight * (1.0 - phi) / (1.0 + phi)
        sd = math.sqrt(band.m2 / (band.weight - 1.0))
        se = sd / math.sqrt(n_eff)
    return BandSide(band.mean, band.weight, se)


@dataclass(frozen=True, slots=True)
class BandComparison:
    """Indoor against outdoor in one power band."""

    band: str
    indoor: BandSide
    outdoor: BandSide

    @property
    def difference_pts(self) -> float | None:
        """Outdoor minus indoor left share (positive: more left outdoors)."""
        if self.indoor.left_pct is None or self.outdoor.left_pct is None:
            return None
        return self.outdoor.left_pct - self.indoor.left_pct

    @property
    def ci95_pts(self) -> float | None:
        """Half-width of the 95 % interval of the difference."""
        se_in = self.indoor.standard_error_pts
        se_out = self.outdoor.standard_error_pts
        if se_in is None or se_out is None:
            return None
        return Z95 * math.hypot(se_in, se_out)

    @property
    def exceeds_noise(self) -> bool | None:
        """Whether the difference is beyond noise; None without enough riding."""
        diff, ci = self.difference_pts, self.ci95_pts
        if diff is None or ci is None:
            return None
        return abs(diff) > max(ci, RESOLUTION_PTS)

    def to_dict(self, digits: int | None = None) -> dict[str, Any]:
        """JSON-able row (``digits``: round the figures for display)."""

        def fig(value: float | None) -> float | None:
            if value is None or digits is None:
                return value
            return round(value, digits)

        return {
            "band": self.band,
            "indoor_left_pct": fig(self.indoor.left_pct),
            "outdoor_left_pct": fig(self.outdoor.left_pct),
            "difference_pts": fig(self.difference_pts),
            "ci95_pts": fig(self.ci95_pts),
            "exceeds_noise": self.exceeds_noise,
            "indoor_ci95_pts": fig(self.indoor.ci95_pts),
            "outdoor_ci95_pts": fig(self.outdoor.ci95_pts),
            "indoor_blocks": fig(self.indoor.blocks),
            "outdoor_blocks": fig(self.outdoor.blocks),
        }


def compare_baselines(indoor: Baseline, outdoor: Baseline) -> list[BandComparison]:
    """Every power band either side has ridden, in ascending power order."""
    return [
        BandComparison(label, band_side(indoor, label), band_side(outdoor, label))
        for label in outdoor.labels
        if label in indoor.bands or label in outdoor.bands
    ]

"""The rider's personal balance baseline: what is normal for THEM at each effort.

Per power band the baseline keeps a weighted mean and variance of 10-second block
means of LEFT share, merged session by session (Chan et al.'s pairwise update of
mean and sum of squares), plus a pooled lag-1 autocorrelation of block residuals.

Before data arrives each band starts at a prior of 50.0 % with a block SD of
3.0 points and a *tolerance* (a dead zone the detector allows around the mean,
standing for "we are not sure what your normal is yet") of 3.0 points. The
tolerance shrinks as ``PRIOR_TOLERANCE_PTS / sqrt(1 + weight / TOLERANCE_BLOCKS)``:
about 1.2 points after 10 minutes in a band, under 0.4 after two hours.

Forgetting: before each new session is merged, the old weights are multiplied by
``forgetting`` (default 0.95), so a rider's changes (new cleats, recovery) are
followed over weeks while a single odd ride cannot move the baseline much.

Block means are autocorrelated; the detectors need the long-run standard deviation
of a block mean, ``sd_block * sqrt((1 + phi) / (1 - phi))`` (the AR(1) variance
inflation of a mean of correlated values, e.g. Montgomery, *Introduction to
Statistical Quality Control*, on autocorrelated data), with ``phi`` the pooled
lag-1 autocorrelation clamped to [0, 0.8].

The same statistics are kept per cadence band (keyed by each block's mean
cadence) for reports: "your usual at 90-100 rpm". Detection keys on power bands
only; a power x cadence grid would be too sparse to learn in a few rides.

Indoor and outdoor riding differ (trainer vs road), so :class:`Baselines` keeps one
baseline per context, e.g. ``"indoor"`` and ``"outdoor"``.

Serialised form (version 2)::

    {"version": 2, "power_edges_w": [...], "forgetting": 0.95, "sessions": 3,
     "lag_num": ..., "lag_den": ...,
     "bands": {"150-200 W": {"weight": ..., "mean": ..., "m2": ...}, ...},
     "cadence_edges_rpm": [...], "cadence_bands": {"90-100 rpm": {...}, ...}}

Version 1 (mean, sd and seconds per band, no autocorrelation) is migrated on load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
from typing import TYPE_CHECKING, Any

from .settings import (
    DEFAULT_CADENCE_EDGES_RPM,
    DEFAULT_POWER_EDGES_W,
    band_index,
    band_labels,
)

if TYPE_CHECKING:
    from .results import BlockStats, SessionSummary

BASELINE_VERSION = 2
BASELINES_VERSION = 2

PRIOR_MEAN_PCT = 50.0
PRIOR_MEAN_BLOCKS = 6.0
"""The 50 % prior weighs like one minute of riding: it only speaks for empty bands."""
PRIOR_SD_PTS = 3.0
PRIOR_SD_BLOCKS = 30.0
PRIOR_PHI = 0.3
PRIOR_PHI_BLOCKS = 60.0
PRIOR_TOLERANCE_PTS = 3.0
TOLERANCE_BLOCKS = 12.0
MAX_PHI = 0.8
DEFAULT_FORGETTING = 0.95


@dataclass(slots=True)
class BandBaseline:
    """Accumulated block statistics for one power band."""

    weight: float = 0.0
    """Effective number of 10 s blocks (after forgetting)."""
    mean: float = PRIOR_MEAN_PCT
    m2: float = 0.0
    """Weighted sum of squared deviations of block means from ``mean``."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the baseline expects in one band, ready for a detector."""

    band: str
    mean_left_pct: float
    sd_block_pts: float
    """SD of a single block mean."""
    sd_long_run_pts: float
    """SD of a block mean inflated for autocorrelation (what CUSUM standardises by)."""
    tolerance_pts: float
    weight: float


@dataclass(slots=True)
class Baseline:
    """The rider's usual balance per power band, learnt across sessions."""

    power_edges_w: tuple[float, ...] = DEFAULT_POWER_EDGES_W
    forgetting: float = DEFAULT_FORGETTING
    bands: dict[str, BandBaseline] = field(default_factory=dict)
    lag_num: float = 0.0
    lag_den: float = 0.0
    sessions: int = 0
    cadence_edges_rpm: tuple[float, ...] = DEFAULT_CADENCE_EDGES_RPM
    cadence_bands: dict[str, BandBaseline] = field(default_factory=dict)
    """Usual balance per cadence band (for reports; detection keys on power)."""

    @property
    def labels(self) -> tuple[str, ...]:
        """Band labels in ascending power order."""
        return band_labels(self.power_edges_w, "W")

    def band_for(self, power_w: float) -> str:
        """The label of the band ``power_w`` falls in."""
        return self.labels[band_index(power_w, self.power_edges_w)]

    def phi(self) -> float:
        """Pooled lag-1 autocorrelation of block residuals, with the prior, clamped."""
        prior_den = PRIOR_PHI_BLOCKS * PRIOR_SD_PTS**2
        num = self.lag_num + PRIOR_PHI * prior_den
        den = self.lag_den + prior_den
        return min(MAX_PHI, max(0.0, num / den))

    def expectation(self, band: str) -> Expectation:
        """Mean, noise and tolerance for power ``band`` (prior values if unseen)."""
        return self._expect(band, self.bands.get(band, BandBaseline()))

    def cadence_expectation(self, band: str) -> Expectation:
        """The same for a cadence band label (e.g. ``"90-100 rpm"``)."""
        return self._expect(band, self.cadence_bands.get(band, BandBaseline()))

    def _expect(self, label: str, b: BandBaseline) -> Expectation:
        # Shrink the mean towards 50 % only while the band has almost no data.
        mean = (PRIOR_MEAN_BLOCKS * PRIOR_MEAN_PCT + b.weight * b.mean) / (
            PRIOR_MEAN_BLOCKS + b.weight
        )
        var = (PRIOR_SD_BLOCKS * PRIOR_SD_PTS**2 + b.m2) / (PRIOR_SD_BLOCKS + b.weight)
        sd = math.sqrt(var)
        phi = self.phi()
        inflation = math.sqrt((1.0 + phi) / (1.0 - phi))
        tol = PRIOR_TOLERANCE_PTS / math.sqrt(1.0 + b.weight / TOLERANCE_BLOCKS)
        return Expectation(label, mean, sd, sd * inflation, tol, b.weight)

    def expected_left_pct(self, power_w: float) -> float:
        """The rider's usual left share at ``power_w``."""
        return self.expectation(self.band_for(power_w)).mean_left_pct

    def learn(self, summary: SessionSummary) -> None:
        """Merge one session's block statistics (after forgetting the old a little).

        Raises ``ValueError`` when the session was cut into different power bands.
        """
        if summary.power_edges_w and tuple(summary.power_edges_w) != tuple(
            self.power_edges_w
        ):
            raise ValueError(
                f"session power bands {list(summary.power_edges_w)} differ from the "
                f"baseline's {list(self.power_edges_w)}; reset the baseline first"
            )
        if not any(s.n for s in summary.learning.values()):
            return
        f = self.forgetting
        for band in (*self.bands.values(), *self.cadence_bands.values()):
            band.weight *= f
            band.m2 *= f
        self.lag_num *= f
        self.lag_den *= f
        for label, stats in summary.learning.items():
            if stats.n:
                _merge(self.bands.setdefault(label, BandBaseline()), stats)
                self.lag_num += stats.lag_num
                self.lag_den += stats.lag_den
        known = set(band_labels(self.cadence_edges_rpm, "rpm"))
        for label, stats in summary.learning_cadence.items():
            if stats.n and label in known:
                _merge(self.cadence_bands.setdefault(label, BandBaseline()), stats)
        self.sessions += 1

    def reset(self) -> None:
        """Forget everything learnt (keep the band edges and forgetting)."""
        self.bands.clear()
        self.cadence_bands.clear()
        self.lag_num = 0.0
        self.lag_den = 0.0
        self.sessions = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict with a version tag."""
        return {
            "version": BASELINE_VERSION,
            "power_edges_w": list(self.power_edges_w),
            "forgetting": self.forgetting,
            "sessions": self.sessions,
            "lag_num": self.lag_num,
            "lag_den": self.lag_den,
            "bands": _bands_dict(self.bands),
            "cadence_edges_rpm": list(self.cadence_edges_rpm),
            "cadence_bands": _bands_dict(self.cadence_bands),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Baseline:
        """Load any known version; raises ``ValueError`` for unknown ones."""
        version = int(data.get("version", 1))
        if version == 1:
            data = _migrate_v1(data)
        elif version != BASELINE_VERSION:
            raise ValueError(f"unknown baseline version {version}")
        return cls(
            power_edges_w=tuple(float(x) for x in data["power_edges_w"]),
            forgetting=float(data.get("forgetting", DEFAULT_FORGETTING)),
            bands=_bands_from(data.get("bands", {})),
            lag_num=float(data.get("lag_num", 0.0)),
            lag_den=float(data.get("lag_den", 0.0)),
            sessions=int(data.get("sessions", 0)),
            cadence_edges_rpm=tuple(
                float(x)
                for x in data.get("cadence_edges_rpm", DEFAULT_CADENCE_EDGES_RPM)
            ),
            cadence_bands=_bands_from(data.get("cadence_bands", {})),
        )


def _merge(band: BandBaseline, stats: BlockStats) -> None:
    """Chan et al.'s pairwise update of weight, mean and sum of squares."""
    n_b = float(stats.n)
    mean_b = stats.sum / n_b
    m2_b = max(0.0, stats.sum_sq - n_b * mean_b * mean_b)
    total = band.weight + n_b
    delta = mean_b - band.mean
    band.mean += delta * n_b / total
    band.m2 += m2_b + delta * delta * band.weight * n_b / total
    band.weight = total


def _bands_dict(bands: dict[str, BandBaseline]) -> dict[str, dict[str, float]]:
    return {
        k: {"weight": v.weight, "mean": v.mean, "m2": v.m2} for k, v in bands.items()
    }


def _bands_from(data: dict[str, Any]) -> dict[str, BandBaseline]:
    return {
        k: BandBaseline(float(v["weight"]), float(v["mean"]), float(v["m2"]))
        for k, v in data.items()
    }


def _migrate_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 kept ``{"mean", "sd", "seconds"}`` per band and no autocorrelation."""
    bands: dict[str, dict[str, float]] = {}
    for label, v in data.get("bands", {}).items():
        weight = float(v.get("seconds", 0.0)) / 10.0
        sd = float(v.get("sd", PRIOR_SD_PTS))
        bands[label] = {
            "weight": weight,
            "mean": float(v["mean"]),
            "m2": sd * sd * weight,
        }
    return {
        "version": BASELINE_VERSION,
        "power_edges_w": data.get("power_edges_w", list(DEFAULT_POWER_EDGES_W)),
        "forgetting": DEFAULT_FORGETTING,
        "sessions": int(data.get("sessions", 1 if bands else 0)),
        "lag_num": 0.0,
        "lag_den": 0.0,
        "bands": bands,
    }


@dataclass(slots=True)
class Baselines:
    """One :class:`Baseline` per riding context (``"indoor"``, ``"outdoor"``, …)."""

    by_context: dict[str, Baseline] = field(default_factory=dict)
    power_edges_w: tuple[float, ...] = DEFAULT_POWER_EDGES_W

    def get(self, context: str) -> Baseline:
        """The baseline for ``context``, created empty on first use."""
        if context not in self.by_context:
            self.by_context[context] = Baseline(power_edges_w=self.power_edges_w)
        return self.by_context[context]

    def find(self, context: str) -> Baseline | None:
        """The baseline for ``context`` if the rider has one; never adds it."""
        return self.by_context.get(context)

    def learn(self, context: str, summary: SessionSummary) -> None:
        """Teach the ``context`` baseline one session."""
        self.get(context).learn(summary)

    def reset(self, context: str | None = None) -> None:
        """Forget one context, or every context when ``context`` is None."""
        targets = self.by_context.values() if context is None else [self.get(context)]
        for baseline in targets:
            baseline.reset()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict with a version tag."""
        return {
            "version": BASELINES_VERSION,
            "power_edges_w": list(self.power_edges_w),
            "contexts": {k: v.to_dict() for k, v in self.by_context.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Baselines:
        """Load; a bare version-1 baseline (before contexts existed) becomes indoor."""
        version = int(data.get("version", 1))
        if version == 1:
            single = Baseline.from_dict(data)
            return cls({"indoor": single}, single.power_edges_w)
        if version != BASELINES_VERSION:
            raise ValueError(f"unknown baselines version {version}")
        edges = tuple(
            float(x) for x in data.get("power_edges_w", DEFAULT_POWER_EDGES_W)
        )
        return cls(
            {k: Baseline.from_dict(v) for k, v in data.get("contexts", {}).items()},
            edges,
        )

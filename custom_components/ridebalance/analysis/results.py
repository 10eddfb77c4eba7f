"""What the engine hands out: episodes, their changes, live metrics, summaries.

All are plain dataclasses with ``to_dict()`` / ``from_dict()`` so Home Assistant's
Store and the CLI's JSON can keep them. Times are seconds since the session's
first sample (``elapsed``), which is what "how long into a ride" means.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

SUMMARY_VERSION = 1


class EpisodeKind(StrEnum):
    """What kind of departure an episode describes."""

    ASYMMETRY = "asymmetry"
    """Balance away from the rider's usual at the same effort."""
    CADENCE_DRIFT = "cadence_drift"
    """Cadence sagging against the rider's early-session cadence at similar power."""
    CADENCE_OUT_OF_BAND = "cadence_out_of_band"
    """Cadence outside the target band for a sustained time."""
    BALANCE_DRIFT = "balance_drift"
    """The 5-minute balance left the first-15-minutes reference (reported once)."""


class EpisodeEdge(StrEnum):
    """Edge of an episode, as fired to the outside world."""

    STARTED = "started"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Episode:
    """One flagged stretch. A flag, never a diagnosis.

    ``magnitude`` is signed: points of LEFT share above (+) / below (-) the usual
    for balance kinds, rpm above (+) / below (-) the reference for cadence kinds.
    ``reference`` is the usual value it was compared with (left % or rpm; the
    band edge for cadence out of band). ``power_band`` is the band at detection
    (None for the session-wide balance drift).
    """

    kind: EpisodeKind
    onset_s: float
    detected_s: float
    magnitude: float
    unit: str
    reference: float
    power_band: str | None
    reason: str
    end_s: float | None = None

    @property
    def active(self) -> bool:
        """True while the episode has not ended."""
        return self.end_s is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        out = asdict(self)
        out["kind"] = str(self.kind)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Episode:
        """Inverse of :meth:`to_dict`."""
        return cls(
            kind=EpisodeKind(data["kind"]),
            onset_s=float(data["onset_s"]),
            detected_s=float(data["detected_s"]),
            magnitude=float(data["magnitude"]),
            unit=str(data["unit"]),
            reference=float(data["reference"]),
            power_band=data.get("power_band"),
            reason=str(data["reason"]),
            end_s=None if data.get("end_s") is None else float(data["end_s"]),
        )


@dataclass(frozen=True, slots=True)
class EpisodeChange:
    """An episode started or ended, at ``t_s`` (elapsed seconds)."""

    type: EpisodeEdge
    t_s: float
    episode: Episode


type DropTally = Counter[str]
"""The cleaner's running counts by :class:`DropCounts` field, frozen with ``of``."""


@dataclass(frozen=True, slots=True)
class DropCounts:
    """How many values the cleaner refused, and why (one count per value refused)."""

    balance_coasting: int = 0
    """Balance with zero cadence or power under the floor (coasting 100/0 artefacts)."""
    balance_out_of_range: int = 0
    """Balance outside 0-100 %, or exactly 0/100 % (one-sided artefacts)."""
    te_ps_coasting: int = 0
    """TE/PS values while coasting (pedals report them at zero power)."""
    te_ps_out_of_range: int = 0
    """TE/PS outside 0-100 %."""
    power_out_of_range: int = 0
    """Negative or implausible (> 3000 W) power."""
    cadence_out_of_range: int = 0
    """Negative or implausible (> 250 rpm) cadence."""
    heart_rate_out_of_range: int = 0
    """Heart rate outside 25-250 bpm."""
    out_of_order: int = 0
    """Samples whose time went backwards (dropped whole)."""
    gaps: int = 0
    """Silences longer than ``max_gap_s`` between samples."""

    def total(self) -> int:
        """All values dropped (gaps excluded: they are holes, not values)."""
        return (
            self.balance_coasting
            + self.balance_out_of_range
            + self.te_ps_coasting
            + self.te_ps_out_of_range
            + self.power_out_of_range
            + self.cadence_out_of_range
            + self.heart_rate_out_of_range
            + self.out_of_order
        )

    def to_dict(self) -> dict[str, int]:
        """JSON-able dict."""
        return asdict(self)

    @classmethod
    def of(cls, tally: DropTally) -> DropCounts:
        """The counts of a tally (a name that is no field raises ``TypeError``)."""
        return cls(**tally)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DropCounts:
        """Inverse of :meth:`to_dict`; unknown keys ignored."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: int(v) for k, v in data.items() if k in known})


@dataclass(slots=True)
class BandSummary:
    """Balance and effort within one power or cadence band over a session."""

    label: str
    riding_s: float
    avg_power_w: float | None
    balance_left_pct: float | None
    """Power-weighted left share within the band."""
    symmetry_index_pct: float | None
    cadence_avg_rpm: float | None
    baseline_left_pct: float | None = None
    """The rider's usual left share in this band (power bands only)."""
    vs_baseline_pts: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BandSummary:
        """Inverse of :meth:`to_dict`."""
        return cls(
            label=str(data["label"]),
            riding_s=float(data["riding_s"]),
            avg_power_w=data.get("avg_power_w"),
            balance_left_pct=data.get("balance_left_pct"),
            symmetry_index_pct=data.get("symmetry_index_pct"),
            cadence_avg_rpm=data.get("cadence_avg_rpm"),
            baseline_left_pct=data.get("baseline_left_pct"),
            vs_baseline_pts=data.get("vs_baseline_pts"),
        )


@dataclass(slots=True)
class BlockStats:
    """Per-power-band statistics of valid block means, for teaching the baseline.

    ``n`` blocks, ``sum`` and ``sum_sq`` of block-mean left share; ``lag_num`` and
    ``lag_den`` accumulate the lag-1 autocovariance of consecutive same-band block
    residuals (about the session's band mean), used to inflate block noise.
    """

    n: int = 0
    sum: float = 0.0
    sum_sq: float = 0.0
    lag_num: float = 0.0
    lag_den: float = 0.0

    def to_dict(self) -> dict[str, float]:
        """JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BlockStats:
        """Inverse of :meth:`to_dict`."""
        return cls(
            n=int(data.get("n", 0)),
            sum=float(data.get("sum", 0.0)),
            sum_sq=float(data.get("sum_sq", 0.0)),
            lag_num=float(data.get("lag_num", 0.0)),
            lag_den=float(data.get("lag_den", 0.0)),
        )


@dataclass(slots=True)
class SessionSummary:
    """Everything worth keeping about one ride, from streaming or batch alike.

    Balance figures are LEFT share in %, power-weighted over valid samples (the way
    a head unit computes its session balance). ``symmetry_index_pct`` is
    ``SI = (L - R) / ((L + R) / 2) * 100`` on the shares (positive = left-dominant).
    Normalized power: 30 s rolling mean of a 1 Hz power series, 4th-power mean,
    4th root.
    """

    duration_s: float
    riding_s: float
    samples: int
    dropped: DropCounts
    avg_power_w: float | None
    normalized_power_w: float | None
    balance_left_pct: float | None
    symmetry_index_pct: float | None
    te_left_pct: float | None
    te_right_pct: float | None
    ps_left_pct: float | None
    ps_right_pct: float | None
    cadence_avg_rpm: float | None
    cadence_sd_rpm: float | None
    cadence_cv_pct: float | None
    heart_rate_avg_bpm: float | None
    time_below_cadence_band_s: float
    time_above_cadence_band_s: float
    power_bands: list[BandSummary]
    cadence_bands: list[BandSummary]
    episodes: list[Episode]
    balance_reference_left_pct: float | None
    """Power-weighted left share over the first 15 minutes of riding."""
    balance_drift_onset_s: float | None
    """When the 5-minute balance left that reference (None: it did not)."""
    max_drift_pts: float | None
    """Largest 5-minute departure from the reference, signed (left +)."""
    learning: dict[str, BlockStats] = field(default_factory=dict)
    """Block statistics per power band, to teach the baseline after the ride."""
    learning_cadence: dict[str, BlockStats] = field(default_factory=dict)
    """The same per cadence band (no autocorrelation terms)."""
    power_edges_w: tuple[float, ...] = ()
    context: str | None = None
    version: int = SUMMARY_VERSION

    @property
    def balance_right_pct(self) -> float | None:
        """Right share, derived from left."""
        return None if self.balance_left_pct is None else 100.0 - self.balance_left_pct

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict with a ``version`` tag."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["balance_right_pct"] = self.balance_right_pct
        out["dropped"] = self.dropped.to_dict()
        for name in ("power_bands", "cadence_bands", "episodes"):
            out[name] = [item.to_dict() for item in out[name]]
        for name in ("learning", "learning_cadence"):
            out[name] = {band: stats.to_dict() for band, stats in out[name].items()}
        out["power_edges_w"] = list(self.power_edges_w)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionSummary:
        """Inverse of :meth:`to_dict`. Raises ``ValueError`` for a newer version."""
        version = int(data.get("version", 1))
        if version > SUMMARY_VERSION:
            raise ValueError(
                f"session summary version {version} is newer than this engine "
                f"understands ({SUMMARY_VERSION})"
            )
        return cls(
            duration_s=float(data["duration_s"]),
            riding_s=float(data["riding_s"]),
            samples=int(data["samples"]),
            dropped=DropCounts.from_dict(data.get("dropped", {})),
            avg_power_w=data.get("avg_power_w"),
            normalized_power_w=data.get("normalized_power_w"),
            balance_left_pct=data.get("balance_left_pct"),
            symmetry_index_pct=data.get("symmetry_index_pct"),
            te_left_pct=data.get("te_left_pct"),
            te_right_pct=data.get("te_right_pct"),
            ps_left_pct=data.get("ps_left_pct"),
            ps_right_pct=data.get("ps_right_pct"),
            cadence_avg_rpm=data.get("cadence_avg_rpm"),
            cadence_sd_rpm=data.get("cadence_sd_rpm"),
            cadence_cv_pct=data.get("cadence_cv_pct"),
            heart_rate_avg_bpm=data.get("heart_rate_avg_bpm"),
            time_below_cadence_band_s=float(data.get("time_below_cadence_band_s", 0.0)),
            time_above_cadence_band_s=float(data.get("time_above_cadence_band_s", 0.0)),
            power_bands=[BandSummary.from_dict(b) for b in data.get("power_bands", [])],
            cadence_bands=[
                BandSummary.from_dict(b) for b in data.get("cadence_bands", [])
            ],
            episodes=[Episode.from_dict(e) for e in data.get("episodes", [])],
            balance_reference_left_pct=data.get("balance_reference_left_pct"),
            balance_drift_onset_s=data.get("balance_drift_onset_s"),
            max_drift_pts=data.get("max_drift_pts"),
            learning={
                k: BlockStats.from_dict(v) for k, v in data.get("learning", {}).items()
            },
            learning_cadence={
                k: BlockStats.from_dict(v)
                for k, v in data.get("learning_cadence", {}).items()
            },
            power_edges_w=tuple(float(x) for x in data.get("power_edges_w", [])),
            context=data.get("context"),
            version=SUMMARY_VERSION,
        )


@dataclass(frozen=True, slots=True)
class LiveMetrics:
    """A snapshot of the ride so far, cheap to take at 1 Hz; never changed after.

    Window balances are power-weighted LEFT share over the last 10 s / 1 min / 5 min
    of valid samples (None when the window holds none). ``vs_baseline_pts`` is the
    1-minute balance minus the rider's usual at the current power band.
    """

    elapsed_s: float = 0.0
    riding_s: float = 0.0
    riding: bool = False
    power_w: float | None = None
    """Mean power over the last 10 s."""
    avg_power_w: float | None = None
    normalized_power_w: float | None = None
    cadence_rpm: float | None = None
    """Mean cadence over the last 10 s of pedalling."""
    heart_rate_bpm: float | None = None
    balance_10s_left_pct: float | None = None
    balance_1min_left_pct: float | None = None
    balance_5min_left_pct: float | None = None
    balance_session_left_pct: float | None = None
    symmetry_index_pct: float | None = None
    """From the 1-minute balance."""
    power_band: str | None = None
    baseline_left_pct: float | None = None
    vs_baseline_pts: float | None = None
    te_left_pct: float | None = None
    te_right_pct: float | None = None
    ps_left_pct: float | None = None
    ps_right_pct: float | None = None
    """TE/PS: means over the last minute."""
    cadence_reference_rpm: float | None = None
    cadence_drift_rpm: float | None = None
    """Last block's cadence minus the early-session reference at that power band."""
    cadence_in_band: bool | None = None
    time_below_cadence_band_s: float = 0.0
    time_above_cadence_band_s: float = 0.0
    balance_reference_left_pct: float | None = None
    balance_drift_pts: float | None = None
    balance_drift_onset_s: float | None = None
    asymmetry_active: bool = False
    cadence_drift_active: bool = False
    cadence_out_of_band_active: bool = False
    active_episodes: tuple[Episode, ...] = ()
    """As they stood at the snapshot (episodes are frozen: a change is a new one)."""
    episode_count: int = 0
    dropped: DropCounts = field(default_factory=DropCounts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        out = asdict(self)
        out["active_episodes"] = [e.to_dict() for e in self.active_episodes]
        out["dropped"] = self.dropped.to_dict()
        return out

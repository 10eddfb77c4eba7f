"""Analysis settings: the knobs the UI exposes, plus band definitions.

Power bands are fixed edges in watts by default (``<100, 100-150, 150-200, 200-250,
250-300, 300+ W``): a rider's balance is known to move with effort, and 50 W steps are
coarse enough to collect data in every band during ordinary riding. When the rider's
FTP is given, the edges become fractions of FTP (``FTP_BAND_FRACTIONS``: 45, 60, 75,
90 and 105 %) so the bands mean the same effort whatever the fitness. The baseline
remembers the edges it was learnt with; changing FTP means starting a new baseline.

Cadence bands are fixed edges in rpm (``<70, 70-80, 80-90, 90-100, 100+``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
import itertools
from typing import Any, Literal, get_args

DEFAULT_POWER_EDGES_W: tuple[float, ...] = (100.0, 150.0, 200.0, 250.0, 300.0)
FTP_BAND_FRACTIONS: tuple[float, ...] = (0.45, 0.60, 0.75, 0.90, 1.05)
DEFAULT_CADENCE_EDGES_RPM: tuple[float, ...] = (70.0, 80.0, 90.0, 100.0)
RiderKnob = Literal[
    "asymmetry_threshold_pts",
    "min_duration_s",
    "cooldown_s",
    "cadence_low_rpm",
    "cadence_high_rpm",
    "power_floor_w",
]
"""A setting a rider sets in Home Assistant (a number), kept with the rider's data."""
RIDER_KNOBS: tuple[RiderKnob, ...] = get_args(RiderKnob)


def band_labels(edges: tuple[float, ...], unit: str) -> tuple[str, ...]:
    """Labels for the bands cut by ``edges``: ``<100 W``, ``100-150 W``, ``300+ W``."""
    if not edges:
        return (f"all {unit}".strip(),)
    labels = [f"<{edges[0]:g} {unit}"]
    labels.extend(f"{lo:g}-{hi:g} {unit}" for lo, hi in itertools.pairwise(edges))
    labels.append(f"{edges[-1]:g}+ {unit}")
    return tuple(labels)


def band_index(value: float, edges: tuple[float, ...]) -> int:
    """The band a value falls in (lower edge inclusive), 0 … len(edges)."""
    i = 0
    for edge in edges:
        if value < edge:
            return i
        i += 1
    return i


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """Everything that changes what the engine reports.

    The first block are the user-facing knobs (numbers in the UI); the rest are
    engineering defaults documented where they are used.
    """

    # --- user-facing ---
    asymmetry_threshold_pts: float = 3.0
    """Smallest sustained departure from the usual balance worth flagging (points)."""
    min_duration_s: float = 30.0
    """A departure must be supported for at least this long before it is flagged."""
    cooldown_s: float = 300.0
    """After an asymmetry episode ends, no new one is raised for this long."""
    cadence_low_rpm: float = 80.0
    """Target cadence band, lower edge."""
    cadence_high_rpm: float = 100.0
    """Target cadence band, upper edge."""
    power_floor_w: float = 40.0
    """Below this power, balance/TE/PS are coasting artefacts and are dropped."""
    ftp_w: float | None = None
    """When set, power bands are fractions of FTP instead of fixed watts."""

    # --- engineering defaults ---
    block_s: float = 10.0
    """Detectors run on block means of this length (seconds of clock time)."""
    false_alarm_interval_h: float = 10.0
    """Riding hours per false alarm the CUSUM decision interval is calibrated for."""
    cusum_h: float | None = None
    """Fixed CUSUM decision interval (in long-run SDs); None = calibrated."""
    cusum_end_h: float = 4.0
    """CUSUM interval for deciding an episode has ended (return to usual)."""
    pause_reset_s: float = 120.0
    """Suppression longer than this ends open episodes and restarts the statistics."""
    cadence_drop_rpm: float = 5.0
    """Sustained cadence drop against the early-session reference worth flagging."""
    cadence_reference_s: float = 900.0
    """Riding time that forms the early-session cadence and balance references."""
    cadence_band_min_s: float = 60.0
    """Time outside the target cadence band before it becomes an episode."""
    drift_threshold_pts: float = 2.0
    """Smallest 5-minute balance drift from the first-15-minutes reference reported."""
    drift_z: float = 3.5
    """The drift must also exceed this many standard errors of the difference."""
    drift_sustain_s: float = 120.0
    """The 5-minute balance must stay out of the reference this long to count."""
    max_gap_s: float = 5.0
    """A sample counts for at most this long (longer silences are gaps)."""
    power_edges_w: tuple[float, ...] = field(default=DEFAULT_POWER_EDGES_W)
    cadence_edges_rpm: tuple[float, ...] = field(default=DEFAULT_CADENCE_EDGES_RPM)

    def effective_power_edges(self) -> tuple[float, ...]:
        """Power band edges in W: FTP fractions when FTP is known, else fixed."""
        if self.ftp_w is not None and self.ftp_w > 0:
            return tuple(round(f * self.ftp_w, 1) for f in FTP_BAND_FRACTIONS)
        return self.power_edges_w

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples become lists)."""
        out = asdict(self)
        out["power_edges_w"] = list(self.power_edges_w)
        out["cadence_edges_rpm"] = list(self.cadence_edges_rpm)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisSettings:
        """Inverse of :meth:`to_dict`; unknown keys ignored, missing ones default."""
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for key in ("power_edges_w", "cadence_edges_rpm"):
            if key in kwargs:
                kwargs[key] = tuple(float(x) for x in kwargs[key])
        return cls(**kwargs)

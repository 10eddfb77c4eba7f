"""How the rider moves: seated and standing, foot position and power phase.

Plain numpy on a ride's arrays (running time only, as for the balance
analysis; ``t_s`` is the riding clock: a file's timer time, a live session's
sample time), cleaned as the balance analysis cleans them (:mod:`.cleaning`: a
glitch is not measured, balance is blanked below the power floor), and its
cycling-dynamics columns (``model.DYNAMICS_FIELDS``). Per ride and per power
band (of the cleaned power):

* time seated and standing: each record counts until the next one, at most
  ``max_gap_s`` (a longer silence is a gap, not riding); a record without a
  known position counts for neither;
* stands: changes into standing (rising counts, sitting down does not), and
  stands per hour of known position;
* average PCO per side and the power phase (and its peak) per side over records
  where the rider rides (:func:`.cleaning.is_riding`: the power floor, a cadence
  that is not 0); angles are averaged on the circle and the arc runs from the
  mean start forward to the mean end;
* balance seated and standing: the left share weighted by power, as the session
  balance is.

Drift, like the balance drift: each figure's mean over the first
``cadence_reference_s`` of riding is the reference; afterwards each 5-minute
window is compared with it. A drift starts at the first window beyond the
figure's threshold whose next window is beyond it too, on the same side; its
size is the mean change from there to the end of the ride.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from ..angles import angle_change_deg, arc_deg, circular_mean_deg
from ..model import STANDING_CODES
from .detectors import DRIFT_WINDOW_S
from .measured import mean, power_weighted
from .settings import AnalysisSettings, band_index, band_labels

type FloatArray = npt.NDArray[np.float64]
type BoolArray = npt.NDArray[np.bool_]

PHASES = ("phase_left", "phase_right", "peak_left", "peak_right")
"""The power phases and their peaks, each a ``_start_deg`` and ``_end_deg`` column."""

# (smallest change worth calling a drift, window) by the figure's unit, the suffix
# of its name: about twice the pedals' resolution (PCO in whole mm, angles in
# 1.4° steps) over balance drift's 5 minutes; standing comes in spells of a
# minute or less, so its share is judged over 15-minute windows.
DRIFT_RULES: dict[str, tuple[float, float]] = {
    "mm": (2.0, DRIFT_WINDOW_S),
    "deg": (5.0, DRIFT_WINDOW_S),
    "pct": (10.0, 3 * DRIFT_WINDOW_S),
}


@dataclass(frozen=True, slots=True)
class PhaseFigures:
    """A power phase (or its peak): mean start and end, and the arc between."""

    start_deg: float
    end_deg: float
    arc_deg: float


@dataclass(frozen=True, slots=True)
class Stroke:
    """PCO per side and the power phases over some records (None = not measured)."""

    pco_left_mm: float | None
    pco_right_mm: float | None
    phase_left: PhaseFigures | None
    phase_right: PhaseFigures | None
    peak_left: PhaseFigures | None
    peak_right: PhaseFigures | None


@dataclass(frozen=True, slots=True)
class DynamicsFigures(Stroke):
    """The dynamics of a ride or of one power band (None = not measured): the
    stroke, seated and standing."""

    seated_s: float
    standing_s: float
    stand_count: int
    stands_per_hour: float | None
    balance_seated_left_pct: float | None
    balance_standing_left_pct: float | None

    @property
    def standing_pct(self) -> float | None:
        """Share of the time with a known position spent standing."""
        known = self.seated_s + self.standing_s
        return None if known <= 0 else 100.0 * self.standing_s / known


@dataclass(frozen=True, slots=True)
class DynamicsDrift:
    """One figure moving away from its early-ride reference."""

    figure: str
    """A key of :data:`DRIFT_FIGURES`; its suffix is the unit."""
    reference: float
    change: float
    """Signed: mm (+ = outwards), degrees (+ = later in the stroke), points."""
    onset_s: float
    """Seconds of riding when the drift started."""


@dataclass(frozen=True, slots=True)
class DynamicsReport:
    """The ride's dynamics, per power band and their drift."""

    ride: DynamicsFigures
    bands: dict[str, DynamicsFigures] = field(default_factory=dict)
    drifts: tuple[DynamicsDrift, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (standing share included)."""

        def figures(f: DynamicsFigures) -> dict[str, Any]:
            return {**asdict(f), "standing_pct": f.standing_pct}

        return {
            "ride": figures(self.ride),
            "bands": {label: figures(f) for label, f in self.bands.items()},
            "drifts": [asdict(d) for d in self.drifts],
        }


def standing_mask(position: FloatArray) -> BoolArray:
    """Where the rider is out of the saddle (unknown positions are not)."""
    return np.isin(position, STANDING_CODES)


def mean_phase(start: FloatArray, end: FloatArray) -> PhaseFigures | None:
    """A phase from its start and end angles, each averaged on the circle."""
    s, e = circular_mean_deg(start), circular_mean_deg(end)
    if s is None or e is None:
        return None
    return PhaseFigures(s, e, arc_deg(s, e))


def stroke(columns: Mapping[str, FloatArray], use: BoolArray) -> Stroke:
    """The stroke over the records ``use`` marks (a head unit's and the analysis')."""

    def only(name: str) -> FloatArray:
        return np.where(use, columns[name], np.nan)

    phase_left, phase_right, peak_left, peak_right = (
        mean_phase(only(f"{name}_start_deg"), only(f"{name}_end_deg"))
        for name in PHASES
    )
    return Stroke(
        pco_left_mm=mean(only("pco_left_mm")),
        pco_right_mm=mean(only("pco_right_mm")),
        phase_left=phase_left,
        phase_right=phase_right,
        peak_left=peak_left,
        peak_right=peak_right,
    )


@dataclass(frozen=True, slots=True)
class _Arrays:
    """A ride's arrays, running time only, with each record's duration."""

    dt: FloatArray
    power: FloatArray
    left: FloatArray
    columns: Mapping[str, FloatArray]
    known: BoolArray
    standing: BoolArray
    rises: BoolArray
    riding: BoolArray

    def _balance(self, where: BoolArray) -> float | None:
        return power_weighted(self.power[where], self.left[where])

    def figures(self, where: BoolArray) -> DynamicsFigures:
        feet = stroke(self.columns, where & self.riding)
        seated = where & self.known & ~self.standing
        standing = where & self.standing
        known_s = float(self.dt[where & self.known].sum())
        stands = int((self.rises & where).sum())
        return DynamicsFigures(
            **{f.name: getattr(feet, f.name) for f in fields(Stroke)},
            seated_s=float(self.dt[seated].sum()),
            standing_s=float(self.dt[standing].sum()),
            stand_count=stands,
            stands_per_hour=stands * 3600.0 / known_s if known_s > 0 else None,
            balance_seated_left_pct=self._balance(seated),
            balance_standing_left_pct=self._balance(standing),
        )


def _durations(t_s: FloatArray, max_gap_s: float) -> FloatArray:
    steps = np.diff(t_s)
    positive = steps[steps > 0]
    last = float(np.median(positive)) if positive.size else 1.0
    durations: FloatArray = np.clip(np.append(steps, last), 0.0, max_gap_s)
    return durations


def _angle(phase: PhaseFigures | None, end: bool) -> float | None:
    if phase is None:
        return None
    return phase.end_deg if end else phase.start_deg


_Figure = Callable[[DynamicsFigures], float | None]
DRIFT_FIGURES: dict[str, _Figure] = {
    "standing_pct": lambda f: f.standing_pct,
    "pco_left_mm": lambda f: f.pco_left_mm,
    "pco_right_mm": lambda f: f.pco_right_mm,
    "phase_left_start_deg": lambda f: _angle(f.phase_left, end=False),
    "phase_left_end_deg": lambda f: _angle(f.phase_left, end=True),
    "phase_right_start_deg": lambda f: _angle(f.phase_right, end=False),
    "phase_right_end_deg": lambda f: _angle(f.phase_right, end=True),
}


def _drifts(
    arrays: _Arrays, riding_t: FloatArray, reference_s: float
) -> tuple[DynamicsDrift, ...]:
    reference = arrays.figures(riding_t < reference_s)
    end = float(riding_t[-1]) if riding_t.size else 0.0
    windows: dict[float, list[tuple[float, DynamicsFigures]]] = {}
    for width in {window for _, window in DRIFT_RULES.values()}:
        windows[width] = [
            (float(t0), arrays.figures((riding_t >= t0) & (riding_t < t0 + width)))
            for t0 in np.arange(reference_s, end, width)
        ]
    found: list[DynamicsDrift] = []
    for name, figure in DRIFT_FIGURES.items():
        threshold, width = DRIFT_RULES[name.rsplit("_", 1)[1]]
        ref = figure(reference)
        if ref is None:
            continue
        changes: list[tuple[float, float]] = []
        for t0, figures in windows[width]:
            value = figure(figures)
            if value is not None:
                change = (
                    angle_change_deg(ref, value)
                    if name.endswith("_deg")
                    else value - ref
                )
                changes.append((t0, change))
        for k, (t0, change) in enumerate(changes):
            after = changes[k + 1 : k + 2]
            beyond = abs(change) >= threshold and all(
                abs(c) >= threshold and c * change > 0 for _, c in after
            )
            if beyond:
                rest = [c for _, c in changes[k:]]
                found.append(DynamicsDrift(name, ref, float(np.mean(rest)), t0))
                break
    return tuple(found)


def analyze_dynamics(
    t_s: FloatArray,
    power_w: FloatArray,
    left_pct: FloatArray,
    columns: Mapping[str, FloatArray],
    settings: AnalysisSettings | None = None,
    *,
    riding: BoolArray,
    drift: bool = True,
) -> DynamicsReport | None:
    """The dynamics of a ride's running time; None when none were measured.

    ``power_w`` and ``left_pct`` are the cleaned columns and ``riding`` the
    cleaner's mask (:func:`.cleaning.clean_columns`, the one riding rule
    :func:`.cleaning.is_riding` with power and cadence). ``drift=False`` skips
    the drift (rides pooled end to end have none).
    """
    if not any(bool(np.isfinite(values).any()) for values in columns.values()):
        return None
    s = settings or AnalysisSettings()
    position = columns["rider_position"]
    standing = standing_mask(position)
    before = np.concatenate(([False], standing[:-1]))
    dt = _durations(t_s, s.max_gap_s)
    arrays = _Arrays(
        dt=dt,
        power=power_w,
        left=left_pct,
        columns=columns,
        known=np.isfinite(position),
        standing=standing,
        rises=standing & ~before,
        riding=riding,
    )
    everything = np.ones(t_s.size, dtype=np.bool_)
    edges = s.effective_power_edges()
    band = np.array(
        [-1 if math.isnan(p) else band_index(p, edges) for p in power_w.tolist()]
    )
    bands = {
        label: arrays.figures(band == i)
        for i, label in enumerate(band_labels(edges, "W"))
        if bool((band == i).any())
    }
    riding_t = np.cumsum(dt) - dt
    return DynamicsReport(
        ride=arrays.figures(everything),
        bands=bands,
        drifts=_drifts(arrays, riding_t, s.cadence_reference_s) if drift else (),
    )

"""Cycling dynamics of a ride: the per-record columns and the head unit's figures.

A ride with cycling dynamics (dual-sided pedals whose head unit switched them on)
carries, per record, the rider position, platform centre offset (PCO) per side
and the power phase and its peak per side (``model.DYNAMICS_FIELDS``), plus the
figures the head unit wrote in its session and laps. The FIT encoding lives in
``fit_dynamics.py``; the rider analysis (per band, seated vs standing, drift) in
``analysis/dynamics.py``.

:func:`dynamics_figures` computes the session figures the way a head unit does,
so an exported session carries them: only running records count, cleaned as for
the other session figures (``HEAD_UNIT_CLEANING``: a glitch is not measured);
time standing is timer time from each change into standing to the next change
out of it (the last spell runs to the end of the timer); a stand is a change
into standing; PCO and power phase are averaged over records where the rider
pedals (power > 0), the angles on the circle (``analysis.dynamics.stroke``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..analysis.dynamics import PhaseFigures, standing_mask, stroke
from ..analysis.measured import mean
from ..analysis.settings import AnalysisSettings
from ..model import DYNAMICS_FIELDS

if TYPE_CHECKING:
    from .ride import Ride

type FloatArray = npt.NDArray[np.float64]
type Phase = tuple[float, float]
"""A power phase (or its peak): start and end angle, degrees."""
type ByPosition = tuple[float | None, float | None]
"""A figure seated and standing (FIT arrays indexed by rider position)."""

HEAD_UNIT_CLEANING = AnalysisSettings(power_floor_w=0.0)
"""The engine's cleaning without a power floor: a head unit keeps coasting in its
averages, but not a 65,000 W glitch."""


@dataclass(frozen=True, slots=True)
class DynamicsSummary:
    """Cycling-dynamics figures of a session or lap (None = not written)."""

    time_standing_s: float | None = None
    stand_count: int | None = None
    pco_left_mm: float | None = None
    pco_right_mm: float | None = None
    phase_left: Phase | None = None
    phase_right: Phase | None = None
    peak_left: Phase | None = None
    peak_right: Phase | None = None
    avg_power_position_w: ByPosition = (None, None)
    max_power_position_w: ByPosition = (None, None)
    avg_cadence_position_rpm: ByPosition = (None, None)
    max_cadence_position_rpm: ByPosition = (None, None)


@dataclass(frozen=True, slots=True, eq=False)
class RideDynamics:
    """Per-record dynamics columns (NaN = not measured) and the head unit's figures.

    ``columns`` holds every name of ``DYNAMICS_FIELDS``, each as long as the
    ride; ``rider_position`` holds :class:`RiderPosition` values.
    """

    columns: Mapping[str, FloatArray]
    session: DynamicsSummary | None = None
    laps: tuple[DynamicsSummary, ...] = field(default=())

    def __post_init__(self) -> None:
        lengths = {len(self.columns[name]) for name in DYNAMICS_FIELDS}
        if len(lengths) != 1:
            raise ValueError(f"dynamics columns differ in length: {sorted(lengths)}")

    @classmethod
    def empty(cls, n: int) -> RideDynamics:
        """Nothing measured over ``n`` records."""
        return cls({name: np.full(n, np.nan) for name in DYNAMICS_FIELDS})

    def __len__(self) -> int:
        return len(self.columns[DYNAMICS_FIELDS[0]])

    @property
    def measured(self) -> bool:
        """Whether any record carries a dynamics figure."""
        return any(bool(np.isfinite(c).any()) for c in self.columns.values())

    def select(self, keep: npt.NDArray[np.bool_]) -> RideDynamics:
        """The records where ``keep`` is true (the head unit's figures stay)."""
        columns = {name: values[keep] for name, values in self.columns.items()}
        return RideDynamics(columns, self.session, self.laps)


def _ends(phase: PhaseFigures | None) -> Phase | None:
    return None if phase is None else (phase.start_deg, phase.end_deg)


def _standing_spells(
    timer_t: FloatArray, standing: npt.NDArray[np.bool_], end_t: float
) -> tuple[float, int]:
    """Timer time standing and the number of changes into standing."""
    change = np.flatnonzero(np.diff(standing.astype(np.int8), prepend=0) != 0)
    bounds = np.append(timer_t[change], end_t)
    spans = np.diff(bounds)
    up = standing[change]
    return float(spans[up].sum()), int(up.sum())


def _by_position(
    values: FloatArray, standing: npt.NDArray[np.bool_], known: npt.NDArray[np.bool_]
) -> tuple[ByPosition, ByPosition]:
    """(average, maximum) of ``values`` seated and standing."""
    averages: list[float | None] = []
    maxima: list[float | None] = []
    for where in (known & ~standing, standing):
        chosen = values[where & np.isfinite(values)]
        averages.append(mean(chosen))
        maxima.append(float(chosen.max()) if chosen.size else None)
    return (averages[0], averages[1]), (maxima[0], maxima[1])


def dynamics_figures(ride: Ride, timer_s: float) -> DynamicsSummary | None:
    """The head unit's session figures for ``ride`` (None without dynamics).

    ``timer_s`` is the session's timer time (``SessionFigures.timer_s``): the
    last spell runs to its end.
    """
    if ride.dynamics is None or not ride.dynamics.measured:
        return None
    clean, kept = ride.cleaned(HEAD_UNIT_CLEANING)
    assert kept.dynamics is not None  # a selection keeps the dynamics
    columns = kept.dynamics.columns
    timer_t = clean.t_s
    power = clean.power_w
    pedalling = np.isfinite(power) & (power > 0)
    position = columns["rider_position"]
    known = np.isfinite(position)
    standing = standing_mask(position)
    time_standing: float | None = None
    stands: int | None = None
    if known.any() and timer_t.size:
        time_standing, stands = _standing_spells(
            timer_t, standing, float(timer_t[0]) + timer_s
        )
    cadence = clean.cadence_rpm
    avg_power, max_power = _by_position(power, standing, known)
    avg_cadence, max_cadence = _by_position(
        np.where(cadence > 0, cadence, np.nan), standing, known
    )
    measured_position = bool(known.any())
    none_pair: ByPosition = (None, None)
    feet = stroke(columns, pedalling)
    return DynamicsSummary(
        time_standing_s=time_standing,
        stand_count=stands,
        pco_left_mm=feet.pco_left_mm,
        pco_right_mm=feet.pco_right_mm,
        phase_left=_ends(feet.phase_left),
        phase_right=_ends(feet.phase_right),
        peak_left=_ends(feet.peak_left),
        peak_right=_ends(feet.peak_right),
        avg_power_position_w=avg_power if measured_position else none_pair,
        max_power_position_w=max_power if measured_position else none_pair,
        avg_cadence_position_rpm=avg_cadence if measured_position else none_pair,
        max_cadence_position_rpm=max_cadence if measured_position else none_pair,
    )

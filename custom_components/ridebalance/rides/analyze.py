"""Analyse a ride read from a file: the one way the CLI and the import action do it.

Only running time is analysed (:meth:`Ride.running`): while a head unit's timer
is paused the rider is stopped at a light or a café, and the live path never
sees such records either, so counting them would bend riding time, averages and
the blocks the baseline learns from.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..analysis import AnalysisSettings, Baseline, SessionSummary, analyze
from ..analysis.dynamics import DynamicsReport, analyze_dynamics
from ..model import DYNAMICS_FIELDS
from .ride import FloatArray, Ride


def analyze_ride(
    ride: Ride,
    settings: AnalysisSettings,
    baseline: Baseline | None = None,
    context: str | None = None,
) -> SessionSummary:
    """The engine's summary of the ride's running time.

    Raises :class:`~.errors.NoPowerError` when the ride has no power at all.
    """
    ride.require_power()
    return analyze(ride.running(), settings, baseline, context)


def analyze_ride_dynamics(
    rides: Sequence[Ride], settings: AnalysisSettings
) -> DynamicsReport | None:
    """The cycling dynamics of the rides' running time (None when not measured).

    One ride gets its drift too; several are pooled end to end on their timer
    clocks (for a side of ``compare``), where a drift over the pool would mean
    nothing, so none is looked for.
    """
    parts = [r.running() for r in rides if r.dynamics is not None]
    parts = [r for r in parts if len(r) and r.dynamics is not None]
    if not parts:
        return None
    clocks: list[FloatArray] = []
    offset = 0.0
    for part in parts:
        clock = part.timer_t_s - part.timer_t_s[0] + offset
        clocks.append(clock)
        # The next ride starts one recording step after this one ends.
        offset = float(clock[-1]) + 1.0
    columns = {
        name: np.concatenate([p.dynamics.columns[name] for p in parts if p.dynamics])
        for name in DYNAMICS_FIELDS
    }
    return analyze_dynamics(
        np.concatenate(clocks),
        np.concatenate([p.power_w for p in parts]),
        np.concatenate([p.left_pct for p in parts]),
        columns,
        settings,
        drift=len(parts) == 1,
    )

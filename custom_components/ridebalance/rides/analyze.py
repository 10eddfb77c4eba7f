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
from ..analysis.cleaning import CleanColumns
from ..analysis.dynamics import DynamicsReport, analyze_dynamics
from ..model import DYNAMICS_FIELDS
from .dynamics import RideDynamics
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

    The records are cleaned as for the session's balance and bands (a glitch
    is not measured; the rider's power floor blanks balance and says when the
    rider rides). One ride gets its drift too;
    several are pooled end to end on their timer clocks (for a side of
    ``compare``), where a drift over the pool would mean nothing, so none is
    looked for.
    """
    parts: list[tuple[CleanColumns, RideDynamics]] = []
    for ride in rides:
        if ride.dynamics is None:
            continue
        clean, kept = ride.cleaned(settings)
        if len(kept) and kept.dynamics is not None:
            parts.append((clean, kept.dynamics))
    if not parts:
        return None
    clocks: list[FloatArray] = []
    offset = 0.0
    for clean, _ in parts:
        clock = clean.t_s - clean.t_s[0] + offset
        clocks.append(clock)
        # The next ride starts one recording step after this one ends.
        offset = float(clock[-1]) + 1.0
    columns = {
        name: np.concatenate([dynamics.columns[name] for _, dynamics in parts])
        for name in DYNAMICS_FIELDS
    }
    return analyze_dynamics(
        np.concatenate(clocks),
        np.concatenate([clean.power_w for clean, _ in parts]),
        np.concatenate([clean.left_pct for clean, _ in parts]),
        columns,
        settings,
        riding=np.concatenate([clean.riding for clean, _ in parts]),
        drift=len(parts) == 1,
    )

"""Analyse a ride read from a file: the one way the CLI and the import action do it.

Only running time is analysed (:meth:`Ride.running`): while a head unit's timer
is paused the rider is stopped at a light or a café, and the live path never
sees such records either, so counting them would bend riding time, averages and
the blocks the baseline learns from.
"""

from __future__ import annotations

from ..analysis import AnalysisSettings, Baseline, SessionSummary, analyze
from .ride import Ride


def analyse_ride(
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

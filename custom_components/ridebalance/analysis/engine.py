"""Streaming and batch entry points of the balance engine."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ..model import Sample
from .baseline import Baseline
from .results import Episode, Event, LiveMetrics, SessionSummary
from .settings import AnalysisSettings

type FloatArray = npt.NDArray[np.float64]


@runtime_checkable
class RideArraysLike(Protocol):
    """A whole ride as equal-length float arrays; NaN means "not measured".

    ``custom_components.ridebalance.sim.RideArrays`` and the ride readers' arrays
    satisfy it. ``t_s`` must be non-decreasing seconds.
    """

    @property
    def t_s(self) -> FloatArray: ...
    @property
    def power_w(self) -> FloatArray: ...
    @property
    def left_pct(self) -> FloatArray: ...
    @property
    def cadence_rpm(self) -> FloatArray: ...
    @property
    def heart_rate_bpm(self) -> FloatArray: ...
    @property
    def te_left_pct(self) -> FloatArray: ...
    @property
    def te_right_pct(self) -> FloatArray: ...
    @property
    def ps_left_pct(self) -> FloatArray: ...
    @property
    def ps_right_pct(self) -> FloatArray: ...


class StreamingAnalyzer:
    """The engine fed one :class:`Sample` at a time (live riding).

    ``baseline`` is read, never modified: teach it after the ride with
    ``baseline.learn(analyzer.finish())``. ``context`` ("indoor"/"outdoor") is
    recorded in the summary.
    """

    def __init__(
        self,
        settings: AnalysisSettings | None = None,
        baseline: Baseline | None = None,
        context: str | None = None,
    ) -> None:
        raise NotImplementedError

    def push(self, sample: Sample) -> list[Event]:
        """Take one reading; return episodes that started or ended because of it."""
        raise NotImplementedError

    def snapshot(self) -> LiveMetrics:
        """Metrics of the ride so far (cheap; call at most once a second)."""
        raise NotImplementedError

    @property
    def episodes(self) -> list[Episode]:
        """Every episode so far, open ones included."""
        raise NotImplementedError

    def finish(self) -> SessionSummary:
        """Close the last block and any open episode; return the session summary."""
        raise NotImplementedError


def analyze(
    ride: RideArraysLike | Iterable[Sample],
    settings: AnalysisSettings | None = None,
    baseline: Baseline | None = None,
    context: str | None = None,
) -> SessionSummary:
    """Analyse a whole ride (vectorised); same results as streaming it."""
    raise NotImplementedError


def build_baseline(
    rides: Iterable[RideArraysLike | Iterable[Sample]],
    settings: AnalysisSettings | None = None,
    baseline: Baseline | None = None,
) -> Baseline:
    """Teach ``baseline`` (or a new one cut with the settings' bands) from rides."""
    raise NotImplementedError

"""Helpers for the balance-engine tests: scripted rides and learnt baselines."""

from __future__ import annotations

from collections.abc import Sequence

from custom_components.ridebalance.analysis import (
    AnalysisSettings,
    Baseline,
    SessionSummary,
    build_baseline,
)
from custom_components.ridebalance.sim import (
    RideArrays,
    Rider,
    RideScript,
    Segment,
    generate,
)

MIN = 60.0


def steady(
    minutes: float,
    power_w: float,
    *,
    cadence_rpm: float = 90.0,
    rider: Rider | None = None,
    seed: int = 0,
    **script: object,
) -> RideArrays:
    """A steady ride with the simulator's realistic noise."""
    return generate(
        RideScript(
            (Segment(minutes * MIN, power_w, cadence_rpm),),
            rider=rider or Rider(),
            **script,  # type: ignore[arg-type]
        ),
        seed=seed,
    )


def learnt(
    segments: Sequence[Segment], rider: Rider | None = None, rides: int = 2
) -> Baseline:
    """A baseline that has seen ``rides`` earlier rides of these segments."""
    return build_baseline(
        (
            generate(RideScript(tuple(segments), rider=rider or Rider()), seed=900 + k)
            for k in range(rides)
        ),
        AnalysisSettings(),
    )


def assert_same_summary(a: SessionSummary, b: SessionSummary) -> None:
    """Equal field by field; normalized power (summed in another order) to 1e-9."""
    da, db = a.to_dict(), b.to_dict()
    np_a, np_b = da.pop("normalized_power_w"), db.pop("normalized_power_w")
    assert da == db
    if np_a is None or np_b is None:
        assert np_a == np_b
    else:
        assert abs(np_a - np_b) <= 1e-9 * abs(np_a)

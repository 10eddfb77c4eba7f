"""Indoor against outdoor: one rule for when a difference is beyond noise."""

from __future__ import annotations

import math

import pytest

from custom_components.ridebalance.analysis import (
    AnalysisSettings,
    Baseline,
    build_baseline,
)
from custom_components.ridebalance.analysis.compare import (
    MIN_BLOCKS,
    RESOLUTION_PTS,
    Z95,
    band_side,
    compare_baselines,
)
from custom_components.ridebalance.sim import Rider, RideScript, Segment, generate

from .conftest import MIN

BAND = "200-250 W"


def _side(rider: Rider, minutes: float, seed: int, rides: int = 1) -> Baseline:
    return build_baseline(
        (
            generate(
                RideScript((Segment(minutes * MIN, 220, 90),), rider=rider),
                seed=seed + k,
            )
            for k in range(rides)
        ),
        AnalysisSettings(),
    )


def test_a_real_lean_is_beyond_noise_and_an_equal_band_is_not() -> None:
    indoor = _side(Rider(), 30, seed=1)
    road = _side(Rider(left_below_pct=53.0, left_above_pct=53.0), 30, seed=2)
    same = _side(Rider(), 30, seed=3)

    (lean,) = compare_baselines(indoor, road)
    assert lean.band == BAND
    assert lean.difference_pts == pytest.approx(3.0, abs=0.7)
    assert lean.exceeds_noise is True
    (equal,) = compare_baselines(indoor, same)
    assert equal.exceeds_noise is False


def test_noise_is_widened_for_correlated_blocks() -> None:
    """The standard error uses n (1 - phi) / (1 + phi) effective blocks."""
    baseline = _side(Rider(), 30, seed=4)
    band = baseline.bands[BAND]
    phi = baseline.phi()
    assert phi > 0
    independent = math.sqrt(band.m2 / (band.weight - 1) / band.weight)
    side = band_side(baseline, BAND)
    se = side.standard_error_pts
    assert se is not None
    assert se == pytest.approx(independent * math.sqrt((1 + phi) / (1 - phi)))
    assert side.ci95_pts == pytest.approx(Z95 * se)


def test_a_minute_of_riding_is_needed_for_a_verdict() -> None:
    short = _side(Rider(), MIN_BLOCKS / 6 - 0.2, seed=5)
    long = _side(Rider(left_below_pct=60.0, left_above_pct=60.0), 30, seed=6)
    assert band_side(short, BAND).blocks < MIN_BLOCKS
    (row,) = compare_baselines(short, long)
    assert row.difference_pts is not None
    assert row.difference_pts > 5
    assert row.ci95_pts is None
    assert row.exceeds_noise is None
    assert row.to_dict()["exceeds_noise"] is None


def test_less_than_a_point_is_never_a_difference() -> None:
    """Hours of riding shrink the interval below the pedals' 1 % resolution."""
    indoor = _side(Rider(), 60, seed=7, rides=4)
    road = _side(Rider(left_below_pct=50.8, left_above_pct=50.8), 60, seed=20, rides=4)
    (row,) = compare_baselines(indoor, road)
    assert row.ci95_pts is not None
    assert row.ci95_pts < RESOLUTION_PTS
    assert row.difference_pts is not None
    assert row.ci95_pts < abs(row.difference_pts) < RESOLUTION_PTS
    assert row.exceeds_noise is False


def test_a_band_ridden_on_one_side_has_no_difference() -> None:
    indoor = _side(Rider(), 20, seed=8)
    road = build_baseline(
        [generate(RideScript((Segment(20 * MIN, 120, 90),), rider=Rider()), seed=9)],
        AnalysisSettings(),
    )
    rows = {r.band: r for r in compare_baselines(indoor, road)}
    assert set(rows) == {"100-150 W", BAND}
    assert rows["100-150 W"].indoor.left_pct is None
    assert rows["100-150 W"].difference_pts is None
    assert rows["100-150 W"].to_dict(1)["outdoor_left_pct"] == pytest.approx(
        50.0, abs=0.5
    )

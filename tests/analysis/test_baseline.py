"""The personal baseline: learnt, kept per context, saved, migrated, reset."""

from __future__ import annotations

import json

import pytest

from custom_components.ridebalance.analysis import (
    BASELINE_VERSION,
    AnalysisSettings,
    Baseline,
    Baselines,
    analyze,
    build_baseline,
)
from custom_components.ridebalance.sim import Rider, RideScript, Segment, generate

from .conftest import MIN

ROAD_RIDER = Rider(left_below_pct=55.0, left_above_pct=52.5, split_w=150.0)


def _ride(rider: Rider, seed: int, minutes: float = 20) -> RideScript:
    return RideScript(
        (Segment(minutes * MIN / 2, 120, 90), Segment(minutes * MIN / 2, 220, 90)),
        rider=rider,
    )


def test_empty_baseline_is_50_50_with_a_wide_tolerance() -> None:
    exp = Baseline().expectation("200-250 W")
    assert exp.mean_left_pct == 50.0
    assert exp.tolerance_pts == pytest.approx(3.0)
    assert exp.weight == 0
    assert exp.sd_long_run_pts > exp.sd_block_pts


def test_learning_follows_the_rider_per_band_and_tightens() -> None:
    base = Baseline()
    tolerances = []
    for seed in range(3):
        base.learn(analyze(generate(_ride(ROAD_RIDER, seed), seed=seed)))
        tolerances.append(base.expectation("200-250 W").tolerance_pts)
    assert base.sessions == 3
    # An hour of history: within a point of the truth (noise and the 50 % prior).
    assert base.expected_left_pct(120) == pytest.approx(55.0, abs=1.0)
    assert base.expected_left_pct(220) == pytest.approx(52.5, abs=1.0)
    assert tolerances == sorted(tolerances, reverse=True)
    assert tolerances[-1] < 1.0
    # The simulator's block noise (AR(1), SD 4, tau 2 s): a 10 s block mean
    # has an SD of about 2.3 points and little correlation with the next block.
    exp = base.expectation("100-150 W")
    assert exp.sd_block_pts == pytest.approx(2.3, abs=0.5)
    assert 0.05 < base.phi() < 0.35
    # A band never ridden keeps the prior.
    assert base.expected_left_pct(320) == 50.0


def test_forgetting_lets_the_baseline_follow_a_change() -> None:
    base = build_baseline(
        (generate(_ride(Rider(), s), seed=s) for s in range(3)), AnalysisSettings()
    )
    new_cleats = Rider(left_below_pct=53.0, left_above_pct=53.0)
    for s in range(10, 22):
        base.learn(analyze(generate(_ride(new_cleats, s), seed=s)))
    assert base.expected_left_pct(220) > 52.0
    stubborn = Baseline(forgetting=1.0)
    for s in range(3):
        stubborn.learn(analyze(generate(_ride(Rider(), s, minutes=60), seed=s)))
    stubborn.learn(analyze(generate(_ride(new_cleats, 10), seed=10)))
    assert stubborn.expected_left_pct(220) < 51.0


def test_indoor_and_outdoor_are_kept_apart_and_survive_json() -> None:
    holder = Baselines()
    for s in range(2):
        holder.learn("indoor", analyze(generate(_ride(Rider(), s), seed=s)))
        holder.learn("outdoor", analyze(generate(_ride(ROAD_RIDER, s), seed=s)))
    assert holder.get("indoor").expected_left_pct(220) == pytest.approx(50, abs=0.6)
    assert holder.get("outdoor").expected_left_pct(220) == pytest.approx(52.5, abs=0.6)
    again = Baselines.from_dict(json.loads(json.dumps(holder.to_dict())))
    assert again.to_dict() == holder.to_dict()
    assert again.get("outdoor").expected_left_pct(120) == pytest.approx(
        holder.get("outdoor").expected_left_pct(120)
    )
    again.reset("outdoor")
    assert again.get("outdoor").sessions == 0
    assert again.get("indoor").sessions == 2
    again.reset()
    assert again.get("indoor").bands == {}


def test_version_1_baseline_is_migrated() -> None:
    v1 = {
        "version": 1,
        "power_edges_w": [100, 150, 200, 250, 300],
        "bands": {"100-150 W": {"mean": 54.0, "sd": 2.5, "seconds": 3600}},
    }
    base = Baseline.from_dict(v1)
    assert base.expected_left_pct(120) == pytest.approx(54.0, abs=0.1)
    assert base.expectation("100-150 W").weight == 360
    assert base.sessions == 1
    assert base.to_dict()["version"] == BASELINE_VERSION
    # A bare v1 baseline (from before contexts) becomes the indoor one.
    holder = Baselines.from_dict(v1)
    assert holder.get("indoor").expected_left_pct(120) == pytest.approx(54.0, abs=0.1)


def test_unknown_versions_and_mismatched_bands_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown baseline version 7"):
        Baseline.from_dict({"version": 7, "power_edges_w": []})
    with pytest.raises(ValueError, match="unknown baselines version 9"):
        Baselines.from_dict({"version": 9})
    ftp = AnalysisSettings(ftp_w=250.0)
    summary = analyze(generate(_ride(Rider(), 1), seed=1), ftp)
    with pytest.raises(ValueError, match="reset the baseline"):
        Baseline().learn(summary)


def test_a_ride_without_balance_teaches_nothing() -> None:
    ride = generate(RideScript((Segment(5 * MIN, 0, 0),)), seed=1)
    base = Baseline()
    base.learn(analyze(ride))
    assert base.sessions == 0
    assert base.to_dict() == Baseline().to_dict()


def test_usual_balance_per_cadence_band_is_learnt_for_reports() -> None:
    def spin_ride() -> RideScript:
        return RideScript(
            (
                Segment(10 * MIN, 200, 96, left_pct=53.0),
                Segment(10 * MIN, 200, 85, left_pct=50.0),
            )
        )

    base = build_baseline(
        (generate(spin_ride(), seed=s) for s in (1, 2)), AnalysisSettings()
    )
    assert base.cadence_expectation("90-100 rpm").mean_left_pct == pytest.approx(
        53.0, abs=1.0
    )
    assert base.cadence_expectation("80-90 rpm").mean_left_pct == pytest.approx(
        50.0, abs=1.0
    )
    summary = analyze(generate(spin_ride(), seed=3), baseline=base)
    fast = next(b for b in summary.cadence_bands if b.label == "90-100 rpm")
    assert fast.baseline_left_pct == pytest.approx(53.0, abs=1.0)
    assert fast.vs_baseline_pts == pytest.approx(0.0, abs=1.2)
    again = Baseline.from_dict(base.to_dict())
    assert again.cadence_bands == base.cadence_bands
    base.reset()
    assert base.cadence_bands == {}

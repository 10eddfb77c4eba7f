"""Cleaning: coasting artefacts, impossible values and time glitches are refused."""

from __future__ import annotations

from collections import Counter
import dataclasses
import math

import pytest

from custom_components.ridebalance.analysis import (
    AnalysisSettings,
    StreamingAnalyzer,
    analyze,
)
from custom_components.ridebalance.analysis.cleaning import clean_values
from custom_components.ridebalance.analysis.results import DropCounts, DropTally
from custom_components.ridebalance.model import Sample

from .conftest import assert_same_summary, steady


def _pedalling(t: float, left: float = 50.0, **kw: float | None) -> Sample:
    values: dict[str, float | None] = {
        "power_w": 200.0,
        "left_pct": left,
        "cadence_rpm": 90.0,
        "te_left_pct": 80.0,
        "te_right_pct": 79.0,
        "ps_left_pct": 24.0,
        "ps_right_pct": 23.0,
        "heart_rate_bpm": 140.0,
    }
    values.update(kw)
    return Sample(t_s=t, **values)  # type: ignore[arg-type]


def test_coasting_100_0_is_not_a_one_legged_rider() -> None:
    """Pedals send 0 % left (all right) while coasting; it must not move balance."""
    samples = [_pedalling(i * 0.25) for i in range(400)]
    # 30 s of coasting with the artefact, then back to riding.
    samples += [
        _pedalling(100 + i * 0.25, left=0.0, power_w=0.0, cadence_rpm=0.0)
        for i in range(120)
    ]
    samples += [_pedalling(130 + i * 0.25) for i in range(400)]
    summary = analyze(samples)
    assert summary.balance_left_pct == pytest.approx(50.0)
    assert summary.dropped.balance_coasting == 120
    assert summary.dropped.te_ps_coasting == 4 * 120
    assert summary.riding_s == pytest.approx(229.75 - 30.0, abs=0.5)


def test_power_under_floor_and_zero_cadence_drop_balance() -> None:
    counts: DropTally = Counter()
    settings = AnalysisSettings(power_floor_w=40.0)
    low = clean_values(_pedalling(0, left=70.0, power_w=25.0), settings, counts)
    stopped = clean_values(_pedalling(1, left=70.0, cadence_rpm=0.0), settings, counts)
    assert math.isnan(low.left_pct)
    assert not low.riding
    assert math.isnan(stopped.left_pct)
    assert not stopped.riding
    assert DropCounts.of(counts).balance_coasting == 2
    # Missing cadence (no sensor) does not stop a sample counting as riding.
    ok = clean_values(_pedalling(2, cadence_rpm=None), settings, counts)
    assert ok.riding
    assert ok.left_pct == 50.0


def test_out_of_range_values_are_counted_by_reason() -> None:
    counts: DropTally = Counter()
    s = AnalysisSettings()
    clean_values(_pedalling(0, left=100.0), s, counts)
    clean_values(_pedalling(1, left=130.0), s, counts)
    clean_values(_pedalling(2, te_left_pct=120.0), s, counts)
    clean_values(_pedalling(3, power_w=-5.0), s, counts)
    clean_values(_pedalling(4, cadence_rpm=255.0), s, counts)
    clean_values(_pedalling(5, heart_rate_bpm=0.0), s, counts)
    dropped = DropCounts.of(counts)
    assert dropped == DropCounts(
        balance_out_of_range=2,
        te_ps_out_of_range=1,
        power_out_of_range=1,
        cadence_out_of_range=1,
        heart_rate_out_of_range=1,
        # power -5 W makes that sample a non-riding one: its balance is refused too
        balance_coasting=1,
        te_ps_coasting=4,
    )
    assert dropped.total() == 11


def test_time_going_backwards_and_gaps_are_counted_the_same_live_and_batch() -> None:
    ride = steady(3, 200.0, seed=3)
    samples = list(ride.samples())
    # A replayed sample, a clock jump back, and a 20 s dropout.
    samples.insert(100, samples[90])
    samples.insert(300, Sample(t_s=1.0, power_w=200.0))
    del samples[400:480]
    live = StreamingAnalyzer()
    for s in samples:
        live.push(s)
    streamed = live.finish()
    batch = analyze(samples)
    assert streamed.dropped == batch.dropped
    assert batch.dropped.out_of_order == 2
    assert batch.dropped.gaps == 1
    assert_same_summary(streamed, batch)


def test_columns_of_unequal_length_are_refused() -> None:
    ride = steady(1, 200.0)

    broken = dataclasses.replace(ride, power_w=ride.power_w[:-1])

    with pytest.raises(ValueError, match="differ in length"):
        analyze(broken)


def test_empty_ride_gives_an_empty_summary() -> None:
    summary = analyze([])
    assert summary.samples == 0
    assert summary.balance_left_pct is None
    assert summary.episodes == []
    assert StreamingAnalyzer().finish().to_dict() == summary.to_dict()


def test_a_clock_jump_is_a_gap_not_months_of_empty_blocks() -> None:
    ride = steady(4, 200.0, seed=5)
    samples = list(ride.samples())
    half = len(samples) // 2
    jumped = samples[:half] + [
        Sample(
            t_s=s.t_s + 3.0e7,
            power_w=s.power_w,
            left_pct=s.left_pct,
            cadence_rpm=s.cadence_rpm,
        )
        for s in samples[half:]
    ]
    live = StreamingAnalyzer()
    for s in jumped:
        live.push(s)
    streamed = live.finish()
    batch = analyze(jumped)
    assert batch.dropped.gaps == 1
    # The jump counts for at most max_gap_s (5 s) of riding.
    assert batch.riding_s == pytest.approx(240 + 5, abs=1)
    assert_same_summary(streamed, batch)

"""Session and band metrics: what a rider compares with their head unit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from custom_components.ridebalance.analysis import (
    AnalysisSettings,
    SessionSummary,
    StreamingAnalyzer,
    analyze,
)
from custom_components.ridebalance.analysis.totals import symmetry_index
from custom_components.ridebalance.model import Sample
from custom_components.ridebalance.sim import Rider, RideScript, Segment, generate

from .conftest import MIN, steady


def test_session_balance_is_power_weighted_like_a_head_unit() -> None:
    # Hard efforts at 52 % left, easy ones at 46 %: equal time, unequal power.
    samples = []
    for i in range(2400):
        hard = (i // 40) % 2 == 0
        samples.append(
            Sample(
                t_s=i * 0.25,
                power_w=300.0 if hard else 100.0,
                left_pct=52.0 if hard else 46.0,
                cadence_rpm=90.0,
            )
        )
    summary = analyze(samples)
    weighted = (300 * 52 + 100 * 46) / 400
    assert summary.balance_left_pct == pytest.approx(weighted)
    assert summary.balance_right_pct == pytest.approx(100 - weighted)
    assert summary.balance_left_pct is not None
    assert summary.balance_left_pct > 50.0  # the unweighted mean would be 49


def test_symmetry_index_formula() -> None:
    assert symmetry_index(52.0) == pytest.approx(8.0)
    assert symmetry_index(50.0) == pytest.approx(0.0)
    assert symmetry_index(45.0) == pytest.approx(-20.0)
    assert symmetry_index(None) is None


def _reference_np(power: np.ndarray) -> float:
    """Textbook NP on a 1 Hz series, written out independently."""
    rolling = [power[i - 30 : i].mean() for i in range(30, len(power) + 1)]
    return float(np.mean(np.array(rolling) ** 4) ** 0.25)


def test_normalized_power_matches_the_textbook_on_intervals() -> None:
    # 30 s on at 350 W, 30 s off at 100 W, 20 minutes, at 1 Hz like a FIT file.
    power = np.array([350.0 if (i // 30) % 2 == 0 else 100.0 for i in range(1200)])
    samples = [
        Sample(t_s=float(i), power_w=float(p), cadence_rpm=90.0, left_pct=50.0)
        for i, p in enumerate(power)
    ]
    summary = analyze(samples)
    assert summary.avg_power_w == pytest.approx(225.0)
    np_w = summary.normalized_power_w
    assert np_w is not None
    assert np_w == pytest.approx(_reference_np(power))
    assert np_w > 240.0  # NP above average on intervals


def test_short_ride_has_no_normalized_power() -> None:
    samples = [Sample(t_s=float(i), power_w=200.0) for i in range(20)]
    assert analyze(samples).normalized_power_w is None


def test_cadence_variability_te_ps_and_time_outside_band() -> None:
    script = RideScript(
        (
            Segment(5 * MIN, 200, 75),
            Segment(10 * MIN, 200, 90),
            Segment(3 * MIN, 200, 105),
        ),
    )
    ride = generate(script, seed=4)
    summary = analyze(ride, AnalysisSettings(cadence_low_rpm=80, cadence_high_rpm=100))
    cad = ride.cadence_rpm[ride.cadence_rpm > 0]
    assert summary.cadence_avg_rpm == pytest.approx(cad.mean())
    assert summary.cadence_sd_rpm == pytest.approx(cad.std(ddof=1))
    assert summary.cadence_cv_pct == pytest.approx(100 * cad.std(ddof=1) / cad.mean())
    assert summary.time_below_cadence_band_s == pytest.approx(300, abs=15)
    assert summary.time_above_cadence_band_s == pytest.approx(180, abs=15)
    assert summary.te_left_pct == pytest.approx(78.0, abs=0.5)
    assert summary.te_right_pct == pytest.approx(77.0, abs=0.5)
    assert summary.ps_left_pct == pytest.approx(23.0, abs=0.5)
    # Noise spills a few samples over band edges; the ridden bands hold the time.
    labels = [b.label for b in summary.cadence_bands if b.riding_s > 30]
    assert labels == ["70-80 rpm", "80-90 rpm", "90-100 rpm", "100+ rpm"]


def test_balance_per_power_band_shows_the_easy_lean() -> None:
    rider = Rider(left_below_pct=53.0, left_above_pct=50.0, split_w=150.0)
    script = RideScript(
        tuple(
            Segment(10 * MIN, 120.0 if i % 2 == 0 else 220.0, 90.0) for i in range(4)
        ),
        rider=rider,
    )
    summary = analyze(generate(script, seed=5))
    bands = {b.label: b for b in summary.power_bands if b.riding_s > 30}
    assert set(bands) == {"100-150 W", "200-250 W"}
    assert bands["100-150 W"].balance_left_pct == pytest.approx(53.0, abs=0.8)
    assert bands["200-250 W"].balance_left_pct == pytest.approx(50.0, abs=0.8)
    assert bands["100-150 W"].riding_s == pytest.approx(1200, abs=30)
    assert bands["100-150 W"].symmetry_index_pct == pytest.approx(12.0, abs=3.5)
    # No history yet: no baseline figure to compare with.
    assert bands["200-250 W"].baseline_left_pct is None


def test_ftp_bands_are_fractions_of_ftp() -> None:
    settings = AnalysisSettings(ftp_w=200.0)
    assert settings.effective_power_edges() == (90.0, 120.0, 150.0, 180.0, 210.0)
    summary = analyze(steady(3, 165.0), settings)
    main = max(summary.power_bands, key=lambda b: b.riding_s)
    assert main.label == "150-180 W"
    assert main.riding_s > 150


def test_summary_round_trips_through_a_dict() -> None:
    ride = generate(
        RideScript((Segment(20 * MIN, 210, 90),), rider=Rider(left_above_pct=54.0)),
        seed=6,
    )
    live = StreamingAnalyzer(context="indoor")
    for s in ride.samples():
        live.push(s)
    summary = live.finish()
    again = SessionSummary.from_dict(summary.to_dict())
    assert again.to_dict() == summary.to_dict()
    assert again.context == "indoor"
    with pytest.raises(ValueError, match="newer"):
        SessionSummary.from_dict({**summary.to_dict(), "version": 99})


def test_settings_round_trip() -> None:
    s = AnalysisSettings(asymmetry_threshold_pts=4.0, ftp_w=250.0)
    assert AnalysisSettings.from_dict({**s.to_dict(), "unknown": 1}) == s


@pytest.mark.parametrize(
    ("name", "tolerance"),
    [("edge810-vector-pedals.fit", 0.1), ("edge530-powertap-p1-pedals.fit", 0.1)],
)
def test_session_balance_matches_the_head_unit(
    shared_fit: Path, name: str, tolerance: float
) -> None:
    from custom_components.ridebalance.rides import read_ride

    ride = read_ride(shared_fit / name)
    oracle = ride.head_unit_summary
    assert oracle is not None
    assert oracle.right_pct is not None
    summary = analyze(ride)
    assert summary.balance_right_pct == pytest.approx(oracle.right_pct, abs=tolerance)
    assert oracle.normalized_power_w is not None
    assert summary.normalized_power_w == pytest.approx(
        oracle.normalized_power_w, rel=0.01
    )
    if oracle.te_left_pct is not None:
        assert summary.te_left_pct == pytest.approx(oracle.te_left_pct, abs=0.5)
        assert summary.ps_left_pct == pytest.approx(oracle.ps_left_pct, abs=0.5)

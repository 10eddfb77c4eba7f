"""The Ride container: column checks, timer selection and samples."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from custom_components.ridebalance.analysis import AnalysisSettings
from custom_components.ridebalance.analysis.cleaning import clean_columns
from custom_components.ridebalance.model import READING_FIELDS
from custom_components.ridebalance.rides import NoBalanceError, Ride, read_ride
from custom_components.ridebalance.rides.fit_writer import encode_fit
from custom_components.ridebalance.rides.ride import HeadUnitSummary


def _paused_ride() -> Ride:
    # 10 s riding, 5 s stopped at a light (records still written), 10 s riding.
    t = np.arange(25, dtype=float)
    running = np.r_[np.ones(10), np.zeros(5), np.ones(10)].astype(bool)
    timer = np.r_[np.arange(10), np.full(5, 9.0), np.arange(10, 20)].astype(float)
    return Ride.from_columns(
        t,
        power_w=np.where(running, 200.0, 0.0),
        left_pct=np.where(running, 51.0, np.nan),
        timer_t_s=timer,
        timer_running=running,
    )


def test_paused_records_are_left_out_of_analyses() -> None:
    ride = _paused_ride()
    running = ride.running()
    assert len(running) == 20
    assert running.t_s[10] == 15.0
    assert ride.running() is not ride
    assert running.running() is running


def test_cleaned_runs_on_the_timer_or_on_the_engines_wall_clock() -> None:
    """The head unit's figures take the timer (the pause left out); the plot
    takes the wall clock the engine analyses the running records on."""
    ride = _paused_ride()
    settings = AnalysisSettings()
    on_timer, kept = ride.cleaned(settings)
    on_wall, kept_wall = ride.cleaned(settings, clock="wall")
    assert on_timer.t_s.tolist() == list(range(20))
    assert on_wall.t_s.tolist() == [*range(10), *range(15, 25)]
    assert len(kept) == len(kept_wall) == 20
    np.testing.assert_array_equal(on_wall.left_pct, on_timer.left_pct)
    # The engine's own columns: the same times as the wall clock's.
    engine = clean_columns(
        ride.running().t_s,
        {name: getattr(ride.running(), name) for name in READING_FIELDS},
        settings,
        Counter(),
    )
    np.testing.assert_array_equal(on_wall.t_s, engine.t_s)


def test_pause_written_as_timer_events_and_read_back() -> None:
    ride = _paused_ride()
    back = read_ride(Path("paused.fit"), data=encode_fit(ride))
    assert back.timer_running.tolist() == ride.timer_running.tolist()
    assert back.timer_t_s[-1] == pytest.approx(19.0, abs=1)


def test_columns_must_match_in_length() -> None:
    with pytest.raises(ValueError, match="power_w has 3 values"):
        Ride.from_columns([0.0, 1.0], power_w=[1.0, 2.0, 3.0])


def test_no_balance_at_all() -> None:
    ride = Ride.from_columns([0.0, 1.0], power_w=[100.0, 120.0])
    with pytest.raises(NoBalanceError, match="no left/right balance"):
        ride.require_balance()


def test_head_unit_left_only_when_side_known() -> None:
    assert HeadUnitSummary(right_pct=48.0, balance_side="right").left_pct == 52.0
    assert HeadUnitSummary(right_pct=48.0, balance_side="unknown").left_pct is None


def test_live_samples_export_to_fit_and_back() -> None:
    from datetime import UTC, datetime

    from custom_components.ridebalance.sim import demo_ride, generate

    arrays = generate(demo_ride(), seed=3, hz=4.0)
    samples = list(arrays.samples())[: 4 * 600]  # the first ten minutes
    start = datetime(2026, 2, 1, 7, 0, tzinfo=UTC)
    ride = Ride.from_samples(samples, indoor=True, start_time=start)
    assert len(ride) == 2400
    back = read_ride(Path("export.fit"), data=encode_fit(ride))
    assert len(back) == 600
    assert back.start_time == start
    assert back.indoor is True
    # One record per second: power averaged over its four readings.
    assert back.power_w[10] == pytest.approx(np.mean(arrays.power_w[40:44]), abs=0.5)

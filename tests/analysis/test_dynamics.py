"""Seated and standing, PCO and power phase: per ride, per band and their drift."""

from __future__ import annotations

from dataclasses import replace
import json

import numpy as np
import pytest

from custom_components.ridebalance.analysis.cleaning import is_riding
from custom_components.ridebalance.analysis.dynamics import (
    DynamicsReport,
    analyze_dynamics,
)
from custom_components.ridebalance.analysis.settings import AnalysisSettings
from custom_components.ridebalance.model import DYNAMICS_FIELDS, RiderPosition
from custom_components.ridebalance.rides import Ride
from custom_components.ridebalance.rides.analyze import (
    analyze_ride,
    analyze_ride_dynamics,
)
from custom_components.ridebalance.rides.dynamics import RideDynamics
from tests.dynamics_rides import dynamics_ride, seated_ride


def _report(ride: Ride, settings: AnalysisSettings | None = None) -> DynamicsReport:
    """The report of the ride's running time, as the CLI and an import make it."""
    report = analyze_ride_dynamics([ride], settings or AnalysisSettings())
    assert report is not None
    return report


def test_time_standing_and_stands_per_hour() -> None:
    ride, truth = dynamics_ride(minutes=60, stands=12)
    figures = _report(ride).ride
    assert figures.stand_count == 12
    assert figures.standing_s == pytest.approx(truth.standing_s, abs=1.0)
    # 59 minutes of running time (a minute paused), every second has a position.
    assert figures.seated_s + figures.standing_s == pytest.approx(3540.0, abs=1.0)
    assert figures.stands_per_hour == pytest.approx(12 / (3540 / 3600), rel=1e-3)
    assert figures.standing_pct == pytest.approx(100 * truth.standing_s / 3540, abs=0.1)


def test_balance_seated_and_standing_apart() -> None:
    ride, _ = dynamics_ride(minutes=60, stands=12)
    figures = _report(ride).ride
    assert figures.balance_seated_left_pct == pytest.approx(50.5, abs=0.2)
    assert figures.balance_standing_left_pct == pytest.approx(48.0, abs=0.4)


def test_pco_and_power_phase_per_side() -> None:
    ride, truth = dynamics_ride(minutes=60, right_pco_mm=3.0)
    figures = _report(ride).ride
    assert figures.pco_left_mm == pytest.approx(truth.pco_left_mm, abs=0.2)
    assert figures.pco_right_mm == pytest.approx(truth.pco_right_mm, abs=0.2)
    left, right = figures.phase_left, figures.phase_right
    assert left is not None
    assert right is not None
    # The left phase starts before top dead centre (352°), the right one after it.
    left_start, left_end = truth.phases_deg["phase_left"]
    right_start, right_end = truth.phases_deg["phase_right"]
    assert left.start_deg == pytest.approx(left_start, abs=0.5)
    assert right.start_deg == pytest.approx(right_start, abs=0.5)
    assert left.arc_deg == pytest.approx(left_end + 360 - left_start, abs=1.0)
    assert right.arc_deg == pytest.approx(right_end - right_start, abs=1.0)
    peak_start, peak_end = truth.phases_deg["peak_left"]
    assert figures.peak_left is not None
    assert figures.peak_left.arc_deg == pytest.approx(peak_end - peak_start, abs=1.0)


def test_a_power_glitch_moves_neither_balance_nor_bands() -> None:
    """One 65,000 W record, 10 % left: the session balance ignores it, so must
    the balance seated, and it is in no power band."""
    power, left = np.full(1200, 200.0), np.full(1200, 50.0)
    power[600], left[600] = 65000.0, 10.0
    ride = seated_ride(power, left, np.full(1200, 90.0))
    settings = AnalysisSettings()
    assert analyze_ride(ride, settings).balance_left_pct == pytest.approx(50.0)
    report = _report(ride, settings)
    assert report.ride.balance_seated_left_pct == pytest.approx(50.0)
    assert list(report.bands) == ["200-250 W"]


def test_coasting_artefacts_under_the_power_floor_count_for_nothing() -> None:
    """Pedals that send 99 % left and a stroke while freewheeling, and soft
    pedalling under the rider's floor: neither is riding, as for the balance."""
    power, left = np.full(1200, 200.0), np.full(1200, 50.0)
    cadence, pco = np.full(1200, 90.0), np.full(1200, -2.0)
    power[::4], cadence[::4], left[::4], pco[::4] = 20.0, 0.0, 99.0, 10.0
    power[2::4], cadence[2::4], left[2::4], pco[2::4] = 60.0, 50.0, 70.0, 10.0
    ride = seated_ride(power, left, cadence, pco_left_mm=pco)
    settings = AnalysisSettings(power_floor_w=80.0)
    assert analyze_ride(ride, settings).balance_left_pct == pytest.approx(50.0)
    figures = _report(ride, settings).ride
    assert figures.balance_seated_left_pct == pytest.approx(50.0)
    assert figures.pco_left_mm == pytest.approx(-2.0)
    # The time is still time seated.
    assert figures.seated_s == pytest.approx(1200.0)


def test_figures_per_power_band() -> None:
    ride, _ = dynamics_ride(minutes=60, stands=12)
    bands = _report(ride).bands
    # Standing efforts are ~330 W, seated riding ~195 W.
    assert bands["300+ W"].standing_s > 0.8 * sum(b.standing_s for b in bands.values())
    assert bands["300+ W"].stand_count >= 9
    assert bands["150-200 W"].standing_s == 0.0
    assert bands["150-200 W"].balance_seated_left_pct == pytest.approx(50.5, abs=0.3)
    assert bands["300+ W"].balance_standing_left_pct == pytest.approx(48.0, abs=0.5)
    # The coast has no power figures, only its time.
    assert bands["<100 W"].pco_left_mm is None
    ftp = _report(ride, AnalysisSettings(ftp_w=250.0)).bands
    assert "263-300 W" not in ftp
    assert any(label.endswith("+ W") for label in ftp)


def test_right_pco_moving_out_after_forty_minutes_is_a_drift() -> None:
    ride, _ = dynamics_ride(minutes=75, right_pco_shift_mm=4.0, shift_after_s=2400)
    drifts = {d.figure: d for d in _report(ride).drifts}
    drift = drifts["pco_right_mm"]
    # Riding time lags wall time by the minute paused at 25 minutes.
    assert drift.onset_s == pytest.approx(2400 - 60, abs=300)
    assert drift.change == pytest.approx(4.0, abs=0.4)
    assert drift.reference == pytest.approx(1.0, abs=0.3)
    assert "pco_left_mm" not in drifts


@pytest.mark.parametrize("seed", range(8))
def test_steady_foot_and_stroke_do_not_drift(seed: int) -> None:
    ride, _ = dynamics_ride(minutes=90, seed=seed)
    figures = {d.figure for d in _report(ride).drifts}
    assert not figures - {"standing_pct"}


def test_standing_more_late_in_the_ride_is_a_drift() -> None:
    ride, _ = dynamics_ride(minutes=60, stands=4, pause_at_s=None)
    assert ride.dynamics is not None
    position = ride.dynamics.columns["rider_position"].copy()
    # From minute 40 the rider climbs out of the saddle a third of the time.
    for start in range(2400, 3540, 90):
        position[start : start + 30] = RiderPosition.STANDING
    columns = {**ride.dynamics.columns, "rider_position": position}
    report = _report(replace(ride, dynamics=RideDynamics(columns)))
    drift = {d.figure: d for d in report.drifts}["standing_pct"]
    assert drift.change > 15.0
    assert drift.onset_s >= 1800


def test_a_silence_counts_for_at_most_the_gap_limit() -> None:
    t = np.array([0.0, 1.0, 2.0, 600.0, 601.0])
    columns = {name: np.full(5, np.nan) for name in DYNAMICS_FIELDS}
    columns["rider_position"] = np.array([0, 1, 1, 1, 0], dtype=float)
    ride = Ride.from_columns(
        t, power_w=np.full(5, 300.0), left_pct=np.full(5, 50.0), cadence_rpm=[90] * 5
    )
    report = _report(replace(ride, dynamics=RideDynamics(columns)))
    assert report.ride.standing_s == 1.0 + 5.0 + 1.0
    assert report.ride.stand_count == 1


def test_no_dynamics_no_report() -> None:
    columns = {name: np.full(3, np.nan) for name in DYNAMICS_FIELDS}
    t = np.arange(3, dtype=np.float64)
    power, cadence = np.full(3, 200.0), np.full(3, 90.0)
    settings = AnalysisSettings()
    riding = is_riding(power, cadence, settings)
    assert riding.all()
    report = analyze_dynamics(
        t, power, np.full(3, 50.0), columns, settings, riding=riding
    )
    assert report is None


def test_report_is_json() -> None:
    ride, _ = dynamics_ride(minutes=30, stands=4)
    view = _report(ride).to_dict()
    assert json.loads(json.dumps(view)) == view
    assert view["ride"]["stand_count"] == 4
    assert view["ride"]["phase_left"]["arc_deg"] > 200

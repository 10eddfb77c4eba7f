"""Cycling dynamics through FIT: written by our writer, read by our reader and by
fitdecode's own profile; the session figures written and the analysis, each
against how the ride was built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fitdecode
import numpy as np
import pytest

from custom_components.ridebalance.analysis.settings import AnalysisSettings
from custom_components.ridebalance.angles import angle_change_deg
from custom_components.ridebalance.rides import Ride, read_ride
from custom_components.ridebalance.rides.analyze import analyze_ride_dynamics
from custom_components.ridebalance.rides.dynamics import DynamicsSummary
from custom_components.ridebalance.rides.fit_writer import encode_fit
from tests.dynamics_rides import dynamics_ride, live_samples, seated_ride

START = datetime(2026, 3, 14, 7, 30, tzinfo=UTC)
SHARED = Path(__file__).parents[2] / ".." / "shared" / "fit"


def _messages(data: bytes, name: str) -> list[dict[str, Any]]:
    """Messages as fitdecode's profile names and scales them (not our reader)."""
    found = []
    with fitdecode.FitReader(data) as reader:
        for frame in reader:
            if frame.frame_type == fitdecode.FIT_FRAME_DATA and frame.name == name:
                found.append({f.name: f.value for f in frame.fields})
    return found


def _read(data: bytes) -> Ride:
    return read_ride(Path("ride.fit"), data=data)


def _assert_phases(
    built: Mapping[str, tuple[float, float]],
    found: Mapping[str, tuple[float, float] | None],
) -> None:
    """Each phase found starts and ends within a degree of how it was built."""
    for name, (start, end) in built.items():
        phase = found[name]
        assert phase is not None, name
        assert angle_change_deg(start, phase[0]) == pytest.approx(0, abs=1.0), name
        assert angle_change_deg(end, phase[1]) == pytest.approx(0, abs=1.0), name


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_session_figures_written_are_how_the_ride_was_built(seed: int) -> None:
    ride, truth = dynamics_ride(seed=seed, right_pco_mm=3.0)
    back = _read(encode_fit(ride, start_time=START))
    assert back.dynamics is not None
    session = back.dynamics.session
    assert session is not None
    assert session.stand_count == truth.stand_count
    assert session.time_standing_s == pytest.approx(truth.standing_s, abs=1.0)
    # FIT holds PCO in whole mm and angles in 1.4° steps.
    assert session.pco_left_mm == pytest.approx(truth.pco_left_mm, abs=0.5)
    assert session.pco_right_mm == pytest.approx(truth.pco_right_mm, abs=0.5)
    _assert_phases(
        truth.phases_deg,
        {
            "phase_left": session.phase_left,
            "phase_right": session.phase_right,
            "peak_left": session.peak_left,
            "peak_right": session.peak_right,
        },
    )


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_analysis_of_the_file_is_how_the_ride_was_built(seed: int) -> None:
    ride, truth = dynamics_ride(seed=seed, right_pco_mm=3.0)
    report = analyze_ride_dynamics(
        [_read(encode_fit(ride, start_time=START))], AnalysisSettings()
    )
    assert report is not None
    figures = report.ride
    assert figures.stand_count == truth.stand_count
    assert figures.standing_s == pytest.approx(truth.standing_s, abs=1.0)
    assert figures.pco_left_mm == pytest.approx(truth.pco_left_mm, abs=0.1)
    assert figures.pco_right_mm == pytest.approx(truth.pco_right_mm, abs=0.1)
    found = {
        "phase_left": figures.phase_left,
        "phase_right": figures.phase_right,
        "peak_left": figures.peak_left,
        "peak_right": figures.peak_right,
    }
    _assert_phases(
        truth.phases_deg,
        {
            name: None if phase is None else (phase.start_deg, phase.end_deg)
            for name, phase in found.items()
        },
    )


@pytest.mark.parametrize("glitch_w", [65000.0, 1e12])
def test_a_power_glitch_is_not_the_riders_power_seated(glitch_w: float) -> None:
    """A meter's impossible reading is not measured, in an export as anywhere."""
    power = np.full(1200, 200.0)
    power[600] = glitch_w
    ride = seated_ride(power, np.full(1200, 50.0), np.full(1200, 90.0))
    back = _read(encode_fit(ride, start_time=START))
    assert back.dynamics is not None
    session = back.dynamics.session
    assert session is not None
    assert session.avg_power_position_w == (200.0, None)
    assert session.max_power_position_w == (200.0, None)


def test_session_and_lap_fields_read_by_the_fit_profile() -> None:
    ride, _ = dynamics_ride(minutes=20, stands=3)
    chosen = DynamicsSummary(
        time_standing_s=125.5,
        stand_count=7,
        pco_left_mm=-3.0,
        pco_right_mm=4.0,
        phase_left=(350.0, 225.0),
        phase_right=(5.0, 230.0),
        peak_left=(70.0, 150.0),
        peak_right=(75.0, 155.0),
        avg_power_position_w=(190.0, 335.0),
        max_power_position_w=(260.0, 410.0),
        avg_cadence_position_rpm=(88.0, 71.0),
        max_cadence_position_rpm=(104.0, 83.0),
    )
    data = encode_fit(ride, start_time=START, dynamics=chosen)
    for kind in ("session", "lap"):
        (message,) = _messages(data, kind)
        assert message["time_standing"] == 125.5
        assert message["stand_count"] == 7
        assert (message["avg_left_pco"], message["avg_right_pco"]) == (-3, 4)
        phase = message["avg_left_power_phase"]
        assert phase[0] == pytest.approx(350.0, abs=0.71)
        assert phase[1] == pytest.approx(225.0, abs=0.71)
        assert message["avg_right_power_phase_peak"][1] == pytest.approx(155, abs=0.71)
        assert tuple(message["avg_power_position"]) == (190, 335)
        assert tuple(message["max_cadence_position"]) == (104, 83)
    back = _read(data)
    assert back.dynamics is not None
    assert back.dynamics.session is not None
    assert back.dynamics.session.stand_count == 7
    assert back.dynamics.session.time_standing_s == 125.5
    assert len(back.dynamics.laps) == 1
    assert back.dynamics.laps[0] == back.dynamics.session


def test_position_changes_are_events_in_fit_order() -> None:
    ride, truth = dynamics_ride(minutes=20, stands=3, pause_at_s=None)
    data = encode_fit(ride, start_time=START)
    changes = [
        event["rider_position"]
        for event in _messages(data, "event")
        if event["event"] == "rider_position_change"
    ]
    assert changes[0] == "seated"
    one_stand = [
        "transition_to_standing",
        "standing",
        "transition_to_seated",
        "seated",
    ]
    assert changes[1:] == one_stand * truth.stand_count
    # A standing record reads back as FIT's 1, rising as 3.
    back = _read(data)
    assert back.dynamics is not None
    written = ride.dynamics
    assert written is not None
    np.testing.assert_array_equal(
        back.dynamics.columns["rider_position"], written.columns["rider_position"]
    )


def test_record_fields_survive_within_their_resolution() -> None:
    ride, _ = dynamics_ride(minutes=10, stands=2, pause_at_s=None)
    back = _read(encode_fit(ride, start_time=START))
    assert back.dynamics is not None
    assert ride.dynamics is not None
    for name, values in ride.dynamics.columns.items():
        read = back.dynamics.columns[name]
        np.testing.assert_array_equal(np.isnan(read), np.isnan(values), err_msg=name)
        have = np.isfinite(values)
        if not have.any():
            continue  # the torque barycentre: FIT has no field for it
        turn = np.abs((read[have] - values[have] + 180) % 360 - 180)
        if name.endswith("_deg"):
            # Binary degrees; 358.6° is FIT's invalid byte, written one step off.
            assert turn.max() <= 1.41, name
            on_marker = np.abs(values[have] - 358.59375) < 0.71
            assert turn[~on_marker].max() <= 0.71, name
        else:
            assert turn.max() == 0.0, name  # whole mm and position codes


def test_a_ride_without_dynamics_writes_none() -> None:
    ride, _ = dynamics_ride(minutes=10, stands=2)
    plain = replace(ride, dynamics=None)
    data = encode_fit(plain, start_time=START)
    (session,) = _messages(data, "session")
    assert "time_standing" not in session
    assert all("left_pco" not in r for r in _messages(data, "record"))
    assert _read(data).dynamics is None


def test_pco_only_meter_writes_no_position_or_phase() -> None:
    ride, _ = dynamics_ride(minutes=10, stands=2, pause_at_s=None)
    assert ride.dynamics is not None
    columns = {
        name: values if name.startswith("pco_") else np.full(len(ride), np.nan)
        for name, values in ride.dynamics.columns.items()
    }
    pco_only = replace(ride, dynamics=replace(ride.dynamics, columns=columns))
    data = encode_fit(pco_only, start_time=START)
    (session,) = _messages(data, "session")
    assert session["avg_left_pco"] == pytest.approx(-2, abs=1)
    assert session["time_standing"] is None
    assert session["stand_count"] is None
    assert session["avg_left_power_phase"] in (None, (None, None))
    assert not any(
        e["event"] == "rider_position_change" for e in _messages(data, "event")
    )
    back = _read(data)
    assert back.dynamics is not None
    assert np.isnan(back.dynamics.columns["rider_position"]).all()


def test_shared_head_unit_files_carry_no_dynamics() -> None:
    path = SHARED / "edge810-vector-pedals.fit"
    if not path.exists():
        pytest.skip("../shared/fit is not present")
    assert read_ride(path).dynamics is None


def test_running_keeps_dynamics_aligned() -> None:
    ride, _ = dynamics_ride(minutes=30)
    running = ride.running()
    assert running.dynamics is not None
    assert len(running.dynamics) == len(running) == len(ride) - 60
    with pytest.raises(ValueError, match="dynamics has"):
        replace(ride, dynamics=running.dynamics)


def test_a_live_session_exports_its_dynamics() -> None:
    """Samples from the pedals (4 Hz) become a FIT session with the dynamics."""
    ride, truth = dynamics_ride(minutes=15, stands=3, pause_at_s=None)
    samples = live_samples(ride, per_second=4)
    assert samples[0].rider_position is not None
    live = Ride.from_samples(samples)
    assert live.dynamics is not None
    back = _read(encode_fit(live, start_time=START))
    assert back.dynamics is not None
    session = back.dynamics.session
    assert session is not None
    assert session.stand_count == truth.stand_count
    assert session.time_standing_s == pytest.approx(truth.standing_s, abs=1.0)
    assert session.pco_left_mm == pytest.approx(-2.0, abs=1.0)

"""Cycling dynamics live: present only while the pedals send them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from custom_components.ridebalance.analysis import Baselines
from custom_components.ridebalance.analysis.live_dynamics import (
    ABSENT_AFTER_S,
    NO_SENSOR,
    NOT_BROADCAST,
    REAL_CHANGE_S,
    DynamicsTracker,
)
from custom_components.ridebalance.analysis.session import (
    RiderSettings,
    SessionTracker,
)
from custom_components.ridebalance.angles import angle_change_deg
from custom_components.ridebalance.model import DYNAMICS_FIELDS, RiderPosition, Sample
from custom_components.ridebalance.rides import Ride
from custom_components.ridebalance.rides.analyze import analyze_ride_dynamics
from custom_components.ridebalance.rides.dynamics import RideDynamics
from tests.dynamics_rides import live_samples


def _sample(t: float, position: RiderPosition | None = None, **values: Any) -> Sample:
    return replace(Sample(t_s=t, power_w=220.0, rider_position=position), **values)


def test_absent_until_the_pedals_send_them() -> None:
    tracker = DynamicsTracker()
    assert tracker.now(None).absent_reason == NO_SENSOR
    tracker.push(_sample(0.0), True)
    now = tracker.now(0.0)
    assert now.absent_reason == NOT_BROADCAST
    assert now.standing is None
    assert now.pco_left_mm is None


def test_figures_over_the_last_minute_then_absent_when_they_stop() -> None:
    tracker = DynamicsTracker()
    for i in range(4 * 90):
        t = i / 4
        tracker.push(
            _sample(
                t,
                RiderPosition.SEATED,
                pco_left_mm=-6.0 if t < 29 else -2.0,
                pco_right_mm=3.0,
                phase_left_start_deg=355.0 if i % 2 else 5.0,
                phase_left_end_deg=230.0,
            ),
            True,
        )
    now = tracker.now(89.75)
    assert now.absent_reason is None
    assert now.standing is False
    assert now.pco_left_mm == pytest.approx(-2.0)  # the first 30 s are older
    assert now.pco_right_mm == 3.0
    assert now.phase_left is not None
    # 355° and 5° alternate: the phase starts at top dead centre, not at 180°.
    assert abs(angle_change_deg(0.0, now.phase_left[0])) < 0.1
    assert now.phase_right is None
    # The head unit switched them off: power goes on, dynamics do not.
    for i in range(4 * 20):
        tracker.push(_sample(90 + i / 4), True)
    assert tracker.now(109.75).absent_reason == NOT_BROADCAST
    assert tracker.now(90 + ABSENT_AFTER_S - 1).absent_reason is None


def test_real_change_needs_to_be_held() -> None:
    tracker = DynamicsTracker()
    changes = []
    seconds = [(0, RiderPosition.SEATED), (30, RiderPosition.TRANSITION_TO_STANDING)]
    seconds += [(31, RiderPosition.STANDING), (33, RiderPosition.SEATED)]
    seconds += [(60, RiderPosition.STANDING), (100, RiderPosition.SEATED)]
    plan = dict(seconds)
    position = RiderPosition.SEATED
    for t in range(130):
        position = plan.get(t, position)
        if (at := tracker.push(_sample(float(t), position), True)) is not None:
            changes.append(at)
    # The 3-second stand at 30 s was no real change; 60 s and 100 s were.
    assert changes == [60.0, 100.0]
    assert all(c + REAL_CHANGE_S <= 130 for c in changes)
    now = tracker.now(129.0)
    assert now.stand_count == 2
    assert now.standing_s == pytest.approx(3 + 40)
    tracker.reset_session()
    assert tracker.now(129.0).stand_count == 0


def _coasting_and_soft_pedalling_ride() -> Ride:
    """A minute at 1 Hz, every fourth record freewheeling (20 W, cadence 0) and
    every other odd one soft pedalling under an 80 W floor (60 W, 50 rpm): the
    pedals send a stroke for both (PCO 10 mm, a phase at 90-180°) and for the
    riding records PCO -2 mm and a phase from 352° to 228°. The rider stands for
    20 s (coasting and soft records included) and sits down before the end."""
    n = 60
    power, cadence = np.full(n, 200.0), np.full(n, 90.0)
    left = np.full(n, 50.0)
    pco = np.full(n, -2.0)
    start, end = np.full(n, 352.0), np.full(n, 228.0)
    power[::4], cadence[::4], left[::4] = 20.0, 0.0, 99.0
    power[2::4], cadence[2::4], left[2::4] = 60.0, 50.0, 70.0
    for idle in (slice(0, None, 4), slice(2, None, 4)):
        pco[idle], start[idle], end[idle] = 10.0, 90.0, 180.0
    position = np.full(n, float(RiderPosition.SEATED))
    position[20:40] = RiderPosition.STANDING
    columns = {name: np.full(n, np.nan) for name in DYNAMICS_FIELDS}
    columns |= {
        "rider_position": position,
        "pco_left_mm": pco,
        "phase_left_start_deg": start,
        "phase_left_end_deg": end,
    }
    ride = Ride.from_columns(
        np.arange(n, dtype=float), power_w=power, left_pct=left, cadence_rpm=cadence
    )
    return replace(ride, dynamics=RideDynamics(columns))


def test_live_stroke_counts_riding_as_the_file_analysis_does() -> None:
    """Coasting and pedalling under the power floor are not riding, live or from a
    file: the same readings give the same PCO, power phase and time standing."""
    ride = _coasting_and_soft_pedalling_ride()
    settings = RiderSettings().with_analysis(power_floor_w=80.0)
    report = analyze_ride_dynamics([ride], settings.analysis)
    assert report is not None
    from_file = report.ride
    session = SessionTracker(settings, Baselines())
    session.push(live_samples(ride, per_second=1))
    live = session.dynamics_now()
    assert live.absent_reason is None
    assert from_file.pco_left_mm == pytest.approx(-2.0)
    assert live.pco_left_mm == pytest.approx(-2.0)
    assert from_file.phase_left is not None
    assert live.phase_left is not None
    for got in (
        (from_file.phase_left.start_deg, from_file.phase_left.end_deg),
        live.phase_left,
    ):
        assert abs(angle_change_deg(352.0, got[0])) < 0.1
        assert abs(angle_change_deg(228.0, got[1])) < 0.1
    # Time standing counts every reading, riding or not.
    assert from_file.standing_s == pytest.approx(20.0)
    assert live.standing_s == pytest.approx(20.0)
    assert live.stand_count == from_file.stand_count == 1


def test_readings_while_not_riding_say_the_pedals_broadcast_but_add_no_stroke() -> None:
    tracker = DynamicsTracker()
    for i in range(40):
        tracker.push(_sample(i / 4, RiderPosition.SEATED, pco_left_mm=10.0), False)
    now = tracker.now(9.75)
    assert now.absent_reason is None
    assert now.standing is False
    assert now.pco_left_mm is None
    tracker.push(_sample(10.0, RiderPosition.SEATED, pco_left_mm=-2.0), True)
    assert tracker.now(10.0).pco_left_mm == -2.0

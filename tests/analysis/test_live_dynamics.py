"""Cycling dynamics live: present only while the pedals send them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from custom_components.ridebalance.analysis.live_dynamics import (
    ABSENT_AFTER_S,
    NO_SENSOR,
    NOT_BROADCAST,
    REAL_CHANGE_S,
    DynamicsTracker,
)
from custom_components.ridebalance.angles import angle_change_deg
from custom_components.ridebalance.model import RiderPosition, Sample


def _sample(t: float, position: RiderPosition | None = None, **values: Any) -> Sample:
    return replace(Sample(t_s=t, power_w=220.0, rider_position=position), **values)


def test_absent_until_the_pedals_send_them() -> None:
    tracker = DynamicsTracker()
    assert tracker.now(None).absent_reason == NO_SENSOR
    tracker.push(_sample(0.0))
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
            )
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
        tracker.push(_sample(90 + i / 4))
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
        if (at := tracker.push(_sample(float(t), position))) is not None:
            changes.append(at)
    # The 3-second stand at 30 s was no real change; 60 s and 100 s were.
    assert changes == [60.0, 100.0]
    assert all(c + REAL_CHANGE_S <= 130 for c in changes)
    now = tracker.now(129.0)
    assert now.stand_count == 2
    assert now.standing_s == pytest.approx(3 + 40)
    tracker.reset_session()
    assert tracker.now(129.0).stand_count == 0

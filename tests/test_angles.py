"""Angles on the pedal stroke average across top dead centre."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.ridebalance.angles import (
    angle_change_deg,
    arc_deg,
    circular_mean_deg,
)


def test_mean_across_top_dead_centre() -> None:
    mean = circular_mean_deg(np.array([350.0, 5.0, np.nan]))
    assert mean == pytest.approx(357.5)


def test_no_mean_without_readings_or_direction() -> None:
    assert circular_mean_deg(np.array([np.nan])) is None
    assert circular_mean_deg(np.array([0.0, 180.0])) is None


def test_arc_and_change_go_round_the_turn() -> None:
    assert arc_deg(350.0, 230.0) == 240.0
    assert angle_change_deg(355.0, 3.0) == 8.0
    assert angle_change_deg(3.0, 355.0) == -8.0

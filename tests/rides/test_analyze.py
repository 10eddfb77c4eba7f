"""Analysing a ride file: running time only, and a clear refusal without power."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.ridebalance.analysis import AnalysisSettings
from custom_components.ridebalance.rides import NoPowerError, Ride
from custom_components.ridebalance.rides.analyze import analyze_ride


def test_timer_pauses_are_not_analysed() -> None:
    """Soft-pedalling while the timer stands still adds neither time nor lean."""
    t = np.arange(1800.0)
    paused = (t >= 600) & (t < 900)
    ride = Ride.from_columns(
        t,
        power_w=np.full(t.size, 200.0),
        left_pct=np.where(paused, 65.0, 50.0),
        cadence_rpm=np.full(t.size, 90.0),
        timer_running=~paused,
    )
    summary = analyze_ride(ride, AnalysisSettings())
    assert summary.riding_s == pytest.approx(1500.0, abs=6.0)
    assert summary.balance_left_pct == pytest.approx(50.0)


def test_a_ride_without_power_is_refused() -> None:
    t = np.arange(60.0)
    ride = Ride.from_columns(t, cadence_rpm=np.full(t.size, 90.0))
    with pytest.raises(NoPowerError, match="no power"):
        analyze_ride(ride, AnalysisSettings())

"""Head-unit style figures come from cleaned data, on a clock without gaps."""

from __future__ import annotations

from pathlib import Path
import tracemalloc

import numpy as np
import pytest

from custom_components.ridebalance.rides import Ride, read_csv_text, read_ride
from custom_components.ridebalance.rides.summary import session_figures


def _steady(n: int = 1200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    t = np.arange(n, dtype=float)
    return t, np.round(220 + 40 * np.sin(t / 90) + rng.normal(0, 10, n))


def test_an_impossible_power_row_moves_no_figure() -> None:
    t, power = _steady()
    clean = session_figures(
        Ride.from_columns(t, power_w=power, left_pct=np.full(t.size, 48.0))
    )
    spiked = power.copy()
    spiked[600] = 1e12
    figures = session_figures(
        Ride.from_columns(t, power_w=spiked, left_pct=np.full(t.size, 48.0))
    )
    assert figures.avg_power_w == pytest.approx(clean.avg_power_w, abs=0.2)
    assert figures.normalized_power_w == pytest.approx(
        clean.normalized_power_w, abs=0.2
    )
    assert figures.right_pct == pytest.approx(52.0)


def test_a_65000_watt_record_leaves_the_head_units_np(
    shared_fit: Path, tmp_path: Path
) -> None:
    ride = read_ride(shared_fit / "edge810-vector-pedals.fit")
    power = ride.power_w.copy()
    power[2000] = 65000.0
    spiked = Ride.from_columns(
        ride.t_s,
        power_w=power,
        timer_t_s=ride.timer_t_s,
        timer_running=ride.timer_running,
    )
    figures = session_figures(spiked)
    # The Edge 810 wrote NP 301 W and 276 W average for this ride.
    assert figures.normalized_power_w == pytest.approx(301, rel=0.02)
    assert figures.avg_power_w == pytest.approx(276, rel=0.02)


def test_timer_time_leaves_out_a_gap() -> None:
    ride = read_csv_text("time_s,power_w\n0,200\n1,210\n3600,220\n")
    figures = session_figures(ride)
    assert figures.timer_s == pytest.approx(3.0)
    assert figures.elapsed_s == pytest.approx(3601.0)  # the wall clock keeps it


def test_a_huge_time_gap_costs_memory_by_samples_not_by_span() -> None:
    ride = read_csv_text("time_s,power_w,left_pct\n0,200,49\n1,210,50\n1e13,220,51\n")
    tracemalloc.start()
    try:
        figures = session_figures(ride)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000
    assert figures.avg_power_w == pytest.approx(210.0)
    assert figures.timer_s == pytest.approx(3.0)


def test_records_back_in_time_are_dropped_not_a_crash() -> None:
    t, power = _steady(600)
    t[300:] -= 30  # the clock steps back 30 s mid-ride
    figures = session_figures(Ride.from_columns(t, power_w=power))
    assert figures.avg_power_w == pytest.approx(
        float(np.mean(power[np.r_[0:300, 330:600]])), abs=0.5
    )
    assert figures.timer_s == pytest.approx(570, abs=2)

"""Our session figures against what the head units wrote for the same rides.

The head unit's own session message is the oracle: power-weighted right share
within 0.3 points, average and normalized power within 2 %.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from custom_components.ridebalance.rides import read_ride
from custom_components.ridebalance.rides.summary import (
    normalized_power,
    power_grid,
    session_figures,
)


@pytest.mark.parametrize(
    ("name", "right_pct", "avg_w", "np_w"),
    [
        ("edge810-vector-pedals.fit", 49.84, 276, 301),
        ("edge530-powertap-p1-pedals.fit", 49.08, 196, 264),
    ],
)
def test_figures_match_head_unit(
    shared_fit: Path, name: str, right_pct: float, avg_w: float, np_w: float
) -> None:
    ride = read_ride(shared_fit / name)
    summary = ride.head_unit_summary
    assert summary is not None
    # The README's figures are the ones in the file.
    assert summary.right_pct == pytest.approx(right_pct)
    assert (summary.avg_power_w, summary.normalized_power_w) == (avg_w, np_w)
    figures = session_figures(ride)
    assert figures.right_pct is not None
    assert abs(figures.right_pct - right_pct) < 0.3
    assert figures.avg_power_w == pytest.approx(avg_w, rel=0.02)
    assert figures.normalized_power_w == pytest.approx(np_w, rel=0.02)


def test_pauses_do_not_dilute_normalized_power(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit")
    # On the wall clock the cafe stops would count as zeros and pull NP down 4 %.
    wall = normalized_power(power_grid(ride.t_s, ride.power_w))
    timer = session_figures(ride).normalized_power_w
    assert wall is not None
    assert timer is not None
    assert wall < 0.97 * 264 < timer


def test_te_ps_and_cadence_match_head_unit(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit")
    figures = session_figures(ride)
    summary = ride.head_unit_summary
    assert summary is not None
    # The session stores TE/PS at 0.5 % resolution, cadence in whole rpm.
    assert figures.te_left_pct == pytest.approx(summary.te_left_pct, abs=0.5)
    assert figures.te_right_pct == pytest.approx(summary.te_right_pct, abs=0.5)
    assert figures.ps_left_pct == pytest.approx(summary.ps_left_pct, abs=0.5)
    assert figures.ps_right_pct == pytest.approx(summary.ps_right_pct, abs=0.5)
    assert figures.avg_cadence_rpm == pytest.approx(summary.avg_cadence_rpm, abs=1)
    assert figures.timer_s == pytest.approx(summary.total_timer_s, abs=3)


def test_normalized_power_of_steady_and_short_efforts() -> None:
    steady = np.full(600, 200.0)
    assert normalized_power(steady) == pytest.approx(200.0)
    # Alternating 30 s at 300 W and 100 W: NP is above the 200 W average.
    blocks = np.tile(np.r_[np.full(30, 300.0), np.full(30, 100.0)], 20)
    value = normalized_power(blocks)
    assert value is not None
    assert value > 215
    assert normalized_power(np.full(29, 200.0)) is None


def test_grid_holds_short_gaps_and_zeroes_long_ones() -> None:
    t = np.array([0.0, 1.0, 4.0, 20.0])
    p = np.array([100.0, 200.0, 300.0, 400.0])
    grid = power_grid(t, p)
    assert grid.tolist()[:5] == [100.0, 200.0, 200.0, 200.0, 300.0]
    # Held for 5 s after the last reading, then zero until the next one.
    assert grid[9] == 300.0
    assert grid[10] == 0.0
    assert grid[19] == 0.0
    assert grid[20] == 400.0

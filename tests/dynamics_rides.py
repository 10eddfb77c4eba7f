"""Rides with cycling dynamics, as dual-sided pedals and a head unit record them.

No shared FIT file carries dynamics, so tests build them: 1 Hz records, seated
riding with standing spells (a one-second transition each way, as the pedals
report), PCO in whole millimetres, power phase angles that wrap through top dead
centre, coasting without dynamics, and a timer pause.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from custom_components.ridebalance.model import DYNAMICS_FIELDS, RiderPosition
from custom_components.ridebalance.rides import Ride
from custom_components.ridebalance.rides.dynamics import RideDynamics


@dataclass(frozen=True)
class Truth:
    """What the ride was built with."""

    standing_s: float
    stand_count: int


def dynamics_ride(
    *,
    minutes: int = 60,
    stands: int = 10,
    seed: int = 3,
    indoor: bool = True,
    right_pco_mm: float = 1.0,
    right_pco_shift_mm: float = 0.0,
    shift_after_s: float = 2400.0,
    pause_at_s: int | None = 1500,
) -> tuple[Ride, Truth]:
    """A ride and the truth it was built from (spells never cross the pause)."""
    rng = np.random.default_rng(seed)
    n = minutes * 60
    t = np.arange(n, dtype=float)
    position = np.full(n, float(RiderPosition.SEATED))
    standing_s = 0.0
    free = [
        slot
        for slot in range(2, n // 120 - 1)
        if pause_at_s is None or not pause_at_s - 121 < slot * 120 < pause_at_s + 62
    ]
    slots = np.sort(rng.choice(free, size=stands, replace=False))
    for slot in slots:
        start = int(slot * 120 + rng.integers(0, 40))
        length = int(rng.integers(12, 50))
        position[start] = RiderPosition.TRANSITION_TO_STANDING
        position[start + 1 : start + length] = RiderPosition.STANDING
        position[start + length] = RiderPosition.TRANSITION_TO_SEATED
        standing_s += length
    up = np.isin(
        position, (RiderPosition.STANDING, RiderPosition.TRANSITION_TO_STANDING)
    )
    power = np.where(up, 330.0, 195.0) + rng.normal(0, 15, n)
    cadence = np.where(up, 72.0, 89.0) + rng.normal(0, 3, n)
    left = np.where(up, 48.0, 50.5) + rng.normal(0, 1.5, n)
    pco_right = right_pco_mm + np.where(t >= shift_after_s, right_pco_shift_mm, 0.0)
    columns = {
        "rider_position": position,
        "pco_left_mm": np.round(-2.0 + rng.normal(0, 1.2, n)),
        "pco_right_mm": np.round(pco_right + rng.normal(0, 1.2, n)),
        "phase_left_start_deg": (352.0 + rng.normal(0, 6, n)) % 360,
        "phase_left_end_deg": 228.0 + rng.normal(0, 6, n),
        "phase_right_start_deg": (6.0 + rng.normal(0, 6, n)) % 360,
        "phase_right_end_deg": 233.0 + rng.normal(0, 6, n),
        "peak_left_start_deg": 68.0 + rng.normal(0, 5, n),
        "peak_left_end_deg": 148.0 + rng.normal(0, 5, n),
        "peak_right_start_deg": 74.0 + rng.normal(0, 5, n),
        "peak_right_end_deg": 153.0 + rng.normal(0, 5, n),
        "torque_barycentre_deg": np.full(n, np.nan),  # no FIT field carries it
    }
    assert set(columns) == set(DYNAMICS_FIELDS)
    # A coast: no power, no stroke to measure (the position is still known).
    coast = slice(200, 220)
    power[coast] = 0.0
    cadence[coast] = 0.0
    left[coast] = np.nan
    for name in DYNAMICS_FIELDS[1:]:
        columns[name][coast] = np.nan
    running = np.ones(n, dtype=bool)
    timer = t.copy()
    if pause_at_s is not None:
        # The timer stands still for a minute (a stop at a light).
        assert not up[pause_at_s - 1 : pause_at_s + 61].any()
        running[pause_at_s : pause_at_s + 60] = False
        timer[pause_at_s:] -= np.minimum(t[pause_at_s:] - pause_at_s + 1, 60)
    ride = Ride.from_columns(
        t,
        power_w=power,
        left_pct=left,
        cadence_rpm=cadence,
        timer_t_s=timer,
        timer_running=running,
        sub_sport="indoor_cycling" if indoor else "road",
        indoor=indoor,
    )
    return replace(ride, dynamics=RideDynamics(columns)), Truth(standing_s, len(slots))

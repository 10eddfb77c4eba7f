"""Rides with cycling dynamics, as dual-sided pedals and a head unit record them.

No shared FIT file carries dynamics, so tests build them: 1 Hz records, seated
riding with standing spells (a one-second transition each way, as the pedals
report), PCO in whole millimetres, power phase angles that wrap through top dead
centre, coasting without dynamics, and a timer pause.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import math
from typing import Any

import numpy as np
import numpy.typing as npt

from custom_components.ridebalance.model import DYNAMICS_FIELDS, RiderPosition, Sample
from custom_components.ridebalance.rides import Ride
from custom_components.ridebalance.rides.dynamics import RideDynamics

type FloatArray = npt.NDArray[np.float64]

LEFT_PCO_MM = -2.0
# Mean start and end of each power phase and peak; the left phase starts before
# top dead centre, the right one after it.
PHASES_DEG: dict[str, tuple[float, float]] = {
    "phase_left": (352.0, 228.0),
    "phase_right": (6.0, 233.0),
    "peak_left": (68.0, 148.0),
    "peak_right": (74.0, 153.0),
}


@dataclass(frozen=True)
class Truth:
    """What the ride was built with."""

    standing_s: float
    stand_count: int
    pco_left_mm: float
    pco_right_mm: float
    """Before any shift."""
    phases_deg: dict[str, tuple[float, float]]


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
        "pco_left_mm": np.round(LEFT_PCO_MM + rng.normal(0, 1.2, n)),
        "pco_right_mm": np.round(pco_right + rng.normal(0, 1.2, n)),
        "torque_barycentre_deg": np.full(n, np.nan),  # no FIT field carries it
    }
    for name, (start_deg, end_deg) in PHASES_DEG.items():
        noise = 6 if name.startswith("phase") else 5
        columns[f"{name}_start_deg"] = (start_deg + rng.normal(0, noise, n)) % 360
        columns[f"{name}_end_deg"] = (end_deg + rng.normal(0, noise, n)) % 360
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
    truth = Truth(standing_s, len(slots), LEFT_PCO_MM, right_pco_mm, dict(PHASES_DEG))
    return replace(ride, dynamics=RideDynamics(columns)), truth


def seated_ride(
    power_w: FloatArray,
    left_pct: FloatArray,
    cadence_rpm: FloatArray,
    pco_left_mm: FloatArray | None = None,
) -> Ride:
    """A 1 Hz ride spent seated with these readings (PCO -2 mm unless given)."""
    n = power_w.size
    columns = {name: np.full(n, np.nan) for name in DYNAMICS_FIELDS}
    columns["rider_position"] = np.full(n, float(RiderPosition.SEATED))
    columns["pco_left_mm"] = (
        np.full(n, LEFT_PCO_MM) if pco_left_mm is None else pco_left_mm
    )
    ride = Ride.from_columns(
        np.arange(n, dtype=float),
        power_w=power_w,
        left_pct=left_pct,
        cadence_rpm=cadence_rpm,
    )
    return replace(ride, dynamics=RideDynamics(columns))


def live_samples(ride: Ride, per_second: int = 4) -> list[Sample]:
    """The ride replayed as live readings: each record ``per_second`` times."""

    def value(column: FloatArray, i: int) -> float | None:
        v = float(column[i])
        return None if math.isnan(v) else v

    assert ride.dynamics is not None
    dynamics = ride.dynamics.columns
    samples: list[Sample] = []
    for i in range(len(ride)):
        position = value(dynamics["rider_position"], i)
        stroke: dict[str, Any] = {
            name: value(dynamics[name], i) for name in DYNAMICS_FIELDS[1:]
        }
        sample = Sample(
            t_s=float(ride.t_s[i]),
            power_w=value(ride.power_w, i),
            left_pct=value(ride.left_pct, i),
            cadence_rpm=value(ride.cadence_rpm, i),
            rider_position=None if position is None else RiderPosition(int(position)),
            **stroke,
        )
        samples += [
            replace(sample, t_s=sample.t_s + k / per_second) for k in range(per_second)
        ]
    return samples

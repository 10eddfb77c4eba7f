"""The simulated rider's cycling dynamics, through the pedals' pages and trackers."""

from __future__ import annotations

import numpy as np

from custom_components.ridebalance.analysis.settings import AnalysisSettings
from custom_components.ridebalance.ant.merger import RiderMerger
from custom_components.ridebalance.ant.pairing import Pairing
from custom_components.ridebalance.model import Sample
from custom_components.ridebalance.rides import Ride
from custom_components.ridebalance.rides.analyze import analyze_ride_dynamics
from custom_components.ridebalance.sim import RideScript, Segment, generate
from custom_components.ridebalance.sim.rider import (
    SAMPLE_HZ,
    SIM_PEDALS,
    SimulatedRider,
)

SCRIPT = RideScript(
    segments=(Segment(25 * 60.0, 210.0, 90.0), Segment(25 * 60.0, 230.0, 88.0))
)


def _samples(rider: SimulatedRider, seconds: float) -> list[Sample]:
    merger = RiderMerger(Pairing(pedals=SIM_PEDALS))
    out: list[Sample] = []
    for _ in range(round(seconds * SAMPLE_HZ)):
        out += merger.feed(rider.next_pages())
    return out


def test_standing_spells_pco_and_power_phase_when_asked() -> None:
    samples = _samples(SimulatedRider(generate(SCRIPT, 1), dynamics=True), 50 * 60)
    ride = Ride.from_samples(samples)
    assert ride.dynamics is not None
    report = analyze_ride_dynamics([ride], AnalysisSettings())
    assert report is not None
    figures = report.ride
    # A stand every three to seven minutes, each 15-40 s (plus the hard efforts).
    assert 7 <= figures.stand_count <= 20
    assert 0.03 < figures.standing_s / (figures.seated_s + figures.standing_s) < 0.3
    assert figures.pco_left_mm is not None
    assert -3 < figures.pco_left_mm < -1
    assert figures.phase_right is not None
    assert 200 < figures.phase_right.arc_deg < 250
    # The right foot creeps outwards after 40 minutes.
    assert "pco_right_mm" in {d.figure for d in report.drifts}
    torque = np.array([s.torque_barycentre_deg for s in samples], dtype=float)
    assert 90 < np.nanmean(torque) < 102


def test_no_dynamics_unless_asked() -> None:
    samples = _samples(SimulatedRider(generate(SCRIPT, 1)), 120)
    assert samples
    assert all(s.rider_position is None and s.pco_left_mm is None for s in samples)

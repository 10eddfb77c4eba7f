"""The simulated rider's sensors: laps, the rest between them, what trackers read."""

from __future__ import annotations

from custom_components.ridebalance.ant.merger import RiderMerger
from custom_components.ridebalance.ant.pairing import Pairing
from custom_components.ridebalance.sim import RideScript, Segment, generate
from custom_components.ridebalance.sim.rider import (
    REST_S,
    SAMPLE_HZ,
    SIM_HEART_RATE,
    SIM_PEDALS,
    SIM_TRAINER,
    SimulatedRider,
)

SCRIPT = RideScript(segments=(Segment(60.0, 200.0, 90.0, left_pct=52.0),))


def play(rider: SimulatedRider, seconds: float, merger: RiderMerger) -> list[float]:
    """Feed ``seconds`` of broadcasts to the trackers; the powers they read."""
    powers: list[float] = []
    for _ in range(round(seconds * SAMPLE_HZ)):
        for sample in merger.feed(rider.next_pages()):
            if sample.power_w is not None:
                powers.append(sample.power_w)
    return powers


def has_next_lap(rider: SimulatedRider) -> bool:
    return rider.next_lap is not None


def test_a_lap_then_a_rest_then_the_next_lap() -> None:
    rider = SimulatedRider(generate(SCRIPT, 0))
    merger = RiderMerger(
        Pairing(pedals=SIM_PEDALS, trainer=SIM_TRAINER, heart_rate=SIM_HEART_RATE)
    )
    riding = play(rider, 60.0, merger)
    assert 190 < sum(riding) / len(riding) < 210
    resting = play(rider, REST_S + 30.0, merger)
    assert rider.lap == 0  # no next lap supplied: the rider keeps resting
    assert max(resting[20:]) == 0.0
    rider.next_lap = generate(SCRIPT, 1)
    again = play(rider, 30.0, merger)
    assert rider.lap == 1
    assert not has_next_lap(rider)  # taken: the caller supplies the one after
    assert 190 < sum(again[-40:]) / 40 < 210
    assert rider.ride_time_s == rider.emitted / SAMPLE_HZ


def test_the_heart_rate_recovers_while_resting() -> None:
    rider = SimulatedRider(generate(SCRIPT, 0))

    def heart_rate_after(seconds: float) -> int:
        """The strap's computed heart rate (byte 7) at the last instant."""
        beats = 0
        for _ in range(round(seconds * SAMPLE_HZ)):
            for page in rider.next_pages():
                if page.device_type == 120:
                    beats = page.data[7]
        return beats

    end_of_lap = heart_rate_after(60.0)
    after_a_minute = heart_rate_after(60.0)
    after_three = heart_rate_after(120.0)
    assert end_of_lap > after_a_minute > after_three >= 75
    # exponential recovery towards 75 bpm with a 60 s time constant
    assert after_three - 75 < (end_of_lap - 75) * 0.1

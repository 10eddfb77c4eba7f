"""A stick without scan mode: the rider's own devices are found and kept.

The simulated stick searches as a real one does: a wildcard channel locks onto
the first device of its type it hears, and a high-priority search costs the other
channels their slots.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from custom_components.ridebalance.ant.merger import RiderMerger
from custom_components.ridebalance.ant.pairing import Pairing
from custom_components.ridebalance.ant.receiver import AntReceiver
from custom_components.ridebalance.ant.stick import ReceiverState
from tests.usbstick.air import Effort, HeartStrap, Pedals, Trainer
from tests.usbstick.backend import SimulatedStick

from .receiver_kit import (
    FAST,
    HRM,
    PEDALS,
    TRAINER,
    Recorder,
    scan_with_channels,
    wait_for,
)

RIDING = Effort(power_w=230, cadence_rpm=88, left_pct=48, heart_rate_bpm=135)
OTHER_PEDALS = 0x4321

type Start = Callable[[Pairing], AntReceiver]


@pytest.fixture
def stick(monkeypatch: pytest.MonkeyPatch) -> SimulatedStick:
    """The stick variant without continuous scan mode (advanced-2 0x32)."""
    sim = SimulatedStick(scan_mode=False).install(monkeypatch)
    sim.air.effort = RIDING
    return sim


@pytest.fixture
def start(stick: SimulatedStick, recorder: Recorder) -> Iterator[Start]:
    made: list[AntReceiver] = []

    def make(pairing: Pairing) -> AntReceiver:
        settings = replace(
            FAST, clock=stick.clock, stale_after_s=5.0, probe_timeout_s=3.0
        )
        receiver = AntReceiver(
            recorder.deliver, recorder.on_state, pairing=pairing, settings=settings
        )
        made.append(receiver)
        receiver.start()
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        return receiver

    yield make
    for receiver in made:
        receiver.stop()


def balance_samples(recorder: Recorder, pairing: Pairing) -> int:
    samples = RiderMerger(pairing).feed(recorder.pages)
    return sum(1 for sample in samples if sample.left_pct is not None)


def test_unpaired_pedals_are_found_when_the_trainers_power_comes_first(
    stick: SimulatedStick, recorder: Recorder, start: Start
) -> None:
    stick.air.add(Trainer(TRAINER, phase_s=0.0))  # its power channel first
    stick.air.add(Pedals(PEDALS, phase_s=0.1))
    start(Pairing())
    stick.run(20)
    assert wait_for(lambda: balance_samples(recorder, Pairing()) >= 40)  # of ~80


def test_a_paired_trainer_is_kept_out_of_the_pedal_search_from_the_start(
    stick: SimulatedStick, recorder: Recorder, start: Start
) -> None:
    stick.air.add(Trainer(TRAINER, phase_s=0.0))
    stick.air.add(Pedals(PEDALS, phase_s=0.1))
    start(Pairing(trainer=TRAINER))
    stick.run(10)

    def power() -> list[int]:
        return [p.device_number for p in recorder.pages if p.device_type == 11]

    assert wait_for(lambda: len(power()) >= 36)  # every slot of 10 s, bar the first
    assert set(power()) == {PEDALS}
    assert balance_samples(recorder, Pairing(trainer=TRAINER)) >= 30


def test_searching_for_devices_away_costs_the_pedals_nothing(
    stick: SimulatedStick, recorder: Recorder, start: Start
) -> None:
    """No trainer, no strap in range: their channels search, the pedals lose
    no slot to them (an endless high-priority search took every other one)."""
    stick.air.add(Pedals(PEDALS))
    start(Pairing(pedals=PEDALS, trainer=TRAINER, heart_rate=HRM))
    stick.run(60)  # searches time out and are opened again meanwhile

    def pedal_pages() -> int:
        return sum(1 for p in recorder.pages if p.device_number == PEDALS)

    assert wait_for(lambda: pedal_pages() >= 0.95 * 60 * 4)
    stick.air.add(HeartStrap(HRM))  # the strap is put on later: still found
    stick.run(40)
    assert wait_for(lambda: any(p.device_type == 120 for p in recorder.pages))


def test_setup_scan_lists_every_power_meter_in_range(stick: SimulatedStick) -> None:
    stick.air.add(Trainer(TRAINER, phase_s=0.0))
    stick.air.add(Pedals(PEDALS, phase_s=0.05))
    stick.air.add(Pedals(OTHER_PEDALS, phase_s=0.1))
    stick.air.add(HeartStrap(HRM, phase_s=0.15))
    heard = scan_with_channels(stick, 2.0)
    power = {d.device_number for d in heard if d.device_type == 11}
    assert power == {TRAINER, PEDALS, OTHER_PEDALS}
    assert {(d.device_type, d.device_number) for d in heard} >= {
        (17, TRAINER),
        (120, HRM),
    }


def test_a_lost_lock_searches_again_and_finds_the_pedals_back(
    stick: SimulatedStick, recorder: Recorder, start: Start
) -> None:
    """The pedals go out of range for 3 s: the stick drops the channel to search
    (EVENT_RX_FAIL_GO_TO_SEARCH) and the pages come back with the pedals."""
    pedals = stick.air.add(Pedals(PEDALS))
    start(Pairing())
    stick.run(5)
    pedals.on = False
    stick.run(3)
    heard_before = len(recorder.pages)
    pedals.on = True
    stick.run(5)
    assert wait_for(lambda: len(recorder.pages) >= heard_before + 15)


def test_an_older_stick_without_low_priority_search_or_lists_still_bounds_it(
    stick: SimulatedStick, recorder: Recorder, start: Start
) -> None:
    stick.firmware.advanced_options = 0x1A  # no low-priority search, no lists
    stick.air.add(Pedals(PEDALS))
    start(Pairing(trainer=TRAINER))
    assert [c[1] for c in stick.commands(0x44)] == [12, 12, 12]  # 30 s, then closed
    assert stick.commands(0x63) == []
    assert stick.commands(0x59) == []
    stick.run(40)  # the absent trainer's search times out and is opened again
    assert wait_for(lambda: len(stick.commands(0x4B)) >= 5)

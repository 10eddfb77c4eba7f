"""Fixtures for the receiver tests: a simulated USB stick under the real openant."""

from __future__ import annotations

from collections.abc import Iterator
import threading

import pytest

from custom_components.ridebalance.ant.pairing import Pairing
from custom_components.ridebalance.ant.receiver import AntReceiver
from custom_components.ridebalance.ant.stick import ReceiverState
from tests.usbstick.backend import SimulatedStick

from .receiver_kit import (
    FAST,
    HRM,
    PEDALS,
    TRAINER,
    MakeReceiver,
    Recorder,
    wait_for,
)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_receiver(stick: SimulatedStick, recorder: Recorder) -> Iterator[MakeReceiver]:
    """Build receivers on the fake stick; every one is stopped afterwards."""
    made: list[AntReceiver] = []

    def make(pairing: Pairing | None = None) -> AntReceiver:
        receiver = AntReceiver(
            recorder.deliver, recorder.on_state, pairing=pairing, settings=FAST
        )
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture
def connected(make_receiver: MakeReceiver) -> AntReceiver:
    """A started receiver paired with PEDALS / TRAINER / HRM, connected."""
    receiver = make_receiver(Pairing(PEDALS, TRAINER, HRM))
    receiver.start()
    assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
    return receiver


@pytest.fixture
def no_thread_leak() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    assert wait_for(lambda: set(threading.enumerate()) <= before)

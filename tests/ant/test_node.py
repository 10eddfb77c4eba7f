"""Opening the stick under the real openant: guarded from the first byte, and a
failed open leaves no reader thread, no claimed stick and no flood of log lines."""

from __future__ import annotations

import errno
import logging
import threading
import time

import pytest

from custom_components.ridebalance.ant.pairing import Pairing
from custom_components.ridebalance.ant.receiver import AntReceiver
from custom_components.ridebalance.ant.scan import probe_stick
from custom_components.ridebalance.ant.stick import ReceiverState
from custom_components.ridebalance.ant.usb_errors import AntStickNotFoundError
from tests.usbstick.backend import READ_REAL_CAP_S, SimulatedStick

from .receiver_kit import FAST, PEDALS, RESET, Recorder, power_page, wait_for


def openant_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("openant")]


@pytest.mark.usefixtures("no_thread_leak")
def test_one_failed_reset_write_costs_one_retry_not_the_stick(
    stick: SimulatedStick, recorder: Recorder
) -> None:
    """A transient write timeout while opening: the next try opens the stick.

    openant's reader used to keep running with the interface claimed, so every
    retry said "busy" until Home Assistant restarted.
    """
    stick.fail_writes(errno.ETIMEDOUT)
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(1), 5)
        assert wait_for(lambda: len(recorder.pages) == 1)
        assert recorder.count(ReceiverState.ERROR) == 1
        assert "busy" not in str(recorder.states)
    finally:
        receiver.stop()
    assert not stick.in_use


def test_a_stick_pulled_during_reset_leaves_nothing_running_or_logging(
    stick: SimulatedStick, caplog: pytest.LogCaptureFixture
) -> None:
    """Pulled while opening: one clear error, no reader left, no log flood."""
    stick.on_command[RESET] = stick.unplug
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AntStickNotFoundError):
        probe_stick(FAST)
    assert wait_for(lambda: not openant_threads(), 1.0)
    time.sleep(0.3)  # a left-over reader would log thousands of lines by now
    assert len(caplog.records) < 40  # openant's debug lines while opening
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.usefixtures("no_thread_leak")
def test_frames_split_while_opening_do_not_cost_a_reconnect(
    stick: SimulatedStick, recorder: Recorder
) -> None:
    """Every frame arrives in two reads, the second after a read has timed out.

    openant's reader starts before its constructor returns; unguarded, it keeps
    the first part of the start-up message and its checksum check ends it.
    """
    stick.split_frames(at=3, gap_s=2 * READ_REAL_CAP_S)
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        for event in range(1, 4):
            stick.queue_broadcast(11, PEDALS, power_page(event), 5)
        assert wait_for(lambda: len(recorder.pages) == 3)
        assert [state for state, _ in recorder.states] == [
            ReceiverState.STARTING,
            ReceiverState.CONNECTED,
        ]
        assert stick.drivers_opened == 1
    finally:
        receiver.stop()

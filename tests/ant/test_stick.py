"""The openant link on the fake stick: channel setup, filtering, a stick that never
answers, dying openant threads."""

from __future__ import annotations

from dataclasses import replace
import threading
import time

import pytest

from custom_components.ridebalance.ant import (
    receiver as receiver_module,
    stick as stick_module,
)
from custom_components.ridebalance.ant.node import GuardedNode, ReadWrapper
from custom_components.ridebalance.ant.pairing import Pairing
from custom_components.ridebalance.ant.receiver import AntReceiver
from custom_components.ridebalance.ant.stick import (
    ReceiveMode,
    ReceiverState,
)
from tests.usbstick.backend import SimulatedStick

from .receiver_kit import (
    ANT_VERSION,
    ENABLE_EXT,
    EVENT_RX_FAIL,
    EVENT_TX,
    FAST,
    FEC_PAGE,
    HR_PAGE,
    HRM,
    OPEN_SCAN,
    PEDALS,
    TRAINER,
    MakeReceiver,
    Recorder,
    channel_event,
    frame,
    power_page,
    wait_for,
)


def test_only_paired_devices_are_delivered(
    make_receiver: MakeReceiver, stick: SimulatedStick, recorder: Recorder
) -> None:
    # Pedals and trainer paired, heart rate left unpaired (any strap).
    receiver = make_receiver(Pairing(pedals=PEDALS, trainer=TRAINER))
    receiver.start()
    assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)

    stick.queue_broadcast(11, PEDALS, power_page(1))
    stick.queue_broadcast(11, TRAINER, power_page(2))  # the trainer's power channel
    stick.queue_broadcast(11, 0x7777, power_page(3))  # a neighbour's pedals
    stick.queue_broadcast(17, 0x4444, FEC_PAGE)  # someone else's trainer
    stick.queue_broadcast(17, TRAINER, FEC_PAGE)
    stick.queue_broadcast(120, 0x0101, HR_PAGE)
    stick.queue_broadcast(120, 0x0202, HR_PAGE)
    stick.queue_broadcast(121, 0x0303, bytes(8))  # speed/cadence: not ours
    stick.queue_broadcast(11, PEDALS, power_page(4))

    assert wait_for(lambda: len(recorder.pages) == 5)
    time.sleep(0.2)
    got = [(p.device_type, p.device_number) for p in recorder.pages]
    assert got == [
        (11, PEDALS),
        (17, TRAINER),
        (120, 0x0101),
        (120, 0x0202),
        (11, PEDALS),
    ]
    assert receiver.diagnostics()["pages_filtered"] == 4


def test_twenty_bit_device_number_is_matched_with_the_transmission_type(
    make_receiver: MakeReceiver, stick: SimulatedStick, recorder: Recorder
) -> None:
    receiver = make_receiver(Pairing(pedals=0x3_1234))
    receiver.start()
    assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
    stick.queue_broadcast(11, 0x1234, power_page(1), tt=0x05)  # 0x0_1234: other
    stick.queue_broadcast(11, 0x1234, power_page(2), tt=0x35)  # 0x3_1234: ours
    assert wait_for(lambda: len(recorder.pages) == 1)
    time.sleep(0.2)
    assert [p.data for p in recorder.pages] == [power_page(2)]
    assert recorder.pages[0].extended_device_number == 0x3_1234


def test_falls_back_to_one_channel_per_profile_without_scan_mode(
    make_receiver: MakeReceiver, stick: SimulatedStick, recorder: Recorder
) -> None:
    stick.set_scan_supported(False)
    receiver = make_receiver(Pairing(pedals=PEDALS))
    receiver.start()
    assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)

    assert receiver.status.mode is ReceiveMode.CHANNELS
    assert (
        receiver.status.detail == "one channel per profile (the stick has no scan mode)"
    )
    assert not stick.scanning
    assert stick.commands(OPEN_SCAN) == []
    # Pedals by number; trainer and heart rate unpaired: wildcard 0.
    assert stick.open_channels == [(0, 11, PEDALS), (1, 17, 0), (2, 120, 0)]
    periods = [int.from_bytes(c[1:3], "little") for c in stick.commands(0x43)]
    assert periods == [8182, 8192, 8070]
    # Searches at low priority only, 30 s at a time (reopened after a timeout).
    assert [c[1] for c in stick.commands(0x44)] == [0, 0, 0]
    assert [c[1] for c in stick.commands(0x63)] == [12, 12, 12]
    assert [c[1] for c in stick.commands(0x45)] == [57, 57, 57]
    assert stick.commands(ENABLE_EXT) == [bytes([0, 1])]

    stick.queue_broadcast(11, PEDALS, power_page(1))
    stick.queue_broadcast(11, 0x7777, power_page(2))  # no channel hears it
    stick.queue_broadcast(17, TRAINER, FEC_PAGE)
    stick.queue_broadcast(120, HRM, HR_PAGE)
    assert wait_for(lambda: len(recorder.pages) == 3)
    got = [(p.device_type, p.device_number, p.data) for p in recorder.pages]
    assert got == [
        (11, PEDALS, power_page(1)),
        (17, TRAINER, FEC_PAGE),
        (120, HRM, HR_PAGE),
    ]
    assert stick.unheard == 1


def test_a_stick_that_never_answers_is_an_error(
    make_receiver: MakeReceiver, stick: SimulatedStick
) -> None:
    stick.set_silent(True)
    receiver = make_receiver()
    receiver.start()
    assert wait_for(lambda: receiver.status.state is ReceiverState.ERROR)
    assert receiver.status.error is not None
    assert receiver.status.error.reason == "not_responding"


def test_stop_does_not_wait_for_a_stick_that_never_answers(
    stick: SimulatedStick, recorder: Recorder
) -> None:
    before = set(threading.enumerate())
    stick.set_silent(True)
    patient = replace(FAST, reply_timeout_s=30.0)
    receiver = AntReceiver(recorder.deliver, recorder.on_state, settings=patient)
    receiver.start()
    assert wait_for(lambda: stick.drivers_opened == 1)
    time.sleep(0.2)  # now waiting for the capabilities answer
    started = time.monotonic()
    receiver.stop()
    assert time.monotonic() - started < 2.5
    assert set(threading.enumerate()) == before
    assert receiver.status.state is ReceiverState.STOPPED


def test_without_extended_data_pages_are_named_by_their_channel(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    # An old stick: scan mode but no extended messages. Scanning could not tell
    # devices apart, so it must use one channel per profile instead.
    stick = SimulatedStick(scan_mode=True, extended=False).install(monkeypatch)
    receiver = AntReceiver(
        recorder.deliver, pairing=Pairing(pedals=PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        assert receiver.status.mode is ReceiveMode.CHANNELS
        assert stick.commands(ENABLE_EXT) == []
        stick.queue_broadcast(11, PEDALS, power_page(1))
        stick.queue_broadcast(120, HRM, HR_PAGE)
        assert wait_for(lambda: len(recorder.pages) == 2)
        got = [(p.device_type, p.device_number) for p in recorder.pages]
        # The paired pedals by number; the wildcard heart-rate channel cannot
        # know its strap's number without extended data.
        assert got == [(11, PEDALS), (120, 0)]
    finally:
        receiver.stop()


def test_without_extended_data_a_paired_twenty_bit_device_is_heard(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    # The channel searches by the low 16 bits; its pages carry the paired number
    # whole, so the pairing (which compares all 20 bits) lets them through.
    stick = SimulatedStick(scan_mode=False, extended=False).install(monkeypatch)
    receiver = AntReceiver(
        recorder.deliver, pairing=Pairing(pedals=0x3_1234), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        assert stick.open_channels[0] == (0, 11, 0x1234)
        stick.queue_broadcast(11, 0x1234, power_page(1), tt=0x35)
        assert wait_for(lambda: len(recorder.pages) == 1)
        assert recorder.pages[0].extended_device_number == 0x3_1234
        assert receiver.diagnostics()["pages_filtered"] == 0
    finally:
        receiver.stop()


def test_without_extended_data_a_wildcard_channel_names_no_device(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    # Pedals paired as 0x1_0000: their low 16 bits are 0, so the channel has to
    # search for any power meter. Without extended data nothing says which one
    # it found: a neighbour's pages must not pass for the rider's pedals.
    stick = SimulatedStick(scan_mode=False, extended=False).install(monkeypatch)
    receiver = AntReceiver(
        recorder.deliver, pairing=Pairing(pedals=0x1_0000), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, 0x1234, power_page(1))
        assert wait_for(lambda: receiver.diagnostics()["pages_filtered"] == 1)
        assert recorder.pages == []
    finally:
        receiver.stop()


def test_a_dead_openant_receive_loop_is_noticed_and_the_stick_reopened(
    stick: SimulatedStick, recorder: Recorder
) -> None:
    """A stray transmit event for a channel that does not exist ends openant's
    loop; the receiver says so and rebuilds the connection."""
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_raw(channel_event(5, EVENT_TX))
        assert wait_for(lambda: recorder.count(ReceiverState.ERROR) == 1)
        detail = next(d for s, d in recorder.states if s is ReceiverState.ERROR)
        assert detail is not None
        assert "receive loop stopped" in detail
        assert "IndexError" in detail
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(1), tt=5)
        assert wait_for(lambda: len(recorder.pages) == 1)
        assert receiver.counters()["reconnects"] == 1
    finally:
        receiver.stop()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_openant_thread_is_noticed_and_the_stick_reopened(
    stick: SimulatedStick, recorder: Recorder
) -> None:
    """A garbled version answer kills openant's dispatch thread (it decodes it as
    ASCII); reception would silently stop, so the receiver rebuilds."""
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_raw(frame(ANT_VERSION, list(b"AOV\xff\xfe")))
        assert wait_for(lambda: recorder.count(ReceiverState.ERROR) == 1)
        detail = next(d for s, d in recorder.states if s is ReceiverState.ERROR)
        assert detail == "openant thread openant.easy stopped"
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(1), tt=5)
        assert wait_for(lambda: len(recorder.pages) == 1)
    finally:
        receiver.stop()


def test_openants_unread_event_queue_stays_bounded(
    stick: SimulatedStick, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missed-message events nobody reads would grow openant's queue all ride long;
    housekeeping trims it, and pages keep coming."""
    nodes: list[GuardedNode] = []

    class RecordedNode(GuardedNode):
        def __init__(self, wrap_read: ReadWrapper) -> None:
            super().__init__(wrap_read)
            nodes.append(self)

    monkeypatch.setattr(stick_module, "GuardedNode", RecordedNode)
    monkeypatch.setattr(receiver_module, "_HOUSEKEEPING_S", 0.2)
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_raw(b"".join(channel_event(0, EVENT_RX_FAIL) for _ in range(300)))
        node = nodes[-1]
        assert wait_for(lambda: receiver.counters()["frames_received"] > 300)
        assert wait_for(lambda: len(node._events) <= 64)
        stick.queue_broadcast(11, PEDALS, power_page(1), tt=5)
        assert wait_for(lambda: len(recorder.pages) == 1)
        assert receiver.counters()["connects"] == 1
    finally:
        receiver.stop()


def test_stop_while_the_stick_is_being_configured_never_reports_connected(
    stick: SimulatedStick, recorder: Recorder, no_thread_leak: None
) -> None:
    """Stopped just as the scan channel opens: the stick is closed again."""
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    stick.on_command[OPEN_SCAN] = receiver.stop  # runs in the receiver's thread
    receiver.start()
    assert wait_for(lambda: receiver.status.state is ReceiverState.STOPPED)
    receiver.stop()
    assert [s for s, _ in recorder.states] == [
        ReceiverState.STARTING,
        ReceiverState.STOPPED,
    ]
    assert stick.drivers_opened == 1

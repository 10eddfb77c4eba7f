"""The frame guard, through a receiver on the simulated stick: damaged, split and
odd traffic never stops reception, and repeats openant drops still arrive."""

from __future__ import annotations

from dataclasses import replace
import time

import pytest

from custom_components.ridebalance.ant.merger import RiderMerger
from custom_components.ridebalance.ant.pairing import DeviceRole, Pairing
from custom_components.ridebalance.ant.receiver import AntReceiver
from custom_components.ridebalance.ant.stick import (
    ReceiverState,
)
from tests.usbstick.air import Effort, Pedals
from tests.usbstick.backend import SimulatedStick

from .receiver_kit import (
    BURST,
    EVENT_TX,
    FAST,
    PEDALS,
    Recorder,
    broadcast_frame,
    channel_event,
    frame,
    power_page,
    run_delivered,
    wait_for,
)


def test_malformed_frames_are_counted_and_dropped_and_reception_goes_on(
    connected: AntReceiver, stick: SimulatedStick, recorder: Recorder
) -> None:
    good = broadcast_frame(0, power_page(1), 11, PEDALS)
    bad_checksum = good[:-1] + bytes([good[-1] ^ 0x01])
    stick.queue_raw(bad_checksum)
    stick.queue_raw(good[:7])  # truncated: the rest never comes...
    stick.queue_raw(broadcast_frame(0, power_page(2), 11, PEDALS))  # ...this does
    stick.queue_raw(frame(0x4E, [0, 0x10, 0x01, 0xB2, 0x5A]))  # 4-byte payload
    stick.queue_raw(bytes([0x00, 0x11, 0x22]))  # line noise
    stick.queue_raw(bytes([0xA4, 0xC8, 0x4E, 0x00]))  # absurd length byte
    stick.queue_raw(broadcast_frame(5, power_page(3), 11, PEDALS))  # no channel 5
    stick.queue_raw(frame(0x4E, [0, *power_page(4), 0x80, 0x34]))  # cut ext data
    stick.queue_broadcast(11, PEDALS, power_page(5))

    assert wait_for(lambda: len(recorder.pages) == 2)
    time.sleep(0.2)
    assert [p.data for p in recorder.pages] == [power_page(2), power_page(5)]
    diagnostics = connected.diagnostics()
    assert diagnostics["malformed_frames"] == 5
    assert diagnostics["stray_frames"] == 1
    assert diagnostics["malformed_pages"] == 1
    assert connected.status.state is ReceiverState.CONNECTED
    assert diagnostics["connects"] == 1  # no rebuild was needed
    stick.queue_broadcast(11, PEDALS, power_page(6))
    assert wait_for(lambda: len(recorder.pages) == 3)


def test_frames_split_or_joined_across_usb_reads_are_reassembled(
    connected: AntReceiver, stick: SimulatedStick, recorder: Recorder
) -> None:
    first = broadcast_frame(0, power_page(1), 11, PEDALS)
    second = broadcast_frame(0, power_page(2), 11, PEDALS)
    third = broadcast_frame(0, power_page(3), 11, PEDALS)
    stick.queue_raw(first + second[:5])  # one read: a frame and a half
    stick.queue_raw(second[5:] + third)  # the next: the rest and another one
    assert wait_for(lambda: len(recorder.pages) == 3)
    assert [p.data for p in recorder.pages] == [power_page(e) for e in (1, 2, 3)]
    assert connected.diagnostics()["malformed_frames"] == 0


def test_odd_but_harmless_traffic_does_not_disturb_reception(
    stick: SimulatedStick, recorder: Recorder
) -> None:
    """Empty reads, a frame cut right after its sync byte, a page without the
    sender's id, a burst transfer and a transmit event: pages keep coming, the
    stick is never reopened, and only the anonymous page counts as malformed."""
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        with pytest.raises(RuntimeError, match="twice"):
            receiver.start()
        assert receiver.status.error is None
        assert receiver.status.stick is not None
        assert receiver.status.stick.serial_number == stick.firmware.serial_number
        assert receiver.status.stick.ant_version == "AP2USB1.05"
        assert recorder.states[-1] == (ReceiverState.CONNECTED, "continuous scan")

        stick.queue_raw(b"")  # a read that returns nothing
        split = broadcast_frame(0, power_page(1), 11, PEDALS, 5)
        stick.queue_raw(split[:1])  # only the sync byte...
        stick.queue_raw(split[1:])  # ...then the rest of the frame
        # Scan mode without extended data cannot say who sent the page.
        stick.queue_raw(broadcast_frame(0, power_page(2)))
        # A two-packet burst (e.g. a file transfer) is not a stream of pages.
        stick.queue_raw(frame(BURST, [0x00, *power_page(3)]))
        stick.queue_raw(frame(BURST, [0x20 | 0x80, *power_page(4)]))
        stick.queue_raw(channel_event(0, EVENT_TX))
        stick.queue_broadcast(11, PEDALS, power_page(5), tt=5)

        assert wait_for(lambda: len(recorder.pages) == 2)
        time.sleep(0.2)
        assert [p.data for p in recorder.pages] == [power_page(1), power_page(5)]
        counters = receiver.counters()
        assert counters["malformed_pages"] == 1
        assert counters["malformed_frames"] == 0
        assert counters["connects"] == 1
        assert receiver.status.state is ReceiverState.CONNECTED
    finally:
        receiver.stop()


def test_a_coasting_riders_pedals_stay_heard_and_read_0_w(
    stick: SimulatedStick, recorder: Recorder
) -> None:
    """Pedals alone in range, the rider stops: every page is then a repeat,
    which openant drops. The pedals stay connected and read 0 W within 3 s."""
    settings = replace(FAST, clock=stick.clock, stale_after_s=5.0, probe_timeout_s=3.0)
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=settings
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.air.add(Pedals(PEDALS, common_every=0))
        stick.air.effort = Effort(power_w=200, cadence_rpm=85, left_pct=49)
        run_delivered(stick, recorder, 10)
        stopped_at = stick.clock()
        stick.air.effort = Effort(power_w=0, cadence_rpm=0, left_pct=None)
        run_delivered(stick, recorder, 8)
        end = stick.clock()
        assert wait_for(lambda: recorder.pages[-1].timestamp_s >= end - 0.5)
    finally:
        receiver.stop()
    merger = RiderMerger(Pairing(PEDALS))
    samples = merger.feed(recorder.pages)
    late = [s.power_w for s in samples if s.t_s >= stopped_at + 3.25]
    assert late
    assert set(late) == {0.0}
    pedals = next(d for d in merger.device_states(end) if d.role is DeviceRole.PEDALS)
    assert pedals.connected

"""AntReceiver against openant's real Node/Ant code and a fake USB stick."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
import logging
import threading
import time

import pytest

from custom_components.ridebalance.ant.pages import RawPage
from custom_components.ridebalance.ant.receiver import (
    AntReceiver,
    Pairing,
    ReceiveMode,
    ReceiverSettings,
    ReceiverState,
)

from .fake_driver import (
    CHANNEL_STATUS,
    ENABLE_EXT,
    OPEN_SCAN,
    REQUEST,
    FakeStick,
    broadcast_frame,
    frame,
    wait_for,
)

FAST = ReceiverSettings(
    stale_after_s=0.3,
    probe_timeout_s=0.3,
    batch_interval_s=0.05,
    batch_max_pages=16,
    backoff_initial_s=0.05,
    backoff_max_s=0.2,
    usb_error_pause_s=0.01,
    reply_timeout_s=0.5,
)

PEDALS = 0x1234
TRAINER = 0x0BEE
HRM = 0x00A7

POWER_PAGE = bytes.fromhex("10 01 B2 5A 34 12 FA 00")  # 250 W, 90 rpm, R 50 %
FEC_PAGE = bytes.fromhex("19 01 5A 00 00 FA 00 30")
HR_PAGE = bytes.fromhex("04 00 00 00 00 04 05 8C")


def power_page(event: int) -> bytes:
    """Distinct power-only pages (openant drops byte-identical repeats)."""
    return bytes([0x10, event & 0xFF, 0xB2, 0x5A, event & 0xFF, 0x12, 0xFA, 0x00])


class Recorder:
    """Collects what the receiver hands over, as the Home Assistant side would."""

    def __init__(self) -> None:
        self.batches: list[list[RawPage]] = []
        self.states: list[tuple[ReceiverState, str | None]] = []
        self._lock = threading.Lock()

    def deliver(self, batch: list[RawPage]) -> None:
        with self._lock:
            self.batches.append(list(batch))

    def on_state(self, state: ReceiverState, detail: str | None) -> None:
        with self._lock:
            self.states.append((state, detail))

    @property
    def pages(self) -> list[RawPage]:
        with self._lock:
            return [page for batch in self.batches for page in batch]

    def count(self, state: ReceiverState) -> int:
        with self._lock:
            return sum(1 for seen, _ in self.states if seen is state)


@pytest.fixture
def stick(monkeypatch: pytest.MonkeyPatch) -> FakeStick:
    fake = FakeStick()
    fake.install(monkeypatch)
    return fake


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


type MakeReceiver = Callable[..., AntReceiver]


@pytest.fixture
def make_receiver(stick: FakeStick, recorder: Recorder) -> Iterator[MakeReceiver]:
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
    assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
    return receiver


def test_pages_arrive_in_batches_with_their_device_identity(
    connected: AntReceiver, stick: FakeStick, recorder: Recorder
) -> None:
    for event in range(40):
        stick.queue_broadcast(11, PEDALS, power_page(event), tt=0x05)
    stick.queue_broadcast(17, TRAINER, FEC_PAGE, tt=0x05)
    stick.queue_broadcast(120, HRM, HR_PAGE, tt=0x01)

    assert wait_for(lambda: len(recorder.pages) == 42)
    pages = recorder.pages
    power = [p for p in pages if p.device_type == 11]
    assert [p.data for p in power] == [power_page(e) for e in range(40)]
    assert {(p.device_number, p.transmission_type) for p in power} == {(PEDALS, 5)}
    fec = next(p for p in pages if p.device_type == 17)
    assert (fec.device_number, fec.data) == (TRAINER, FEC_PAGE)
    hr = next(p for p in pages if p.device_type == 120)
    assert (hr.device_number, hr.transmission_type, hr.data) == (HRM, 1, HR_PAGE)
    # Batched, not one call per page, and in arrival order.
    assert len(recorder.batches) <= 42 // 4
    stamps = [p.timestamp_s for p in pages]
    assert stamps == sorted(stamps)
    # One receive-only scan channel with extended data on.
    assert connected.mode is ReceiveMode.SCAN
    assert stick.scanning
    assert stick.commands(ENABLE_EXT) == [bytes([0, 1])]
    assert stick.commands(0x42) == [bytes([0, 0x40, 0])]  # assign rx-only, net 0
    diagnostics = connected.diagnostics()
    assert diagnostics["pages_delivered"] == 42
    assert diagnostics["batches_delivered"] == len(recorder.batches)
    assert diagnostics["scan_mode_supported"] is True


def test_only_paired_devices_are_delivered(
    make_receiver: MakeReceiver, stick: FakeStick, recorder: Recorder
) -> None:
    # Pedals and trainer paired, heart rate left unpaired (any strap).
    receiver = make_receiver(Pairing(pedals=PEDALS, trainer=TRAINER))
    receiver.start()
    assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)

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
    make_receiver: MakeReceiver, stick: FakeStick, recorder: Recorder
) -> None:
    receiver = make_receiver(Pairing(pedals=0x3_1234))
    receiver.start()
    assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
    stick.queue_broadcast(11, 0x1234, power_page(1), tt=0x05)  # 0x0_1234: other
    stick.queue_broadcast(11, 0x1234, power_page(2), tt=0x35)  # 0x3_1234: ours
    assert wait_for(lambda: len(recorder.pages) == 1)
    time.sleep(0.2)
    assert [p.data for p in recorder.pages] == [power_page(2)]
    assert recorder.pages[0].extended_device_number == 0x3_1234


def test_malformed_frames_are_counted_and_dropped_and_reception_goes_on(
    connected: AntReceiver, stick: FakeStick, recorder: Recorder
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
    assert connected.state is ReceiverState.CONNECTED
    assert diagnostics["connects"] == 1  # no rebuild was needed
    stick.queue_broadcast(11, PEDALS, power_page(6))
    assert wait_for(lambda: len(recorder.pages) == 3)


def test_unplug_is_reported_once_and_pages_resume_after_replug(
    connected: AntReceiver,
    stick: FakeStick,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="custom_components.ridebalance.ant")
    stick.queue_broadcast(11, PEDALS, power_page(1))
    assert wait_for(lambda: len(recorder.pages) == 1)

    stick.unplug()
    assert wait_for(lambda: connected.state is ReceiverState.DISCONNECTED)
    time.sleep(1.0)  # several reopen attempts at the capped backoff
    assert recorder.count(ReceiverState.DISCONNECTED) == 1
    outage_logs = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(outage_logs) == 1
    assert connected.last_error is not None
    assert connected.last_error.reason == "not_found"

    stick.replug()
    assert wait_for(lambda: connected.state is ReceiverState.CONNECTED)
    stick.queue_broadcast(11, PEDALS, power_page(2))
    assert wait_for(lambda: len(recorder.pages) == 2)
    assert recorder.pages[-1].data == power_page(2)
    assert [s for s, _ in recorder.states] == [
        ReceiverState.STARTING,
        ReceiverState.CONNECTED,
        ReceiverState.DISCONNECTED,
        ReceiverState.CONNECTED,
    ]
    diagnostics = connected.diagnostics()
    assert diagnostics["reconnects"] == 1
    assert diagnostics["usb_errors"] == 1


def test_a_silent_stick_that_does_not_answer_is_rebuilt(
    connected: AntReceiver, stick: FakeStick, recorder: Recorder
) -> None:
    stick.set_silent(True)
    assert wait_for(lambda: connected.state is ReceiverState.STALE)
    stick.set_silent(False)
    assert wait_for(lambda: connected.state is ReceiverState.CONNECTED)
    stick.queue_broadcast(11, PEDALS, power_page(1))
    assert wait_for(lambda: len(recorder.pages) == 1)
    assert connected.diagnostics()["stale_events"] == 1
    assert stick.drivers_opened == 2


def test_an_idle_stick_that_answers_is_kept(
    connected: AntReceiver, stick: FakeStick
) -> None:
    # Nobody riding: nothing on air for several stale periods, but the stick
    # answers its status requests, so it is not torn down.
    time.sleep(1.5)
    assert connected.state is ReceiverState.CONNECTED
    assert stick.drivers_opened == 1
    probes = [c for c in stick.commands(REQUEST) if c[1] == CHANNEL_STATUS]
    assert len(probes) >= 2


def test_stop_joins_every_thread_and_is_idempotent(
    stick: FakeStick, recorder: Recorder
) -> None:
    before = set(threading.enumerate())
    receiver = AntReceiver(recorder.deliver, recorder.on_state, settings=FAST)
    receiver.start()
    assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
    assert len(set(threading.enumerate()) - before) == 4  # 2 ours, 2 openant's
    stick.queue_broadcast(11, PEDALS, power_page(1))

    started = time.monotonic()
    receiver.stop()
    elapsed = time.monotonic() - started
    assert set(threading.enumerate()) == before
    assert elapsed < 2.5
    assert receiver.state is ReceiverState.STOPPED
    receiver.stop()  # again: no error
    assert set(threading.enumerate()) == before


def test_stop_is_safe_without_start_and_while_the_stick_is_missing(
    stick: FakeStick, recorder: Recorder
) -> None:
    before = set(threading.enumerate())
    AntReceiver(recorder.deliver, settings=FAST).stop()

    stick.unplug()
    receiver = AntReceiver(recorder.deliver, recorder.on_state, settings=FAST)
    receiver.start()
    assert wait_for(lambda: receiver.state is ReceiverState.DISCONNECTED)
    receiver.stop()
    assert set(threading.enumerate()) == before
    assert recorder.pages == []


def test_busy_stick_is_an_error_with_a_hint_until_it_is_released(
    make_receiver: MakeReceiver, stick: FakeStick, recorder: Recorder
) -> None:
    stick.set_open_error(16)
    receiver = make_receiver()
    receiver.start()
    assert wait_for(lambda: receiver.state is ReceiverState.ERROR)
    assert receiver.last_error is not None
    assert receiver.last_error.reason == "busy"
    detail = recorder.states[-1][1]
    assert detail is not None
    assert "Zwift" in detail

    stick.set_open_error(None)  # the other program let go
    assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
    assert recorder.count(ReceiverState.ERROR) == 1


def test_falls_back_to_one_channel_per_profile_without_scan_mode(
    make_receiver: MakeReceiver, stick: FakeStick, recorder: Recorder
) -> None:
    stick.set_scan_supported(False)
    receiver = make_receiver(Pairing(pedals=PEDALS))
    receiver.start()
    assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)

    assert receiver.mode is ReceiveMode.CHANNELS
    assert receiver.detail == "one channel per profile (the stick has no scan mode)"
    assert not stick.scanning
    assert stick.commands(OPEN_SCAN) == []
    # Pedals by number; trainer and heart rate unpaired: wildcard 0.
    assert stick.open_channels == [(0, 11, PEDALS), (1, 17, 0), (2, 120, 0)]
    periods = [int.from_bytes(c[1:3], "little") for c in stick.commands(0x43)]
    assert periods == [8182, 8192, 8070]
    assert [c[1] for c in stick.commands(0x44)] == [0xFF, 0xFF, 0xFF]
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


def test_a_failing_consumer_does_not_stop_reception(stick: FakeStick) -> None:
    delivered: list[RawPage] = []
    calls = 0

    def flaky_deliver(batch: list[RawPage]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("consumer bug")
        delivered.extend(batch)

    def broken_on_state(state: ReceiverState, detail: str | None) -> None:
        raise RuntimeError("state consumer bug")

    receiver = AntReceiver(
        flaky_deliver, broken_on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(1))
        assert wait_for(lambda: calls == 1)
        stick.queue_broadcast(11, PEDALS, power_page(2))
        assert wait_for(lambda: len(delivered) == 1)
        assert delivered[0].data == power_page(2)
        assert receiver.diagnostics()["deliver_errors"] == 1
        assert receiver.state is ReceiverState.CONNECTED
    finally:
        receiver.stop()


def test_a_stick_that_never_answers_is_an_error(
    make_receiver: MakeReceiver, stick: FakeStick
) -> None:
    stick.set_silent(True)
    receiver = make_receiver()
    receiver.start()
    assert wait_for(lambda: receiver.state is ReceiverState.ERROR)
    assert receiver.last_error is not None
    assert receiver.last_error.reason == "not_responding"


def test_stop_does_not_wait_for_a_stick_that_never_answers(
    stick: FakeStick, recorder: Recorder
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
    assert receiver.state is ReceiverState.STOPPED


def test_usb_io_error_is_reported_and_the_stick_reopened(
    connected: AntReceiver, stick: FakeStick, recorder: Recorder
) -> None:
    stick.fail_next_read(5)  # EIO: a flaky cable or hub, the stick is still there
    assert wait_for(lambda: recorder.count(ReceiverState.ERROR) == 1)
    error_detail = next(d for s, d in recorder.states if s is ReceiverState.ERROR)
    assert error_detail is not None
    assert "USB error" in error_detail
    assert "Input/Output" in error_detail
    assert wait_for(lambda: connected.state is ReceiverState.CONNECTED)
    stick.queue_broadcast(11, PEDALS, power_page(1))
    assert wait_for(lambda: len(recorder.pages) == 1)
    assert connected.diagnostics()["reconnects"] == 1


def test_without_extended_data_pages_are_named_by_their_channel(
    monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> None:
    # An old stick: scan mode but no extended messages. Scanning could not tell
    # devices apart, so it must use one channel per profile instead.
    stick = FakeStick(scan_supported=True, ext_supported=False)
    stick.install(monkeypatch)
    receiver = AntReceiver(
        recorder.deliver, pairing=Pairing(pedals=PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        assert receiver.mode is ReceiveMode.CHANNELS
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


def test_frames_split_or_joined_across_usb_reads_are_reassembled(
    connected: AntReceiver, stick: FakeStick, recorder: Recorder
) -> None:
    first = broadcast_frame(0, power_page(1), 11, PEDALS)
    second = broadcast_frame(0, power_page(2), 11, PEDALS)
    third = broadcast_frame(0, power_page(3), 11, PEDALS)
    stick.queue_raw(first + second[:5])  # one read: a frame and a half
    stick.queue_raw(second[5:] + third)  # the next: the rest and another one
    assert wait_for(lambda: len(recorder.pages) == 3)
    assert [p.data for p in recorder.pages] == [power_page(e) for e in (1, 2, 3)]
    assert connected.diagnostics()["malformed_frames"] == 0

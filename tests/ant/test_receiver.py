"""AntReceiver against openant's real Node/Ant code and a fake USB stick."""

from __future__ import annotations

from dataclasses import replace
import errno
import logging
import threading
import time

import pytest

from custom_components.ridebalance.ant import (
    receiver as receiver_module,
)
from custom_components.ridebalance.ant.merger import RiderMerger
from custom_components.ridebalance.ant.pages import RawPage
from custom_components.ridebalance.ant.pairing import Pairing
from custom_components.ridebalance.ant.receiver import AntReceiver, ReceiverStatus
from custom_components.ridebalance.ant.stick import (
    ReceiveMode,
    ReceiverState,
)
from tests.usbstick.air import Effort, Pedals
from tests.usbstick.backend import SimulatedStick

from .receiver_kit import (
    CHANNEL_STATUS,
    ENABLE_EXT,
    FAST,
    FEC_PAGE,
    HR_PAGE,
    HRM,
    PEDALS,
    REQUEST,
    TRAINER,
    MakeReceiver,
    Recorder,
    power_page,
    run_delivered,
    wait_for,
)


def test_pages_arrive_in_batches_with_their_device_identity(
    connected: AntReceiver, stick: SimulatedStick, recorder: Recorder
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
    assert connected.status.mode is ReceiveMode.SCAN
    assert stick.scanning
    assert stick.commands(ENABLE_EXT) == [bytes([0, 1])]
    assert stick.commands(0x42) == [bytes([0, 0x40, 0])]  # assign rx-only, net 0
    diagnostics = connected.diagnostics()
    assert diagnostics["pages_delivered"] == 42
    assert diagnostics["batches_delivered"] == len(recorder.batches)
    assert diagnostics["scan_mode_supported"] is True


def test_unplug_is_reported_once_and_pages_resume_after_replug(
    connected: AntReceiver,
    stick: SimulatedStick,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="custom_components.ridebalance.ant")
    stick.queue_broadcast(11, PEDALS, power_page(1))
    assert wait_for(lambda: len(recorder.pages) == 1)

    stick.unplug()
    assert wait_for(lambda: connected.status.state is ReceiverState.DISCONNECTED)
    time.sleep(1.0)  # several reopen attempts at the capped backoff
    assert recorder.count(ReceiverState.DISCONNECTED) == 1
    outage_logs = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(outage_logs) == 1
    assert connected.status.error is not None
    assert connected.status.error.reason == "not_found"

    stick.replug()
    assert wait_for(lambda: connected.status.state is ReceiverState.CONNECTED)
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
    connected: AntReceiver, stick: SimulatedStick, recorder: Recorder
) -> None:
    stick.set_silent(True)
    assert wait_for(lambda: connected.status.state is ReceiverState.STALE)
    stick.set_silent(False)
    assert wait_for(lambda: connected.status.state is ReceiverState.CONNECTED)
    stick.queue_broadcast(11, PEDALS, power_page(1))
    assert wait_for(lambda: len(recorder.pages) == 1)
    assert connected.diagnostics()["stale_links"] == 1
    assert stick.drivers_opened == 2


def test_an_idle_stick_that_answers_is_kept(
    connected: AntReceiver, stick: SimulatedStick
) -> None:
    # Nobody riding: nothing on air for several stale periods, but the stick
    # answers its status requests, so it is not torn down.
    time.sleep(1.5)
    assert connected.status.state is ReceiverState.CONNECTED
    assert stick.drivers_opened == 1
    probes = [c for c in stick.commands(REQUEST) if c[1] == CHANNEL_STATUS]
    assert len(probes) >= 2


def test_stop_joins_every_thread_and_is_idempotent(
    stick: SimulatedStick, recorder: Recorder
) -> None:
    before = set(threading.enumerate())
    receiver = AntReceiver(recorder.deliver, recorder.on_state, settings=FAST)
    receiver.start()
    assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
    assert len(set(threading.enumerate()) - before) == 4  # 2 ours, 2 openant's
    stick.queue_broadcast(11, PEDALS, power_page(1))

    started = time.monotonic()
    receiver.stop()
    elapsed = time.monotonic() - started
    assert set(threading.enumerate()) == before
    assert elapsed < 2.5
    assert receiver.status.state is ReceiverState.STOPPED
    receiver.stop()  # again: no error
    assert set(threading.enumerate()) == before


def test_stop_is_safe_without_start_and_while_the_stick_is_missing(
    stick: SimulatedStick, recorder: Recorder
) -> None:
    before = set(threading.enumerate())
    AntReceiver(recorder.deliver, settings=FAST).stop()

    stick.unplug()
    receiver = AntReceiver(recorder.deliver, recorder.on_state, settings=FAST)
    receiver.start()
    assert wait_for(lambda: receiver.status.state is ReceiverState.DISCONNECTED)
    receiver.stop()
    assert set(threading.enumerate()) == before
    assert recorder.pages == []


def test_busy_stick_is_an_error_with_a_hint_until_it_is_released(
    make_receiver: MakeReceiver, stick: SimulatedStick, recorder: Recorder
) -> None:
    stick.set_open_error(16)
    receiver = make_receiver()
    receiver.start()
    assert wait_for(lambda: receiver.status.state is ReceiverState.ERROR)
    assert receiver.status.error is not None
    assert receiver.status.error.reason == "busy"
    detail = recorder.states[-1][1]
    assert detail is not None
    assert "Zwift" in detail

    stick.set_open_error(None)  # the other program let go
    assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
    assert recorder.count(ReceiverState.ERROR) == 1


def test_a_failing_consumer_does_not_stop_reception(stick: SimulatedStick) -> None:
    delivered: list[RawPage] = []
    calls = 0

    def flaky_deliver(batch: list[RawPage]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("consumer bug")
        delivered.extend(batch)

    def broken_on_state(status: ReceiverStatus) -> None:
        raise RuntimeError("state consumer bug")

    receiver = AntReceiver(
        flaky_deliver, broken_on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(1))
        assert wait_for(lambda: calls == 1)
        stick.queue_broadcast(11, PEDALS, power_page(2))
        assert wait_for(lambda: len(delivered) == 1)
        assert delivered[0].data == power_page(2)
        assert receiver.diagnostics()["deliver_errors"] == 1
        assert receiver.status.state is ReceiverState.CONNECTED
    finally:
        receiver.stop()


def test_usb_io_error_is_reported_and_the_stick_reopened(
    connected: AntReceiver, stick: SimulatedStick, recorder: Recorder
) -> None:
    stick.fail_next_read(5)  # EIO: a flaky cable or hub, the stick is still there
    assert wait_for(lambda: recorder.count(ReceiverState.ERROR) == 1)
    error_detail = next(d for s, d in recorder.states if s is ReceiverState.ERROR)
    assert error_detail is not None
    assert "USB error" in error_detail
    assert "Input/output error" in error_detail
    assert wait_for(lambda: connected.status.state is ReceiverState.CONNECTED)
    stick.queue_broadcast(11, PEDALS, power_page(1))
    assert wait_for(lambda: len(recorder.pages) == 1)
    assert connected.diagnostics()["reconnects"] == 1


def test_a_flapping_stick_is_logged_once_a_minute_with_a_count(
    stick: SimulatedStick, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """A hub that throws an I/O error three times a (simulated) minute, for three
    minutes: one warning a minute, saying how often it happened meanwhile."""
    settings = replace(FAST, clock=stick.clock)
    receiver = AntReceiver(recorder.deliver, recorder.on_state, settings=settings)
    receiver.start()
    try:
        for flap in range(9):
            assert wait_for(lambda: receiver.diagnostics()["connects"] > flap)  # noqa: B023
            stick.clock.advance(20)
            stick.fail_next_read(errno.EIO)
        assert wait_for(lambda: receiver.diagnostics()["connects"] > 9)
    finally:
        receiver.stop()
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("custom_components")
    ]
    assert len(warnings) == 3
    assert "Input/output error" in warnings[0]
    assert warnings[1].endswith("; 2 more outages since the last report")
    assert recorder.count(ReceiverState.ERROR) == 9  # every outage still shows


def test_a_stalled_consumer_gets_the_newest_pages_and_the_loss_is_counted(
    stick: SimulatedStick, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While ``deliver`` hangs, only the newest pages are kept (bounded memory)."""
    monkeypatch.setattr(receiver_module, "_PENDING_LIMIT", 20)
    gate = threading.Event()
    entered = threading.Event()
    batches: list[list[RawPage]] = []

    def slow_deliver(batch: list[RawPage]) -> None:
        if not entered.is_set():
            entered.set()
            gate.wait(5)
        batches.append(batch)

    receiver = AntReceiver(slow_deliver, pairing=Pairing(PEDALS), settings=FAST)
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(0), tt=5)  # the stuck batch
        assert entered.wait(5)
        for event in range(1, 61):
            stick.queue_broadcast(11, PEDALS, power_page(event), tt=5)
        assert wait_for(lambda: receiver.counters()["pages_received"] == 61)
        gate.set()
        assert wait_for(lambda: sum(len(b) for b in batches) == 21)
        delivered = [p.data for b in batches for p in b]
        assert delivered == [power_page(e) for e in (0, *range(41, 61))]
        assert receiver.counters()["pages_dropped"] == 40
    finally:
        gate.set()
        receiver.stop()


def test_a_consumer_that_keeps_failing_is_logged_once(
    stick: SimulatedStick, caplog: pytest.LogCaptureFixture
) -> None:
    """Every failed delivery is counted, but the traceback is logged only once."""
    calls = 0

    def broken_deliver(_batch: list[RawPage]) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("consumer bug")

    receiver = AntReceiver(broken_deliver, pairing=Pairing(PEDALS), settings=FAST)
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        for event in range(3):
            stick.queue_broadcast(11, PEDALS, power_page(event), tt=5)
            assert wait_for(lambda e=event: calls == e + 1)  # type: ignore[misc]
        assert receiver.counters()["deliver_errors"] == 3
        assert receiver.status.state is ReceiverState.CONNECTED
    finally:
        receiver.stop()
    logged = [r for r in caplog.records if "Error delivering" in r.getMessage()]
    assert len(logged) == 1


def test_a_state_consumer_that_keeps_failing_on_a_flapping_stick_is_logged_once(
    stick: SimulatedStick, caplog: pytest.LogCaptureFixture
) -> None:
    """A stick that keeps dropping out, a state consumer that always raises: the
    log gets one traceback, the diagnostics the count, and reception goes on."""
    reported = 0

    def broken_on_state(_status: ReceiverStatus) -> None:
        nonlocal reported
        reported += 1
        raise RuntimeError("state consumer bug")

    receiver = AntReceiver(
        lambda _batch: None, broken_on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        for flap in range(4):
            assert wait_for(lambda: receiver.diagnostics()["connects"] > flap)  # noqa: B023
            stick.fail_next_read(errno.EIO)
        assert wait_for(lambda: receiver.diagnostics()["connects"] > 4)
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
    finally:
        receiver.stop()
    # STARTING, then CONNECTED and ERROR per flap, CONNECTED and STOPPED at the end.
    logged = [r for r in caplog.records if "receiver state" in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert reported >= 1 + 2 * 4  # starting, then each flap's error and reconnect
    assert receiver.diagnostics()["state_errors"] == reported


def test_stop_gives_up_on_a_stuck_consumer_and_says_so(
    stick: SimulatedStick, caplog: pytest.LogCaptureFixture, no_thread_leak: None
) -> None:
    """Home Assistant's shutdown is not held up by a consumer that hangs."""
    gate = threading.Event()
    entered = threading.Event()

    def stuck_deliver(_batch: list[RawPage]) -> None:
        entered.set()
        gate.wait(10)

    settings = replace(FAST, stop_timeout_s=0.1)
    receiver = AntReceiver(stuck_deliver, pairing=Pairing(PEDALS), settings=settings)
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(1), tt=5)
        assert entered.wait(5)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING):
            receiver.stop()
        assert time.monotonic() - started < 1.5
        assert any(
            "did not stop within the time allowed" in r.getMessage()
            for r in caplog.records
        )
    finally:
        gate.set()
        receiver.stop()
    assert receiver.status.state is ReceiverState.STOPPED


def test_a_stick_that_goes_quiet_and_refuses_writes_is_reopened(
    stick: SimulatedStick, recorder: Recorder
) -> None:
    """Silent and failing the status request: gone (ENODEV) or an error (EPIPE),
    and the receiver comes back once the stick behaves again."""
    settings = replace(FAST, prefer_scan_mode=False)
    receiver = AntReceiver(
        recorder.deliver,
        recorder.on_state,
        pairing=Pairing(PEDALS, TRAINER, HRM),
        settings=settings,
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        assert receiver.status.mode is ReceiveMode.CHANNELS
        assert receiver.status.detail == "one channel per profile"
        for code, state, words in (
            (errno.ENODEV, ReceiverState.DISCONNECTED, "ANT+ stick gone"),
            (errno.EPIPE, ReceiverState.ERROR, "ANT+ stick write failed"),
        ):
            stick.set_silent(True)
            stick.write_errno = code
            assert wait_for(lambda s=state: recorder.count(s) >= 1)  # type: ignore[misc]
            detail = next(d for s, d in recorder.states if s is state)
            assert detail is not None
            assert words in detail
            stick.write_errno = None
            stick.set_silent(False)
            assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(1))
        assert wait_for(lambda: len(recorder.pages) == 1)
    finally:
        stick.write_errno = None
        receiver.stop()


@pytest.mark.parametrize("time_synchronous", [False, True])
def test_a_crank_torque_meter_reads_0_w_when_the_rider_stops_and_no_spike_after(
    stick: SimulatedStick, recorder: Recorder, time_synchronous: bool
) -> None:
    """Pedals that send crank torque (0x12): 20 s riding, a 33 s stop, riding again.

    What the rider sees: 0 W (not "unknown") within 3 s of stopping, on an
    event-synchronous meter and on one whose timer keeps sending events; and the
    first turn after the stop, whose crank period wrapped, is no spike.
    """
    settings = replace(
        FAST,
        clock=stick.clock,
        stale_after_s=5.0,
        probe_timeout_s=3.0,
        batch_interval_s=0.005,
    )
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=settings
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.status.state is ReceiverState.CONNECTED)
        stick.air.add(
            Pedals(PEDALS, crank_torque=True, time_synchronous=time_synchronous)
        )
        riding = Effort(power_w=240, cadence_rpm=90, left_pct=49)
        stick.air.effort = riding
        run_delivered(stick, recorder, 20)
        stopped_at = stick.clock()
        stick.air.effort = Effort(power_w=0, cadence_rpm=0, left_pct=None)
        run_delivered(stick, recorder, 33)
        stick.air.effort = riding
        run_delivered(stick, recorder, 10)
        end = stick.clock()
        assert wait_for(lambda: recorder.pages[-1].timestamp_s >= end - 0.5)
    finally:
        receiver.stop()
    samples = RiderMerger(Pairing(PEDALS)).feed(recorder.pages)
    stopped = [s for s in samples if stopped_at + 3.25 <= s.t_s <= stopped_at + 33]
    assert stopped
    assert {s.power_w for s in stopped} == {0.0}
    assert max(s.power_w or 0 for s in samples) < 300
    assert max(s.cadence_rpm or 0 for s in samples) < 100
    resumed = [s for s in samples if s.t_s >= end - 5]
    assert resumed[-1].power_w == pytest.approx(240, rel=0.1)

"""AntReceiver on the fake stick: odd frames, dying openant threads, stuck consumers."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
import errno
import logging
import threading
import time
from typing import Any

from openant.easy.node import Node
import pytest
from usb.core import USBError

from custom_components.ridebalance.ant import receiver as receiver_module
from custom_components.ridebalance.ant.pages import RawPage
from custom_components.ridebalance.ant.receiver import (
    AntReceiver,
    HeardDevice,
    Pairing,
    ReceiveMode,
    ReceiverState,
    scan,
)
from custom_components.ridebalance.ant.usb_errors import (
    AntStickError,
    AntStickNotFoundError,
)

from .fake_driver import OPEN_SCAN, FakeStick, broadcast_frame, frame, wait_for
from .test_receiver import FAST, HRM, PEDALS, TRAINER, Recorder, power_page

CHANNEL_EVENT = 0x40  # channel response with message id 0x01: a channel event
EVENT_RX_FAIL = 0x02
EVENT_TX = 0x03
BURST = 0x50
ANT_VERSION = 0x3E
PRODUCT_PAGE = bytes.fromhex("51 FF 2A 15 CD 5B 07 00")  # sw 4.2, serial 482253
MANUFACTURER_PAGE = bytes.fromhex("50 FF FF 01 20 01 0A 00")


class TroubledStick(FakeStick):
    """A fake stick whose writes can fail, and that can run a hook on a command."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.write_errno: int | None = None
        self.on_command: dict[int, Any] = {}

    def _write(self, generation: int, data: bytes) -> None:
        if self.write_errno is not None:
            raise USBError("Pipe error", -9, self.write_errno)
        hook = self.on_command.get(data[2])
        if hook is not None:
            hook()
        super()._write(generation, data)


@pytest.fixture
def stick(monkeypatch: pytest.MonkeyPatch) -> TroubledStick:
    fake = TroubledStick()
    fake.install(monkeypatch)
    return fake


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def no_thread_leak() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    assert wait_for(lambda: set(threading.enumerate()) <= before)


def channel_event(channel: int, code: int) -> bytes:
    """A channel event frame (``40 <ch> 01 <code>``), as the stick sends them."""
    return frame(CHANNEL_EVENT, [channel, 0x01, code])


def test_odd_but_harmless_traffic_does_not_disturb_reception(
    stick: TroubledStick, recorder: Recorder
) -> None:
    """Empty reads, a frame cut right after its sync byte, a page without the
    sender's id, a burst transfer and a transmit event: pages keep coming, the
    stick is never reopened, and only the anonymous page counts as malformed."""
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        with pytest.raises(RuntimeError, match="twice"):
            receiver.start()
        assert receiver.last_error is None
        assert receiver.stick is not None
        assert receiver.stick.serial_number == 12345
        assert receiver.stick.ant_version == "AOV1.00B00"
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
        assert receiver.state is ReceiverState.CONNECTED
    finally:
        receiver.stop()


def test_a_dead_openant_receive_loop_is_noticed_and_the_stick_reopened(
    stick: TroubledStick, recorder: Recorder
) -> None:
    """A stray transmit event for a channel that does not exist ends openant's
    loop; the receiver says so and rebuilds the connection."""
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        stick.queue_raw(channel_event(5, EVENT_TX))
        assert wait_for(lambda: recorder.count(ReceiverState.ERROR) == 1)
        detail = next(d for s, d in recorder.states if s is ReceiverState.ERROR)
        assert detail is not None
        assert "receive loop stopped" in detail
        assert "IndexError" in detail
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(1), tt=5)
        assert wait_for(lambda: len(recorder.pages) == 1)
        assert receiver.counters()["reconnects"] == 1
    finally:
        receiver.stop()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_openant_thread_is_noticed_and_the_stick_reopened(
    stick: TroubledStick, recorder: Recorder
) -> None:
    """A garbled version answer kills openant's dispatch thread (it decodes it as
    ASCII); reception would silently stop, so the receiver rebuilds."""
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        stick.queue_raw(frame(ANT_VERSION, list(b"AOV\xff\xfe")))
        assert wait_for(lambda: recorder.count(ReceiverState.ERROR) == 1)
        detail = next(d for s, d in recorder.states if s is ReceiverState.ERROR)
        assert detail == "openant thread openant.easy stopped"
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(1), tt=5)
        assert wait_for(lambda: len(recorder.pages) == 1)
    finally:
        receiver.stop()


def test_openants_unread_event_queue_stays_bounded(
    stick: TroubledStick, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missed-message events nobody reads would grow openant's queue all ride long;
    housekeeping trims it, and pages keep coming."""
    nodes: list[Node] = []

    class RecordedNode(Node):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            nodes.append(self)

    monkeypatch.setattr(receiver_module, "Node", RecordedNode)
    monkeypatch.setattr(receiver_module, "_HOUSEKEEPING_S", 0.2)
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    receiver.start()
    try:
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        stick.queue_raw(b"".join(channel_event(0, EVENT_RX_FAIL) for _ in range(300)))
        node = nodes[-1]
        assert wait_for(lambda: receiver.counters()["frames_received"] > 300)
        assert wait_for(lambda: len(node._events) <= 64)
        stick.queue_broadcast(11, PEDALS, power_page(1), tt=5)
        assert wait_for(lambda: len(recorder.pages) == 1)
        assert receiver.counters()["connects"] == 1
    finally:
        receiver.stop()


def test_a_stalled_consumer_gets_the_newest_pages_and_the_loss_is_counted(
    stick: TroubledStick, monkeypatch: pytest.MonkeyPatch
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
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
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
    stick: TroubledStick, caplog: pytest.LogCaptureFixture
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
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        for event in range(3):
            stick.queue_broadcast(11, PEDALS, power_page(event), tt=5)
            assert wait_for(lambda e=event: calls == e + 1)  # type: ignore[misc]
        assert receiver.counters()["deliver_errors"] == 3
        assert receiver.state is ReceiverState.CONNECTED
    finally:
        receiver.stop()
    logged = [r for r in caplog.records if "Error delivering" in r.getMessage()]
    assert len(logged) == 1


def test_stop_gives_up_on_a_stuck_consumer_and_says_so(
    stick: TroubledStick, caplog: pytest.LogCaptureFixture, no_thread_leak: None
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
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
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
    assert receiver.state is ReceiverState.STOPPED


def test_stop_while_the_stick_is_being_configured_never_reports_connected(
    stick: TroubledStick, recorder: Recorder, no_thread_leak: None
) -> None:
    """Stopped just as the scan channel opens: the stick is closed again."""
    receiver = AntReceiver(
        recorder.deliver, recorder.on_state, pairing=Pairing(PEDALS), settings=FAST
    )
    stick.on_command[OPEN_SCAN] = receiver.stop  # runs in the receiver's thread
    receiver.start()
    assert wait_for(lambda: receiver.state is ReceiverState.STOPPED)
    receiver.stop()
    assert [s for s, _ in recorder.states] == [
        ReceiverState.STARTING,
        ReceiverState.STOPPED,
    ]
    assert stick.drivers_opened == 1


def test_a_stick_that_goes_quiet_and_refuses_writes_is_reopened(
    stick: TroubledStick, recorder: Recorder
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
        assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        assert receiver.mode is ReceiveMode.CHANNELS
        assert receiver.detail == "one channel per profile"
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
            assert wait_for(lambda: receiver.state is ReceiverState.CONNECTED)
        stick.queue_broadcast(11, PEDALS, power_page(1))
        assert wait_for(lambda: len(recorder.pages) == 1)
    finally:
        stick.write_errno = None
        receiver.stop()


def _scan_in_background(stick: FakeStick, **kwargs: Any) -> Any:
    pool = ThreadPoolExecutor(1)
    future = pool.submit(scan, 0.5, settings=FAST, **kwargs)
    pool.shutdown(wait=False)
    assert wait_for(lambda: stick.scanning)
    return future


def test_scan_keeps_identity_pages_and_survives_a_failing_label(
    stick: TroubledStick,
) -> None:
    """Devices whose label cannot be worked out are still listed, unlabelled."""

    def describe(device_type: int, pages: Any) -> str | None:
        if device_type == 120:
            raise ValueError("strap page 2 garbled")
        return "Favero" if 0x50 in pages else None

    future = _scan_in_background(stick, describe=describe)
    stick.queue_broadcast(11, PEDALS, power_page(1), tt=5)
    stick.queue_broadcast(11, PEDALS, MANUFACTURER_PAGE, tt=5)
    stick.queue_broadcast(11, PEDALS, PRODUCT_PAGE, tt=5)
    stick.queue_broadcast(120, HRM, bytes.fromhex("04 00 00 00 00 04 05 8C"))
    heard: list[HeardDevice] = future.result(timeout=5)
    pedals, strap = heard
    assert (pedals.device_number, pedals.description) == (PEDALS, "Favero")
    assert pedals.product_page == PRODUCT_PAGE
    assert pedals.manufacturer_page == MANUFACTURER_PAGE
    assert (strap.device_number, strap.description) == (HRM, None)
    assert strap.product_page is None


def test_scan_reports_a_usb_error_that_is_not_an_unplug(stick: TroubledStick) -> None:
    """A flaky cable during the scan is an error, but not "stick not found"."""
    future = _scan_in_background(stick)
    stick.fail_next_read(errno.EIO)
    with pytest.raises(AntStickError) as caught:
        future.result(timeout=5)
    assert not isinstance(caught.value, AntStickNotFoundError)
    assert "Input/Output" in str(caught.value)

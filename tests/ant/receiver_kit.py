"""What the receiver tests share: frames, pages, fast settings and a recorder.

The stick itself is the simulated ANTUSB2 in :mod:`tests.usbstick`, under the real
openant; this module holds the bytes the tests put on it, the
:class:`Recorder` that takes what a receiver hands over, and
:func:`run_delivered` for tests that time pages on the stick's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
import threading
import time
from typing import TYPE_CHECKING

from custom_components.ridebalance.ant.pages import RawPage
from custom_components.ridebalance.ant.receiver import AntReceiver, ReceiverStatus
from custom_components.ridebalance.ant.scan import HeardDevice, scan
from custom_components.ridebalance.ant.stick import ReceiverSettings, ReceiverState

if TYPE_CHECKING:
    from tests.usbstick.backend import SimulatedStick

SYNC = 0xA4

# ANT message ids the tests write or look for.
BROADCAST = 0x4E
REQUEST = 0x4D
RESET = 0x4A
OPEN_SCAN = 0x5B
ENABLE_EXT = 0x66
CHANNEL_STATUS = 0x52


def frame(message_id: int, data: bytes | list[int]) -> bytes:
    """An ANT serial frame: sync, length, id, data, XOR checksum."""
    body = bytes([SYNC, len(data), message_id, *data])
    checksum = 0
    for byte in body:
        checksum ^= byte
    return body + bytes([checksum])


def broadcast_frame(
    channel: int,
    page: bytes,
    device_type: int | None = None,
    device_number: int = 0,
    transmission_type: int = 0,
) -> bytes:
    """A broadcast frame; with ``device_type`` it carries extended channel-id data."""
    data = bytes([channel]) + page
    if device_type is not None:
        data += bytes(
            [
                0x80,
                device_number & 0xFF,
                (device_number >> 8) & 0xFF,
                device_type,
                transmission_type,
            ]
        )
    return frame(BROADCAST, data)


def wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll until ``predicate()`` holds; False on timeout (then assert on it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


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

    def on_state(self, status: ReceiverStatus) -> None:
        with self._lock:
            self.states.append((status.state, status.detail))

    @property
    def pages(self) -> list[RawPage]:
        with self._lock:
            return [page for batch in self.batches for page in batch]

    def count(self, state: ReceiverState) -> int:
        with self._lock:
            return sum(1 for seen, _ in self.states if seen is state)


def scan_with_channels(stick: SimulatedStick, seconds: float) -> list[HeardDevice]:
    """A setup scan on a stick without scan mode, the air's devices sending
    throughout (simulated time runs while the scan listens)."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(scan, seconds, settings=FAST)
        assert wait_for(lambda: len(stick.open_channels) == 3)
        while not future.done():
            stick.run(1)
        return future.result()


def run_delivered(stick: SimulatedStick, recorder: Recorder, seconds: float) -> None:
    """Let simulated time pass a quarter second at a time, each page handed over.

    For tests that time pages on the stick's clock: pages are stamped when openant
    hands them over, and ``stick.run`` only waits until the USB pipe is read. On a
    busy machine openant's threads can fall behind a simulated clock that runs on
    regardless, and a page would then carry a later time than it was sent at
    (which a real clock never allows).
    """
    end = stick.clock() + seconds
    while stick.clock() < end - 1e-9:
        stick.run(min(0.25, end - stick.clock()))
        assert wait_for(lambda: len(recorder.pages) >= stick.broadcasts)


type MakeReceiver = Callable[..., AntReceiver]


CHANNEL_EVENT = 0x40  # channel response with message id 0x01: a channel event


EVENT_RX_FAIL = 0x02


EVENT_TX = 0x03


BURST = 0x50


ANT_VERSION = 0x3E


PRODUCT_PAGE = bytes.fromhex("51 FF 2A 15 CD 5B 07 00")  # sw 2.142, serial 482253


MANUFACTURER_PAGE = bytes.fromhex("50 FF FF 01 20 01 0A 00")


def channel_event(channel: int, code: int) -> bytes:
    """A channel event frame (``40 <ch> 01 <code>``), as the stick sends them."""
    return frame(CHANNEL_EVENT, [channel, 0x01, code])

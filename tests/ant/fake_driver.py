"""A fake ANT USB stick behind openant's real ``Node``/``Ant`` code.

``FakeStick.install(monkeypatch)`` replaces ``openant.base.ant.find_driver`` (the
name ``Ant.__init__`` looks up) so every ``Node()`` gets a :class:`FakeDriver`
wired to this stick. The stick answers configuration commands with channel
responses (``A4 03 40 <ch> <msg id> 00 <xor>``), answers capability, serial,
version and channel-status requests, and plays broadcasts queued with
:meth:`FakeStick.queue_broadcast` on whichever open channel would hear them, with
extended data (``... 80 <dev lo> <dev hi> <type> <tt>``) once the host enabled it.

``unplug()`` makes every driver opened so far fail with ``USBError`` errno 19
(as libusb does for a vanished device) and makes ``find_driver`` raise
``DriverNotFound``; ``replug()`` lets a new driver open again. A
:class:`TroubledStick` can also fail writes and run a hook on a command.

Below the stick: the fast receiver settings, the device numbers and pages the
tests play, and the :class:`Recorder` that takes what a receiver hands over.
"""

from __future__ import annotations

import array
from collections import deque
from collections.abc import Callable
import errno
import threading
import time
from typing import Any

from openant.base import ant as openant_ant
from openant.base.driver import Driver, DriverNotFound
import pytest
from usb.core import USBError, USBTimeoutError

from custom_components.ridebalance.ant.pages import RawPage
from custom_components.ridebalance.ant.receiver import AntReceiver
from custom_components.ridebalance.ant.stick import ReceiverSettings, ReceiverState

SYNC = 0xA4
READ_WAIT_S = 0.02  # a real stick's read blocks up to 1 s; keep tests quick

# Message ids the fake understands.
BROADCAST = 0x4E
CHANNEL_RESPONSE = 0x40
ASSIGN = 0x42
SET_ID = 0x51
OPEN = 0x4B
CLOSE = 0x4C
REQUEST = 0x4D
RESET = 0x4A
OPEN_SCAN = 0x5B
ENABLE_EXT = 0x66
CAPABILITIES = 0x54
SERIAL = 0x61
VERSION = 0x3E
CHANNEL_STATUS = 0x52
STARTUP = 0x6F
INVALID_MESSAGE = 0x28


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


class _Channel:
    def __init__(self) -> None:
        self.device_number = 0
        self.device_type = 0
        self.is_open = False

    def hears(self, device_type: int, device_number: int) -> bool:
        return (
            self.is_open
            and self.device_type in (0, device_type)
            and self.device_number in (0, device_number & 0xFFFF)
        )


class FakeStick:
    """State of one fake stick, shared by every driver opened on it."""

    def __init__(self, *, scan_supported: bool = True, ext_supported: bool = True):
        self._cond = threading.Condition()
        self._stream: deque[bytes] = deque()
        self._air: deque[tuple[int, int, bytes, int]] = deque()
        self._generation = 0
        self._present = True
        self._silent = False
        self._open_errno: int | None = None
        self._read_errno: int | None = None
        self._scan_supported = scan_supported
        self._ext_supported = ext_supported
        self._channels: dict[int, _Channel] = {}
        self._scanning = False
        self._ext_enabled = False
        self.written: list[bytes] = []
        self.drivers_opened = 0
        self.unheard = 0  # broadcasts no open channel would receive

    # -- test API --------------------------------------------------------------

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Route openant's driver lookup here; skip the 1 s post-reset sleep."""
        monkeypatch.setattr(openant_ant, "find_driver", self.find_driver)
        monkeypatch.setattr(openant_ant.Ant, "_RESET_WAIT", 0)

    def queue_broadcast(
        self, device_type: int, device_number: int, page: bytes, tt: int = 0
    ) -> None:
        """Put one 8-byte page on the air from the given device."""
        assert len(page) == 8, "an ANT+ page is 8 bytes"
        with self._cond:
            self._air.append((device_type, device_number, bytes(page), tt))
            self._cond.notify_all()

    def queue_raw(self, data: bytes) -> None:
        """Bytes the next read returns as they are (for framing tests)."""
        with self._cond:
            self._stream.append(bytes(data))
            self._cond.notify_all()

    def unplug(self) -> None:
        """The stick vanishes: open handles fail with errno 19, lookups fail."""
        with self._cond:
            self._present = False
            self._generation += 1
            self._stream.clear()
            self._air.clear()
            self._reset_radio()
            self._cond.notify_all()

    def replug(self) -> None:
        """The stick is back; the next ``Node()`` can open it."""
        with self._cond:
            self._present = True

    def set_scan_supported(self, supported: bool) -> None:
        """Whether the capabilities answer advertises continuous scan mode."""
        with self._cond:
            self._scan_supported = supported

    def set_open_error(self, code: int | None) -> None:
        """Make opening fail with ``USBError`` of this errno (13, 16, ...)."""
        with self._cond:
            self._open_errno = code

    def fail_next_read(self, code: int) -> None:
        """The next read fails once with ``USBError`` of this errno (5 = EIO)."""
        with self._cond:
            self._read_errno = code
            self._cond.notify_all()

    def set_silent(self, silent: bool) -> None:
        """A hung stick: still enumerated, but it answers and sends nothing."""
        with self._cond:
            self._silent = silent

    @property
    def scanning(self) -> bool:
        """Whether the host opened continuous scan mode."""
        with self._cond:
            return self._scanning

    @property
    def open_channels(self) -> list[tuple[int, int, int]]:
        """(channel, device type, device number) of every open channel."""
        with self._cond:
            return [
                (number, ch.device_type, ch.device_number)
                for number, ch in sorted(self._channels.items())
                if ch.is_open
            ]

    def commands(self, message_id: int) -> list[bytes]:
        """Data of every written message with this id."""
        with self._cond:
            return [f[3:-1] for f in self.written if f[2] == message_id]

    # -- driver side -------------------------------------------------------------

    def find_driver(self) -> FakeDriver:
        with self._cond:
            if not self._present:
                raise DriverNotFound
            return FakeDriver(self, self._generation)

    def _gone(self, generation: int) -> bool:
        return not self._present or generation != self._generation

    def _open(self, generation: int) -> None:
        with self._cond:
            if self._gone(generation):
                raise USBError("No such device", -4, errno.ENODEV)
            if self._open_errno == errno.EACCES:
                raise USBError("Access denied (insufficient permissions)", -3, 13)
            if self._open_errno == errno.EBUSY:
                raise USBError("Resource busy", -6, errno.EBUSY)
            if self._open_errno is not None:
                raise USBError("I/O error", -1, self._open_errno)
            self.drivers_opened += 1

    def _read(self, generation: int) -> bytes:
        with self._cond:
            if self._gone(generation):
                raise USBError("No such device (it may have been disconnected)", -4, 19)
            if self._read_errno is not None:
                code, self._read_errno = self._read_errno, None
                raise USBError("Input/Output Error", -1, code)
            if not self._stream and not self._route_air():
                self._cond.wait(READ_WAIT_S)
                if self._gone(generation):
                    raise USBError("No such device", -4, errno.ENODEV)
                self._route_air()
            if self._stream and not self._silent:
                return self._stream.popleft()
        raise USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)

    def _route_air(self) -> bool:
        """Move on-air pages to the read stream; True if any arrived."""
        if not self._scanning and not any(c.is_open for c in self._channels.values()):
            return False  # nothing listening yet: keep them on air
        moved = False
        while self._air:
            device_type, number, page, tt = self._air.popleft()
            channel = self._listening_channel(device_type, number)
            if channel is None:
                self.unheard += 1
                continue
            ext_type = device_type if self._ext_enabled else None
            self._stream.append(broadcast_frame(channel, page, ext_type, number, tt))
            moved = True
        return moved

    def _listening_channel(self, device_type: int, number: int) -> int | None:
        if self._scanning:
            return 0
        for channel, state in sorted(self._channels.items()):
            if state.hears(device_type, number):
                return channel
        return None

    def _write(self, generation: int, data: bytes) -> None:
        with self._cond:
            if self._gone(generation):
                raise USBError("No such device", -4, errno.ENODEV)
            self.written.append(data)
            if self._silent:
                return
            message_id, body = data[2], data[3:-1]
            for reply in self._answer(message_id, body):
                self._stream.append(reply)
            self._cond.notify_all()

    def _reset_radio(self) -> None:
        self._channels.clear()
        self._scanning = False
        self._ext_enabled = False

    def _answer(self, message_id: int, body: bytes) -> list[bytes]:
        channel = body[0] if body else 0

        def ok() -> list[bytes]:
            return [frame(CHANNEL_RESPONSE, [channel, message_id, 0])]

        if message_id == RESET:
            self._reset_radio()
            return [frame(STARTUP, [0x20])]
        if message_id == REQUEST:
            return self._answer_request(channel, body[1])
        if message_id == ASSIGN:
            self._channels[channel] = _Channel()
        elif message_id == SET_ID:
            state = self._channels.setdefault(channel, _Channel())
            state.device_number = body[1] | body[2] << 8
            state.device_type = body[3]
        elif message_id == ENABLE_EXT:
            if not self._ext_supported:
                return [frame(CHANNEL_RESPONSE, [channel, message_id, INVALID_MESSAGE])]
            self._ext_enabled = bool(body[1])
        elif message_id == OPEN:
            self._channels.setdefault(channel, _Channel()).is_open = True
        elif message_id == CLOSE:
            self._channels.setdefault(channel, _Channel()).is_open = False
        elif message_id == OPEN_SCAN:
            if not self._scan_supported:
                return [frame(CHANNEL_RESPONSE, [channel, message_id, INVALID_MESSAGE])]
            self._scanning = True
        return ok()

    def _answer_request(self, channel: int, requested: int) -> list[bytes]:
        if requested == CAPABILITIES:
            options_2 = 0x01 | 0x20  # LED, extended assign
            if self._ext_supported:
                options_2 |= 0x02
            if self._scan_supported:
                options_2 |= 0x04
            return [frame(CAPABILITIES, [8, 8, 0x00, 0xBA, options_2, 0, 0, 0])]
        if requested == SERIAL:
            return [frame(SERIAL, [0x39, 0x30, 0x00, 0x00])]
        if requested == VERSION:
            return [frame(VERSION, list(b"AOV1.00B00\x00"))]
        if requested == CHANNEL_STATUS:
            state = self._channels.get(channel)
            status = 3 if state and state.is_open else 0
            return [frame(CHANNEL_STATUS, [channel, status])]
        return [frame(CHANNEL_RESPONSE, [channel, REQUEST, INVALID_MESSAGE])]


class FakeDriver(Driver):  # type: ignore[misc]
    """One opened handle on a :class:`FakeStick` (what ``find_driver`` returns)."""

    def __init__(self, stick: FakeStick, generation: int) -> None:
        self._stick = stick
        self._generation = generation

    def open(self) -> None:
        self._stick._open(self._generation)

    def close(self) -> None:
        with self._stick._cond:
            if self._stick._gone(self._generation):
                # libusb cannot re-attach the kernel driver of a vanished device
                raise USBError("No such device", -4, errno.ENODEV)

    def read(self) -> array.array[int]:
        return array.array("B", self._stick._read(self._generation))

    def write(self, data: Any) -> None:
        self._stick._write(self._generation, bytes(data))


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
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


type MakeReceiver = Callable[..., AntReceiver]


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


def channel_event(channel: int, code: int) -> bytes:
    """A channel event frame (``40 <ch> 01 <code>``), as the stick sends them."""
    return frame(CHANNEL_EVENT, [channel, 0x01, code])

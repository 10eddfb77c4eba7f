"""The frame guard: re-frames and checks every chunk read from the stick.

A corrupt frame (bad sync byte, length or checksum, or a message too short for
its id) would raise inside openant's reader thread and silently end reception;
the guard drops it and counts it instead. It also notes when bytes last arrived
and the first USB error, for the supervisor in :mod:`.receiver`.
"""

from __future__ import annotations

import array
from collections.abc import Callable, Mapping
import logging
import threading
import time
from typing import Any, Final

from openant.base.message import Message
import usb.core

_SYNC: Final = 0xA4
_MAX_MESSAGE_LENGTH: Final = 64  # longer "lengths" are noise, not ANT messages

# Minimum message length per message id; shorter ones would make openant index
# past the end and kill its reader thread.
_MIN_LENGTH: Final[Mapping[int, int]] = {
    Message.ID.BROADCAST_DATA: 9,
    Message.ID.ACKNOWLEDGED_DATA: 9,
    Message.ID.BURST_TRANSFER_DATA: 9,
    Message.ID.RESPONSE_CHANNEL: 3,
    Message.ID.RESPONSE_CHANNEL_STATUS: 2,
    Message.ID.RESPONSE_CHANNEL_ID: 5,
    Message.ID.RESPONSE_CAPABILITIES: 6,
    Message.ID.RESPONSE_SERIAL_NUMBER: 4,
}
_BROADCAST: Final = Message.ID.BROADCAST_DATA
_DATA_MESSAGES: Final = frozenset(
    {
        Message.ID.BROADCAST_DATA,
        Message.ID.ACKNOWLEDGED_DATA,
        Message.ID.BURST_TRANSFER_DATA,
    }
)


class Counters:
    """Thread-safe counters for diagnostics (written from three threads)."""

    NAMES: Final = (
        "frames_received",
        "malformed_frames",
        "stray_frames",
        "pages_received",
        "malformed_pages",
        "pages_filtered",
        "pages_delivered",
        "pages_dropped",
        "batches_delivered",
        "deliver_errors",
        "state_errors",
        "callback_errors",
        "usb_errors",
        "stale_links",
        "connects",
        "reconnects",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(self.NAMES, 0)

    def add(self, name: str, count: int = 1) -> None:
        with self._lock:
            self._values[name] += count

    def failed(
        self, name: str, err: Exception, logger: logging.Logger, message: str
    ) -> None:
        """Count an error being handled; only the first is logged, with its trace."""
        with self._lock:
            self._values[name] += 1
            first = self._values[name] == 1
        if first:
            logger.error("%s (repeats are counted in %s)", message, name, exc_info=err)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)


class FrameGuard:
    """Replaces the driver's ``read``: re-frames, validates and times the stream.

    It runs in openant's reader thread. USB errors are recorded (for the
    supervisor) instead of raised, after a short pause, so openant neither spins
    nor floods the log while the supervisor tears the node down.

    openant drops a broadcast whose bytes equal the frame before it: a coasting
    meter's repeated page, and with one device in range every repeat. The guard
    hands exactly those to ``on_repeat`` (channel number, page with its extended
    data), so a coasting rider's pedals are still heard.
    """

    def __init__(
        self, read: Callable[[], Any], counters: Counters, pause_s: float
    ) -> None:
        self._read = read
        self._counters = counters
        self._pause_s = pause_s
        self._buffer = bytearray()
        self.channel_count = 0  # data frames for higher channels are dropped
        self.last_rx = time.monotonic()
        self.fault: BaseException | None = None
        self.on_repeat: Callable[[int, bytes], None] | None = None
        self._last_passed = b""  # what openant compares the next message with

    def read(self) -> array.array[int]:
        try:
            chunk = self._read()
        except usb.core.USBTimeoutError:
            return array.array("B")
        except Exception as err:  # any read failure is a fault
            if self.fault is None:
                self.fault = err
                self._counters.add("usb_errors")
            time.sleep(self._pause_s)
            return array.array("B")
        if not chunk:
            return array.array("B")
        self.last_rx = time.monotonic()
        self._buffer.extend(bytes(chunk))
        return array.array("B", self._extract())

    def _extract(self) -> bytes:
        out = bytearray()
        buf = self._buffer
        resyncing = False  # count one drop per damaged stretch, not per byte
        while buf:
            start = buf.find(_SYNC)
            if start != 0:
                if not resyncing:
                    self._counters.add("malformed_frames")
                    resyncing = True
                if start < 0:
                    buf.clear()
                    break
                del buf[:start]
            if len(buf) < 2:
                break
            length = buf[1]
            if length == 0 or length > _MAX_MESSAGE_LENGTH:
                self._drop_sync(resyncing)
                resyncing = True
                continue
            total = length + 4
            if len(buf) < total:
                break  # wait for the rest of the frame
            frame = bytes(buf[:total])
            checksum = 0
            for byte in frame:
                checksum ^= byte
            if checksum != 0 or not self._plausible(frame):
                self._drop_sync(resyncing)
                resyncing = True
                continue
            del buf[:total]
            resyncing = False
            self._counters.add("frames_received")
            if frame[2] in _DATA_MESSAGES and (frame[3] & 0x1F) >= self.channel_count:
                self._counters.add("stray_frames")
                continue
            data = frame[3:-1]
            if frame[2] == _BROADCAST and data == self._last_passed and self.on_repeat:
                self.on_repeat(data[0] & 0x1F, data[1:])
            self._last_passed = data
            out += frame
        return bytes(out)

    def _drop_sync(self, resyncing: bool) -> None:
        if not resyncing:
            self._counters.add("malformed_frames")
        del self._buffer[:1]

    @staticmethod
    def _plausible(frame: bytes) -> bool:
        return frame[1] >= _MIN_LENGTH.get(frame[2], 1)

"""The ANT side of a simulated ANTUSB2: host messages in, replies and radio out.

What it does, after the ANT message protocol and a capture of a real ANTUSB2:

* RESET (0x4A) clears every channel and answers with the start-up message 0x6F.
* Requests (0x4D) for capabilities (``08 03 00 BA 36 00``; advanced-2 0x32 on the
  variant without scan mode), version ``AP2USB1.05``, serial number, channel
  status and channel id.
* Configuration commands get a channel response ``40 <ch> <msg id> <code>``, with
  the error codes a real stick uses for wrong states and unsupported commands.
* A channel opened with a wildcard id searches and locks onto the FIRST device of
  its type it hears (respecting the inclusion/exclusion list 0x59/0x5A), then hears
  only that device. A lost slot of the tracked device is ``EVENT_RX_FAIL``; two
  seconds of them drop the channel back to search (``EVENT_RX_FAIL_GO_TO_SEARCH``).
  Search runs at low priority for the low-priority timeout (0x63), then at high
  priority for the search timeout (0x44), both in 2.5 s units, 0xFF endless, then
  ``EVENT_RX_SEARCH_TIMEOUT`` and ``EVENT_CHANNEL_CLOSED``. While any channel
  searches at high priority, the other channels lose every other slot.
* Continuous scan mode (0x5B, when the capabilities have it) hears every device.
* Broadcasts carry extended data ``80 <dev lo> <dev hi> <type> <tt>`` once the
  host enabled it (0x66).

A channel hears a device only on the ANT+ network key and RF channel 57.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from openant.devices import ANTPLUS_NETWORK_KEY

from .air import ANTPLUS_RF, Transmission

SYNC = 0xA4
NO_ERROR = 0x00
CHANNEL_IN_WRONG_STATE = 0x15
INVALID_MESSAGE = 0x28
INVALID_NETWORK_NUMBER = 0x29
INVALID_LIST_ID = 0x30

EVENT_RX_SEARCH_TIMEOUT = 0x01
EVENT_RX_FAIL = 0x02
EVENT_CHANNEL_CLOSED = 0x07
EVENT_RX_FAIL_GO_TO_SEARCH = 0x08

CAPABILITIES_SCAN = bytes.fromhex("080300BA3600")
CAPABILITIES_NO_SCAN = bytes.fromhex("080300BA3200")
VERSION = b"AP2USB1.05\x00"
SERIAL_NUMBER = 0x3A2B1C0D
GO_TO_SEARCH_AFTER_S = 2.0  # of missed slots (at least four)
SEARCH_UNIT_S = 2.5
ENDLESS = 0xFF


def frame(message_id: int, data: Iterable[int]) -> bytes:
    """An ANT serial frame: sync, length, id, data, XOR checksum."""
    payload = bytes(data)
    body = bytes([SYNC, len(payload), message_id]) + payload
    checksum = 0
    for byte in body:
        checksum ^= byte
    return body + bytes([checksum])


def parse_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(message id, data) of each complete, valid frame; the rest is ignored."""
    out = []
    i = 0
    while i + 4 <= len(data):
        if data[i] != SYNC:
            i += 1
            continue
        length = data[i + 1]
        end = i + length + 4
        checksum = 0
        for byte in data[i:end]:
            checksum ^= byte
        if end <= len(data) and checksum == 0:
            out.append((data[i + 2], bytes(data[i + 3 : end - 1])))
            i = end
        else:
            i += 1
    return out


type ChannelId = tuple[int, int, int]  # device number, device type, tt


class ChannelStatus(IntEnum):
    """Channel status as the stick reports it (0x52, bits 0-1)."""

    UNASSIGNED = 0
    ASSIGNED = 1
    SEARCHING = 2
    TRACKING = 3


@dataclass
class Channel:
    """One of the stick's channels, as configured by the host."""

    number: int
    status: ChannelStatus = ChannelStatus.UNASSIGNED
    channel_type: int = 0
    network: int = 0
    wanted: ChannelId = (0, 0, 0)
    period: int = 8192
    rf: int = 66
    high_timeout: int = 10
    low_timeout: int = 2
    id_list: list[ChannelId] = field(default_factory=list)
    list_size: int = 0
    exclude: bool = False
    locked: ChannelId | None = None
    search_started_s: float = 0.0
    missed: int = 0
    disturbed: int = 0

    def matches(self, heard: ChannelId) -> bool:
        """Whether a device with this id fits the channel's id mask and list."""
        if any(
            want not in (0, got) for want, got in zip(self.wanted, heard, strict=True)
        ):
            return False
        if self.list_size == 0:
            return True
        listed = any(
            all(want in (0, got) for want, got in zip(entry, heard, strict=True))
            for entry in self.id_list[: self.list_size]
        )
        return listed != self.exclude

    def search_phase(self, now_s: float) -> str:
        """``low``, ``high`` or ``over`` for a searching channel."""
        elapsed = now_s - self.search_started_s
        low = float("inf") if self.low_timeout == ENDLESS else self.low_timeout
        high = float("inf") if self.high_timeout == ENDLESS else self.high_timeout
        if elapsed < low * SEARCH_UNIT_S:
            return "low"
        if elapsed < (low + high) * SEARCH_UNIT_S:
            return "high"
        return "over"


class Firmware:
    """The ANT chip of one stick: it lives from plug-in to unplug."""

    def __init__(
        self,
        clock: Callable[[], float],
        emit: Callable[[bytes], None],
        *,
        scan_mode: bool = True,
        extended: bool = True,
        serial_number: int = SERIAL_NUMBER,
    ) -> None:
        """A stick that answers through ``emit`` (one frame per call).

        ``extended=False`` is an older stick without extended messages.
        """
        self._clock = clock
        self._emit = emit
        self.scan_mode_supported = scan_mode
        self.extended_supported = extended
        self.advanced_options = CAPABILITIES_SCAN[3]  # 0x80 search lists, 0x20 low
        self.serial_number = serial_number
        self.silent = False  # a hung stick: takes commands, sends nothing
        self.received: list[tuple[int, bytes]] = []
        self.resets = 0
        self._reset_state()

    def _reset_state(self) -> None:
        self.channels = [Channel(n) for n in range(8)]
        self.network_keys: dict[int, bytes] = {}
        self.scanning = False
        self.extended = False

    # -- host side ----------------------------------------------------------------

    def host_write(self, data: bytes) -> None:
        """Handle what the host wrote to the OUT endpoint."""
        for message_id, body in parse_frames(data):
            self.received.append((message_id, body))
            if self.silent:
                continue
            for reply in self._handle(message_id, body):
                self._emit(reply)

    def commands(self, message_id: int) -> list[bytes]:
        """Data of every message the host sent with this id."""
        return [body for mid, body in self.received if mid == message_id]

    def _send(self, replies: list[bytes], message_id: int, data: Iterable[int]) -> None:
        replies.append(frame(message_id, data))

    def _handle(self, message_id: int, body: bytes) -> list[bytes]:
        replies: list[bytes] = []
        if message_id == 0x4A:  # reset
            self.resets += 1
            self._reset_state()
            self._send(replies, 0x6F, [0x20])  # start-up: command reset
            return replies
        if message_id == 0x4D:
            return self._request(body[0] & 0x1F, body[1])
        if message_id == 0x46:  # network key
            if body[0] >= 3:
                return [frame(0x40, [body[0], message_id, INVALID_NETWORK_NUMBER])]
            self.network_keys[body[0]] = bytes(body[1:9])
            return [frame(0x40, [body[0], message_id, NO_ERROR])]
        if message_id == 0x66:  # enable extended messages (stick-wide)
            if not self.extended_supported:
                return [frame(0x40, [body[0], message_id, INVALID_MESSAGE])]
            self.extended = bool(body[1])
            return [frame(0x40, [body[0], message_id, NO_ERROR])]
        number = body[0] if body else 0
        if number >= len(self.channels):
            return [frame(0x40, [number, message_id, INVALID_MESSAGE])]
        code = self._configure(self.channels[number], message_id, body, replies)
        replies.insert(0, frame(0x40, [number, message_id, code]))
        return replies

    def _configure(
        self, ch: Channel, message_id: int, body: bytes, events: list[bytes]
    ) -> int:
        """Apply one channel command; events it causes go to ``events``."""
        closed = ch.status is ChannelStatus.ASSIGNED
        if message_id == 0x42:  # assign
            if ch.status is not ChannelStatus.UNASSIGNED:
                return CHANNEL_IN_WRONG_STATE
            ch.status = ChannelStatus.ASSIGNED
            ch.channel_type, ch.network = body[1], body[2]
            return NO_ERROR
        if ch.status is ChannelStatus.UNASSIGNED:
            return CHANNEL_IN_WRONG_STATE
        if message_id == 0x41:  # unassign
            if not closed:
                return CHANNEL_IN_WRONG_STATE
            self.channels[ch.number] = Channel(ch.number)
        elif message_id == 0x51:  # channel id
            ch.wanted = (body[1] | body[2] << 8, body[3], body[4])
        elif message_id == 0x43:
            ch.period = body[1] | body[2] << 8
        elif message_id == 0x44:
            ch.high_timeout = body[1]
        elif message_id == 0x63:
            ch.low_timeout = body[1]
        elif message_id == 0x45:
            ch.rf = body[1]
        elif message_id == 0x59:  # add channel id to list
            index = body[5]
            if index > 3:
                return INVALID_LIST_ID
            entry = (body[1] | body[2] << 8, body[3], body[4])
            while len(ch.id_list) <= index:
                ch.id_list.append((0, 0, 0))
            ch.id_list[index] = entry
        elif message_id == 0x5A:  # configure list
            if body[1] > 4:
                return INVALID_LIST_ID
            ch.list_size, ch.exclude = body[1], bool(body[2])
        elif message_id == 0x4B:  # open
            if not closed or self.scanning:
                return CHANNEL_IN_WRONG_STATE
            self._start_search(ch)
        elif message_id == 0x5B:  # continuous scan mode
            if not self.scan_mode_supported:
                return INVALID_MESSAGE
            others_open = any(
                c.status > ChannelStatus.ASSIGNED for c in self.channels if c is not ch
            )
            if not closed or others_open:
                return CHANNEL_IN_WRONG_STATE
            self.scanning = True
            ch.status = ChannelStatus.TRACKING
        elif message_id == 0x4C:  # close
            if closed:
                return CHANNEL_IN_WRONG_STATE
            self._close(ch, events)
        return NO_ERROR

    def _request(self, number: int, requested: int) -> list[bytes]:
        if requested == 0x54:
            caps = bytearray(
                CAPABILITIES_SCAN if self.scan_mode_supported else CAPABILITIES_NO_SCAN
            )
            caps[3] = self.advanced_options
            if not self.extended_supported:
                caps[4] &= ~0x02
            return [frame(0x54, caps)]
        if requested == 0x3E:
            return [frame(0x3E, VERSION)]
        if requested == 0x61:
            return [frame(0x61, self.serial_number.to_bytes(4, "little"))]
        if number >= len(self.channels):
            return [frame(0x40, [number, 0x4D, INVALID_MESSAGE])]
        ch = self.channels[number]
        if requested == 0x52:
            status = int(ch.status) | (ch.network << 2) | (ch.channel_type & 0xF0)
            return [frame(0x52, [number, status])]
        if requested == 0x51:
            number_, type_, tt = ch.locked or ch.wanted
            return [frame(0x51, [number, number_ & 0xFF, number_ >> 8, type_, tt])]
        return [frame(0x40, [number, 0x4D, INVALID_MESSAGE])]

    def _start_search(self, ch: Channel) -> None:
        ch.status = ChannelStatus.SEARCHING
        ch.locked = None
        ch.missed = 0
        ch.search_started_s = self._clock()

    def _close(self, ch: Channel, events: list[bytes]) -> None:
        if self.scanning and ch.number == 0:
            self.scanning = False
        ch.status = ChannelStatus.ASSIGNED
        ch.locked = None
        events.append(frame(0x40, [ch.number, 0x01, EVENT_CHANNEL_CLOSED]))

    # -- radio side ---------------------------------------------------------------

    def radio(self, transmissions: Iterable[Transmission], until_s: float) -> int:
        """Receive what was on the air, in time order, and run search timers.

        Returns how many transmissions some channel received.
        """
        heard = 0
        for tx in transmissions:
            self._expire_searches(tx.t_s)
            heard += self._receive(tx)
        self._expire_searches(until_s)
        return heard

    def _event(self, ch: Channel, code: int) -> None:
        if not self.silent:
            self._emit(frame(0x40, [ch.number, 0x01, code]))

    def _expire_searches(self, now_s: float) -> None:
        for ch in self.channels:
            if (
                ch.status is ChannelStatus.SEARCHING
                and ch.search_phase(now_s) == "over"
            ):
                self._event(ch, EVENT_RX_SEARCH_TIMEOUT)
                events: list[bytes] = []
                self._close(ch, events)
                for event in events:
                    if not self.silent:
                        self._emit(event)

    def _hears(self, ch: Channel) -> bool:
        key = self.network_keys.get(ch.network)
        return (
            key == bytes(ANTPLUS_NETWORK_KEY)
            and ch.rf == ANTPLUS_RF
            and ch.channel_type & 0x10 == 0  # a receiving channel
        )

    def _receive(self, tx: Transmission) -> bool:
        heard: ChannelId = (tx.device_number, tx.device_type, tx.transmission_type)
        if self.scanning:
            scan = self.channels[0]
            if tx.page is not None and self._hears(scan) and scan.matches(heard):
                self._deliver(scan, tx)
                return True
            return False
        high_search = any(
            ch.status is ChannelStatus.SEARCHING and ch.search_phase(tx.t_s) == "high"
            for ch in self.channels
        )
        received = False
        for ch in self.channels:
            if ch.status is ChannelStatus.TRACKING and ch.locked == heard:
                received |= self._track(ch, tx, disturbed=high_search)
        for ch in self.channels:
            if (
                ch.status is ChannelStatus.SEARCHING
                and tx.page is not None
                and self._hears(ch)
                and ch.matches(heard)
            ):
                ch.status = ChannelStatus.TRACKING
                ch.locked = heard
                ch.missed = 0
                self._deliver(ch, tx)
                return True  # one searching channel takes a device
        return received

    def _track(self, ch: Channel, tx: Transmission, *, disturbed: bool) -> bool:
        if disturbed:
            ch.disturbed += 1
        if tx.page is None or (disturbed and ch.disturbed % 2 == 1):
            ch.missed += 1
            if ch.missed >= max(4, round(GO_TO_SEARCH_AFTER_S / tx_period_s(ch))):
                self._event(ch, EVENT_RX_FAIL_GO_TO_SEARCH)
                self._start_search(ch)
                ch.search_started_s = tx.t_s
            else:
                self._event(ch, EVENT_RX_FAIL)
            return False
        ch.missed = 0
        self._deliver(ch, tx)
        return True

    def _deliver(self, ch: Channel, tx: Transmission) -> None:
        assert tx.page is not None
        data = bytes([ch.number]) + tx.page
        if self.extended:
            number = tx.device_number
            data += bytes(
                [0x80, number & 0xFF, number >> 8, tx.device_type, tx.transmission_type]
            )
        if not self.silent:
            self._emit(frame(0x4E, data))


def tx_period_s(ch: Channel) -> float:
    """The channel's message period in seconds."""
    return ch.period / 32768

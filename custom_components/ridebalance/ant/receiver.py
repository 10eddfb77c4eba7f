"""Receive raw ANT+ pages from a USB stick, in a worker thread, and survive unplugs.

openant 1.3.4 does the USB and channel plumbing; this module adds what it lacks:

* **Detection, not assumption**: the stick's capabilities answer decides between
  one receive-only continuous-scan channel (hears every device) and one slave
  channel per profile (power 11, FE-C 17, heart rate 120).
* **Framing guard**: every chunk read from the stick is re-framed and checked
  (sync byte, length, checksum) before openant sees it. A corrupt frame would
  otherwise raise inside openant's reader thread and silently end reception.
* **Batching**: pages reach the caller's ``deliver(batch)`` from one thread, every
  ``batch_interval_s`` or ``batch_max_pages`` pages, never one call per page.
* **Supervision**: openant does not report a vanished stick (it logs and loops).
  USB errors seen by the guard, a dead openant thread, or a stick that stays
  silent and does not answer a status request mark the connection lost; the node
  is torn down and rebuilt with capped exponential backoff, the state change is
  reported once, and pages flow again without a restart.

Threads, per connection: ``ridebalance-ant`` (supervisor: opens and configures the
node, flushes batches, watches health, calls ``deliver`` and ``on_state``),
``ridebalance-ant-node`` (runs ``Node.start()``; channel callbacks run here and only
append to a locked list), plus openant's own ``openant.easy`` and ``openant.base``.
:meth:`AntReceiver.stop` ends and joins them all.

Filtering: with a paired device number, only that device's pages of the profile's
device type are delivered; an unpaired role (``None``) lets every device of its type
through, and the caller picks. Other device types are dropped (``scan`` sees all).

openant drops a broadcast that is byte-identical to the previous frame (extended
data included), so an unchanged repeat of a page is never delivered; repeats carry
no new event anyway. openant offers no hooks for the guard, the interruptible
first reply and the queue trimming, so they use its private ``ant._driver``,
``_responses``/``_events`` and ``_worker_thread`` attributes (checked against
1.3.4, the pinned version).
"""

from __future__ import annotations

import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
import logging
import threading
import time
from typing import Any, Final

from openant.base.message import Message
from openant.devices import ANTPLUS_NETWORK_KEY
from openant.easy.channel import Channel
from openant.easy.node import Node
import usb.core

from .pages import (
    COMMON_PAGE_MANUFACTURER,
    COMMON_PAGE_PRODUCT,
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
    DEVICE_TYPE_HEART_RATE,
    RawPage,
)
from .usb_errors import (
    AntStickError,
    AntStickNotFoundError,
    AntStickNotRespondingError,
    classify_open_error,
    is_device_gone,
)

_LOGGER = logging.getLogger(__name__)

ANT_PLUS_RF_CHANNEL: Final = 57  # 2457 MHz
CHANNEL_PERIODS: Final[Mapping[int, int]] = {
    DEVICE_TYPE_BICYCLE_POWER: 8182,
    DEVICE_TYPE_FITNESS_EQUIPMENT: 8192,
    DEVICE_TYPE_HEART_RATE: 8070,
}
PROFILE_NAMES: Final[Mapping[int, str]] = {
    DEVICE_TYPE_BICYCLE_POWER: "bicycle_power",
    DEVICE_TYPE_FITNESS_EQUIPMENT: "fitness_equipment",
    DEVICE_TYPE_HEART_RATE: "heart_rate",
    121: "speed_cadence",
    122: "cadence",
    123: "speed",
}

_SYNC: Final = 0xA4
_MAX_MESSAGE_LENGTH: Final = 64  # longer "lengths" are noise, not ANT messages
_INFINITE_SEARCH: Final = 0xFF
_EXT_FLAG_CHANNEL_ID: Final = 0x80
_CAP_EXT_MESSAGES: Final = 0x02  # advanced options 2 (capabilities byte 4)
_CAP_SCAN_MODE: Final = 0x04
_PAGE_LENGTH: Final = 8
_PENDING_LIMIT: Final = 10_000  # pages kept while the caller's deliver is slow
_OPENANT_QUEUE_LIMIT: Final = 64  # openant keeps every reply and event it never uses
_HOUSEKEEPING_S: Final = 5.0

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
_DATA_MESSAGES: Final = frozenset(
    {
        Message.ID.BROADCAST_DATA,
        Message.ID.ACKNOWLEDGED_DATA,
        Message.ID.BURST_TRANSFER_DATA,
    }
)

type Deliver = Callable[[list[RawPage]], None]
type OnState = Callable[["ReceiverState", str | None], None]
type Describe = Callable[[int, Mapping[int, bytes]], str | None]


class ReceiverState(StrEnum):
    """Connection state reported through ``on_state``."""

    STARTING = "starting"
    CONNECTED = "connected"
    STALE = "stale"  # the stick went silent and stopped answering
    DISCONNECTED = "disconnected"  # the stick is gone (unplugged, not found)
    ERROR = "error"  # busy, permission denied, USB or openant failure
    STOPPED = "stopped"


class ReceiveMode(StrEnum):
    """How the stick listens."""

    SCAN = "scan"  # one continuous-scan channel, every device
    CHANNELS = "channels"  # one slave channel per profile


@dataclass(frozen=True, slots=True)
class Pairing:
    """Device numbers to receive; ``None`` = unpaired (any device of that type)."""

    pedals: int | None = None
    trainer: int | None = None
    heart_rate: int | None = None

    def number_for(self, device_type: int) -> int | None:
        """The paired number for a device type (``None``: unpaired or unknown)."""
        return {
            DEVICE_TYPE_BICYCLE_POWER: self.pedals,
            DEVICE_TYPE_FITNESS_EQUIPMENT: self.trainer,
            DEVICE_TYPE_HEART_RATE: self.heart_rate,
        }.get(device_type)

    def accepts(self, page: RawPage) -> bool:
        """Whether a page comes from a device this pairing wants."""
        if page.device_type not in CHANNEL_PERIODS:
            return False
        wanted = self.number_for(page.device_type)
        if wanted is None:
            return True
        return wanted in (page.device_number, page.extended_device_number)


@dataclass(frozen=True, slots=True)
class ReceiverSettings:
    """Timing and radio settings; the defaults suit a real stick."""

    stale_after_s: float = 10.0  # silence before the stick is asked for its status
    probe_timeout_s: float = 3.0  # no answer within this → STALE, rebuild
    batch_interval_s: float = 0.2
    batch_max_pages: int = 32
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    stop_timeout_s: float = 2.0
    usb_error_pause_s: float = 0.1  # keeps openant's reader from spinning on errors
    rf_channel: int = ANT_PLUS_RF_CHANNEL
    network_key: tuple[int, ...] = tuple(ANTPLUS_NETWORK_KEY)
    prefer_scan_mode: bool = True
    reply_timeout_s: float = 5.0  # for the stick's first answer after opening


@dataclass(frozen=True, slots=True)
class StickInfo:
    """What the stick said about itself when it was opened."""

    max_channels: int
    scan_mode: bool
    extended_messages: bool
    capabilities: bytes
    serial_number: int | None = None
    ant_version: str | None = None


@dataclass(frozen=True, slots=True)
class HeardDevice:
    """One device heard during :func:`scan`."""

    device_type: int
    device_number: int
    transmission_type: int
    page_count: int
    pages: Mapping[int, bytes] = field(default_factory=dict)  # latest by page no.
    description: str | None = None

    @property
    def profile(self) -> str:
        """Profile name of the device type (``"unknown"`` for other types)."""
        return PROFILE_NAMES.get(self.device_type, "unknown")

    @property
    def extended_device_number(self) -> int:
        """20-bit device number (transmission type high nibble on top)."""
        return ((self.transmission_type & 0xF0) << 12) | self.device_number

    @property
    def manufacturer_page(self) -> bytes | None:
        """Raw common page 0x50 (manufacturer id, model), if it was heard."""
        return self.pages.get(COMMON_PAGE_MANUFACTURER)

    @property
    def product_page(self) -> bytes | None:
        """Raw common page 0x51 (software version, serial), if it was heard."""
        return self.pages.get(COMMON_PAGE_PRODUCT)


class _Counters:
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
        "callback_errors",
        "usb_errors",
        "stale_events",
        "connects",
        "reconnects",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(self.NAMES, 0)

    def add(self, name: str, count: int = 1) -> None:
        with self._lock:
            self._values[name] += count

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)


class _FrameGuard:
    """Replaces the driver's ``read``: re-frames, validates and times the stream.

    It runs in openant's reader thread. USB errors are recorded (for the
    supervisor) instead of raised, after a short pause, so openant neither spins
    nor floods the log while the supervisor tears the node down.
    """

    def __init__(
        self, read: Callable[[], Any], counters: _Counters, pause_s: float
    ) -> None:
        self._read = read
        self._counters = counters
        self._pause_s = pause_s
        self._buffer = bytearray()
        self.channel_count = 0  # data frames for higher channels are dropped
        self.last_rx = time.monotonic()
        self.fault: BaseException | None = None

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
            out += frame
        return bytes(out)

    def _drop_sync(self, resyncing: bool) -> None:
        if not resyncing:
            self._counters.add("malformed_frames")
        del self._buffer[:1]

    @staticmethod
    def _plausible(frame: bytes) -> bool:
        return frame[1] >= _MIN_LENGTH.get(frame[2], 1)


class _OpenCancelledError(Exception):
    """Opening was abandoned because the receiver is stopping."""


class _Session:
    """One openant Node: open, configure, run, close. Never reused."""

    def __init__(
        self,
        settings: ReceiverSettings,
        counters: _Counters,
        on_page: Callable[[RawPage], None],
        pairing: Pairing | None,
        cancel: threading.Event | None = None,
    ) -> None:
        self._settings = settings
        self._cancel = cancel
        self._counters = counters
        self._on_page = on_page
        self._pairing = pairing  # None: deliver every device (scan)
        self._node: Any = None
        self._guard: _FrameGuard | None = None
        self._runner: threading.Thread | None = None
        self._run_error: BaseException | None = None
        self._closed = False
        self._callback_error_logged = False
        self.info: StickInfo | None = None
        self.mode: ReceiveMode | None = None

    # -- lifecycle ---------------------------------------------------------------

    def open(self, *, configure: bool = True) -> None:
        """Open the stick and start receiving; raises :class:`AntStickError`."""
        try:
            self._node = Node()
        except Exception as err:
            raise classify_open_error(err) from err
        try:
            self._install_guard()
            self.info = self._query_stick()
            if configure:
                self._configure()
                self.info = self._with_identity(self.info)
                self._runner = threading.Thread(
                    target=self._run_node, name="ridebalance-ant-node"
                )
                self._runner.start()
        except _OpenCancelledError:
            self.close()
            raise
        except Exception as err:
            self.close()
            raise classify_open_error(err) from err

    def close(self, timeout_s: float | None = None) -> None:
        """Stop the node and join every thread it started, within ``timeout_s``."""
        if self._closed:
            return
        self._closed = True
        node = self._node
        if node is None:
            return
        deadline = time.monotonic() + (
            self._settings.stop_timeout_s if timeout_s is None else timeout_s
        )
        try:
            node.stop()
        except Exception as err:  # a vanished stick fails to close
            _LOGGER.debug("Closing the ANT+ node: %r", err)
        threads = [
            self._runner,
            getattr(node, "_worker_thread", None),
            getattr(getattr(node, "ant", None), "_worker_thread", None),
        ]
        for thread in threads:
            if isinstance(thread, threading.Thread) and thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
                if thread.is_alive():
                    _LOGGER.warning("Thread %s did not stop in time", thread.name)

    # -- health --------------------------------------------------------------------

    @property
    def last_rx(self) -> float:
        """Monotonic time of the last bytes read from the stick."""
        return self._guard.last_rx if self._guard else time.monotonic()

    def check(self) -> tuple[ReceiverState, str] | None:
        """A fault that ends this session, or ``None`` while all is well."""
        fault = self._guard.fault if self._guard else None
        if fault is not None:
            if is_device_gone(fault):
                return ReceiverState.DISCONNECTED, f"ANT+ stick unplugged ({fault})"
            return ReceiverState.ERROR, f"USB error from the ANT+ stick: {fault!r}"
        if self._runner is not None and not self._runner.is_alive():
            return (
                ReceiverState.ERROR,
                f"openant receive loop stopped: {self._run_error!r}",
            )
        node = self._node
        for thread in (
            getattr(node, "_worker_thread", None),
            getattr(getattr(node, "ant", None), "_worker_thread", None),
        ):
            if isinstance(thread, threading.Thread) and not thread.is_alive():
                return ReceiverState.ERROR, f"openant thread {thread.name} stopped"
        return None

    def probe(self) -> None:
        """Ask the stick for channel 0's status; any answer counts as alive.

        Liveness is measured on the bytes read, so even an error response proves
        the stick is there.
        """
        self._node.ant.request_message(0, Message.ID.RESPONSE_CHANNEL_STATUS)

    def housekeeping(self) -> None:
        """Trim openant's reply and event queues, which nothing else empties."""
        node = self._node
        for cond_name, queue_name in (
            ("_responses_cond", "_responses"),
            ("_event_cond", "_events"),
        ):
            cond = getattr(node, cond_name, None)
            pending = getattr(node, queue_name, None)
            if cond is None or pending is None:
                continue
            with cond:
                while len(pending) > _OPENANT_QUEUE_LIMIT:
                    pending.popleft()

    # -- setup -----------------------------------------------------------------

    def _install_guard(self) -> None:
        driver = self._node.ant._driver  # openant has no hook for this
        self._guard = _FrameGuard(
            driver.read, self._counters, self._settings.usb_error_pause_s
        )
        driver.read = self._guard.read

    def _query_stick(self) -> StickInfo:
        caps = self._wait_reply(Message.ID.RESPONSE_CAPABILITIES)
        options_2 = caps[4] if len(caps) > 4 else 0
        return self._with_identity(
            StickInfo(
                max_channels=caps[0],
                scan_mode=bool(options_2 & _CAP_SCAN_MODE),
                extended_messages=bool(options_2 & _CAP_EXT_MESSAGES),
                capabilities=caps,
            )
        )

    def _wait_reply(self, message_id: int) -> bytes:
        """Wait for a reply openant queued, giving up early if asked to stop.

        The first answer is where a hung stick shows; openant's own wait would
        hold ``stop()`` for up to 10 s there.
        """
        node = self._node
        deadline = time.monotonic() + self._settings.reply_timeout_s
        with node._responses_cond:
            while True:
                for reply in node._responses:
                    if reply[1] == message_id:
                        node._responses.remove(reply)
                        return bytes(reply[2])
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AntStickNotRespondingError(
                        "The ANT+ stick opened but did not answer"
                    )
                if self._cancel is not None and self._cancel.is_set():
                    raise _OpenCancelledError
                node._responses_cond.wait(min(remaining, 0.1))

    def _with_identity(self, info: StickInfo) -> StickInfo:
        # openant stores serial and version whenever their answers arrive.
        serial = getattr(self._node, "serial", None)
        version = getattr(self._node, "ant_version", None)
        return replace(
            info,
            serial_number=serial if isinstance(serial, int) else None,
            ant_version=version.rstrip("\x00 ") if isinstance(version, str) else None,
        )

    def _configure(self) -> None:
        assert self.info is not None
        assert self._guard is not None
        settings = self._settings
        node = self._node
        node.set_network_key(0, list(settings.network_key))
        receive_only = Channel.Type.UNIDIRECTIONAL_RECEIVE_ONLY
        # Scan mode without extended data could not tell devices apart.
        info = self.info
        if info.scan_mode and info.extended_messages and settings.prefer_scan_mode:
            channel = node.new_channel(receive_only)
            self._bind(channel, None)
            channel.set_id(0, 0, 0)
            channel.set_rf_freq(settings.rf_channel)
            channel.enable_extended_messages(1)  # checked above: the stick has it
            self._guard.channel_count = 1
            channel.open_rx_scan_mode()  # openant always scans on channel 0
            self.mode = ReceiveMode.SCAN
            return
        pairing = self._pairing or Pairing()
        ext_enabled = False
        for device_type, period in CHANNEL_PERIODS.items():
            number = pairing.number_for(device_type) or 0
            channel = node.new_channel(receive_only)
            self._bind(channel, (device_type, number & 0xFFFF))
            channel.set_id(number & 0xFFFF, device_type, 0)
            channel.set_period(period)
            channel.set_search_timeout(_INFINITE_SEARCH)  # keep searching, never close
            channel.set_rf_freq(settings.rf_channel)
            if self.info.extended_messages and not ext_enabled:
                channel.enable_extended_messages(1)  # stick-wide setting
                ext_enabled = True
            self._guard.channel_count = channel.id + 1
            channel.open()
        self.mode = ReceiveMode.CHANNELS

    def _bind(self, channel: Any, identity: tuple[int, int] | None) -> None:
        def on_data(data: Any) -> None:
            self._on_data(identity, data)

        def ignore(_data: Any) -> None:
            return

        channel.on_broadcast_data = on_data
        channel.on_acknowledge_data = on_data
        channel.on_burst_data = ignore
        channel.on_broadcast_tx_data = ignore

    def _run_node(self) -> None:
        try:
            self._node.start()
        except BaseException as err:  # reported through check()
            self._run_error = err

    # -- data (runs in the node thread) -------------------------------------------

    def _on_data(self, identity: tuple[int, int] | None, data: Any) -> None:
        # An exception escaping here would end openant's start(): catch all.
        try:
            payload = bytes(data)
            if len(payload) < _PAGE_LENGTH:
                self._counters.add("malformed_pages")
                return
            if len(payload) > _PAGE_LENGTH and payload[8] & _EXT_FLAG_CHANNEL_ID:
                if len(payload) < 13:
                    self._counters.add("malformed_pages")
                    return
                device_number = payload[9] | payload[10] << 8
                device_type = payload[11]
                transmission_type = payload[12]
            elif identity is not None:
                # No extended data: the channel's own id is the best we know.
                device_type, device_number = identity
                transmission_type = 0
            else:
                self._counters.add("malformed_pages")
                return
            self._counters.add("pages_received")
            page = RawPage(
                timestamp_s=time.monotonic(),
                device_type=device_type,
                device_number=device_number,
                transmission_type=transmission_type,
                data=payload[:_PAGE_LENGTH],
            )
            if self._pairing is not None and not self._pairing.accepts(page):
                self._counters.add("pages_filtered")
                return
            self._on_page(page)
        except Exception:
            self._counters.add("callback_errors")
            if not self._callback_error_logged:
                self._callback_error_logged = True
                _LOGGER.exception("Error handling an ANT+ page")


class AntReceiver:
    """Receives raw ANT+ pages in the background and hands them over in batches.

    ``deliver`` and ``on_state`` are called from the receiver's supervisor thread
    (one thread, never concurrently); wrap them with ``call_soon_threadsafe`` to
    reach an event loop. Exceptions they raise are counted and logged, not fatal.
    """

    def __init__(
        self,
        deliver: Deliver,
        on_state: OnState | None = None,
        *,
        pairing: Pairing | None = None,
        settings: ReceiverSettings | None = None,
    ) -> None:
        self._deliver = deliver
        self._on_state = on_state
        self._pairing = pairing or Pairing()
        self._settings = settings or ReceiverSettings()
        self._counters = _Counters()
        self._pending: list[RawPage] = []
        self._pending_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = ReceiverState.STOPPED
        self._detail: str | None = None
        self._mode: ReceiveMode | None = None
        self._stick: StickInfo | None = None
        self._last_error: AntStickError | None = None
        self._in_outage = False
        self._deliver_error_logged = False

    # -- public API ----------------------------------------------------------------

    @property
    def state(self) -> ReceiverState:
        """Current connection state."""
        return self._state

    @property
    def detail(self) -> str | None:
        """Why the receiver is in its current state (with a fix hint on errors)."""
        return self._detail

    @property
    def last_error(self) -> AntStickError | None:
        """The last open error (its ``reason`` names the problem), if any."""
        return self._last_error

    @property
    def mode(self) -> ReceiveMode | None:
        """How the current (or last) connection listens."""
        return self._mode

    @property
    def stick(self) -> StickInfo | None:
        """What the stick reported about itself at the last connection."""
        return self._stick

    def counters(self) -> dict[str, int]:
        """Snapshot of the frame, page and connection counters."""
        return self._counters.snapshot()

    def diagnostics(self) -> dict[str, Any]:
        """Counters and state, for diagnostics (safe to call from any thread)."""
        stick = self._stick
        return {
            **self._counters.snapshot(),
            "state": str(self._state),
            "detail": self._detail,
            "mode": str(self._mode) if self._mode else None,
            "scan_mode_supported": stick.scan_mode if stick else None,
            "max_channels": stick.max_channels if stick else None,
            "ant_version": stick.ant_version if stick else None,
            "last_error": self._last_error.reason if self._last_error else None,
        }

    def start(self) -> None:
        """Start receiving in the background; returns at once.

        Open errors are not raised: they are reported through ``on_state`` and
        retried with backoff. Use :func:`probe_stick` to fail fast.
        """
        if self._thread is not None:
            raise RuntimeError("AntReceiver.start() called twice")
        self._state = ReceiverState.STARTING  # reported from the supervisor thread
        self._thread = threading.Thread(target=self._supervise, name="ridebalance-ant")
        self._thread.start()

    def stop(self) -> None:
        """Stop receiving and join every thread (bounded by ``stop_timeout_s``).

        Blocking: call it from an executor. Idempotent, and safe when ``start``
        was never called or never connected.
        """
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return
        thread.join(self._settings.stop_timeout_s + 0.5)
        if thread.is_alive():
            _LOGGER.warning("The ANT+ receiver did not stop within the time allowed")

    # -- supervisor thread -------------------------------------------------------

    def _supervise(self) -> None:
        settings = self._settings
        backoff = settings.backoff_initial_s
        self._set_state(ReceiverState.STARTING, None)
        session: _Session | None = None
        try:
            while not self._stop.is_set():
                session = _Session(
                    settings,
                    self._counters,
                    self._queue_page,
                    self._pairing,
                    self._stop,
                )
                try:
                    session.open()
                except _OpenCancelledError:
                    break
                except AntStickError as err:
                    self._last_error = err
                    state = (
                        ReceiverState.DISCONNECTED
                        if isinstance(err, AntStickNotFoundError)
                        else ReceiverState.ERROR
                    )
                    self._outage(state, err.full_message)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, settings.backoff_max_s)
                    continue
                if self._stop.is_set():
                    session.close()
                    break
                self._connected(session)
                backoff = settings.backoff_initial_s
                fault = self._watch(session)
                session.close()
                self._flush()
                if fault is None:
                    break
                self._outage(*fault)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, settings.backoff_max_s)
        except Exception:
            _LOGGER.exception("The ANT+ receiver stopped unexpectedly")
            if session is not None:
                session.close()
            self._set_state(ReceiverState.ERROR, "internal error, see the log")
            return
        finally:
            self._flush()
        self._set_state(ReceiverState.STOPPED, None)

    def _connected(self, session: _Session) -> None:
        self._mode = session.mode
        self._stick = session.info
        self._last_error = None
        self._counters.add("connects")
        if self._in_outage:
            self._counters.add("reconnects")
            _LOGGER.info("ANT+ stick is back, receiving again (%s)", session.mode)
        else:
            _LOGGER.info("ANT+ stick opened, receiving (%s)", session.mode)
        self._in_outage = False
        info = session.info
        if session.mode is ReceiveMode.SCAN:
            detail = "continuous scan"
        elif info is not None and not info.scan_mode:
            detail = "one channel per profile (the stick has no scan mode)"
        elif info is not None and not info.extended_messages:
            detail = "one channel per profile (the stick has no extended data)"
        else:
            detail = "one channel per profile"
        self._set_state(ReceiverState.CONNECTED, detail)

    def _outage(self, state: ReceiverState, detail: str) -> None:
        if not self._in_outage:
            # Once per outage; retries are logged at debug level only.
            _LOGGER.warning(
                "ANT+ receiver %s: %s (retrying, backoff up to %g s)",
                state,
                detail,
                self._settings.backoff_max_s,
            )
            self._in_outage = True
        else:
            _LOGGER.debug("ANT+ receiver still %s: %s", state, detail)
        if state is not self._state or (
            state is ReceiverState.ERROR and detail != self._detail
        ):
            self._set_state(state, detail)

    def _watch(self, session: _Session) -> tuple[ReceiverState, str] | None:
        settings = self._settings
        probe_sent: float | None = None
        next_housekeeping = time.monotonic() + _HOUSEKEEPING_S
        while True:
            self._wake.wait(settings.batch_interval_s)
            self._wake.clear()
            self._flush()
            if self._stop.is_set():
                return None
            fault = session.check()
            if fault is not None:
                return fault
            now = time.monotonic()
            if probe_sent is None:
                if now - session.last_rx >= settings.stale_after_s:
                    try:
                        session.probe()
                    except Exception as err:  # mapped to a state
                        if is_device_gone(err):
                            return (
                                ReceiverState.DISCONNECTED,
                                f"ANT+ stick gone ({err})",
                            )
                        return ReceiverState.ERROR, f"ANT+ stick write failed: {err!r}"
                    probe_sent = now
            elif session.last_rx >= probe_sent:
                probe_sent = None
            elif now - probe_sent >= settings.probe_timeout_s:
                self._counters.add("stale_events")
                silent = now - session.last_rx
                return (
                    ReceiverState.STALE,
                    f"the ANT+ stick sent nothing for {silent:.0f} s "
                    "and did not answer a status request",
                )
            if now >= next_housekeeping:
                session.housekeeping()
                next_housekeeping = now + _HOUSEKEEPING_S

    def _queue_page(self, page: RawPage) -> None:
        # Runs in the node thread: append only, the supervisor delivers.
        with self._pending_lock:
            self._pending.append(page)
            overflow = len(self._pending) - _PENDING_LIMIT
            if overflow > 0:
                del self._pending[:overflow]
                self._counters.add("pages_dropped", overflow)
            full = len(self._pending) >= self._settings.batch_max_pages
        if full:
            self._wake.set()

    def _flush(self) -> None:
        with self._pending_lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            self._deliver(batch)
        except Exception:
            self._counters.add("deliver_errors")
            if not self._deliver_error_logged:
                self._deliver_error_logged = True
                _LOGGER.exception("Error delivering ANT+ pages")
            return
        self._counters.add("pages_delivered", len(batch))
        self._counters.add("batches_delivered")

    def _set_state(self, state: ReceiverState, detail: str | None) -> None:
        self._state = state
        self._detail = detail
        if self._on_state is None:
            return
        try:
            self._on_state(state, detail)
        except Exception:
            _LOGGER.exception("Error reporting the ANT+ receiver state")


def probe_stick(settings: ReceiverSettings | None = None) -> StickInfo:
    """Open the stick, read its capabilities and close it (blocking, ~2 s).

    Raises an :class:`AntStickError` subclass naming the problem and its fix.
    """
    session = _Session(
        settings or ReceiverSettings(), _Counters(), lambda _page: None, None
    )
    try:
        session.open(configure=False)
    finally:
        session.close()
    assert session.info is not None
    return session.info


def scan(
    seconds: float = 10.0,
    *,
    describe: Describe | None = None,
    settings: ReceiverSettings | None = None,
) -> list[HeardDevice]:
    """Listen for ``seconds`` and return every device heard (blocking).

    Uses the continuous-scan channel when the stick has one (every device type),
    otherwise wildcard channels for power, FE-C and heart rate. ``describe``
    (device type, latest raw page by page number) → label, e.g. the manufacturer
    decoded from page 0x50. Raises :class:`AntStickError` if the stick cannot be
    opened or vanishes during the scan.
    """
    lock = threading.Lock()
    counts: dict[tuple[int, int, int], int] = {}
    latest: dict[tuple[int, int, int], dict[int, bytes]] = {}

    def tally(page: RawPage) -> None:
        key = (page.device_type, page.device_number, page.transmission_type)
        number = page.data[0]
        if page.device_type == DEVICE_TYPE_HEART_RATE:
            number &= 0x7F  # bit 7 is the page-change toggle
        with lock:
            counts[key] = counts.get(key, 0) + 1
            latest.setdefault(key, {})[number] = page.data

    session = _Session(settings or ReceiverSettings(), _Counters(), tally, None)
    session.open()
    try:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(0.1, remaining))
            fault = session.check()
            if fault is not None:
                state, detail = fault
                if state is ReceiverState.DISCONNECTED:
                    raise AntStickNotFoundError(detail)
                raise AntStickError(detail)
    finally:
        session.close()
    heard = []
    with lock:
        for key, count in counts.items():
            pages = dict(latest[key])
            label = None
            if describe is not None:
                try:
                    label = describe(key[0], pages)
                except Exception:
                    _LOGGER.exception("Could not describe ANT+ device %s", key)
            heard.append(HeardDevice(*key, count, pages, label))
    heard.sort(key=lambda d: (d.device_type, -d.page_count, d.device_number))
    return heard

"""The openant link: one ``Node`` opened, configured, run and closed.

openant 1.3.4 does the USB and channel plumbing; this module adds what it lacks:

* **Detection, not assumption**: the stick's capabilities answer decides between
  one receive-only continuous-scan channel (hears every device) and one slave
  channel per profile (power 11, FE-C 17, heart rate 120).
* **A guarded reader**: the :class:`~.framing.FrameGuard` wraps the driver's
  ``read`` before openant's reader thread starts, and a failed open stops that
  thread and releases the stick (:mod:`.node`).
* **Health**: :meth:`StickLink.check` names a fault (USB error, a dead openant
  thread) that ends the link; the supervisor in :mod:`.receiver` rebuilds it.

Filtering: with a paired device number, only that device's pages of the profile's
device type are delivered; an unpaired role (``None``) lets every device of its type
through, and the caller picks. Other device types are dropped (a scan sees all).

openant drops a broadcast that is byte-identical to the previous frame (extended
data included), so an unchanged repeat of a page is never delivered; repeats carry
no new event anyway. openant offers no hooks for the interruptible first reply
and the queue trimming, so they use its private ``_responses``/``_events`` and
``_worker_thread`` attributes (checked against 1.3.4, the pinned version).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
import logging
import threading
import time
from typing import Any, Final

from openant.base.message import Message
from openant.devices import ANTPLUS_NETWORK_KEY
from openant.easy.channel import Channel

from .channels import ChannelPlan
from .framing import Counters, FrameGuard
from .node import GuardedNode
from .pages import (
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
    DEVICE_TYPE_HEART_RATE,
    RawPage,
)
from .pairing import Pairing
from .usb_errors import (
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

_EXT_FLAG_CHANNEL_ID: Final = 0x80
_CAP_EXT_MESSAGES: Final = 0x02  # advanced options 2 (capabilities byte 4)
_CAP_SCAN_MODE: Final = 0x04
_PAGE_LENGTH: Final = 8
# openant keeps every reply and channel event it never uses; this many are kept.
_OPENANT_QUEUE_LIMIT: Final = 64


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
    usb_error_log_every_s: float = 60.0  # a recurring stick problem: one line each
    clock: Callable[[], float] = time.monotonic
    """Timestamps of received pages and of log throttling (tests simulate it)."""


@dataclass(frozen=True, slots=True)
class StickInfo:
    """What the stick said about itself when it was opened."""

    max_channels: int
    scan_mode: bool
    extended_messages: bool
    capabilities: bytes
    serial_number: int | None = None
    ant_version: str | None = None


class OpenCancelledError(Exception):
    """Opening was abandoned because the receiver is stopping."""


class StickLink:
    """One openant Node: open, configure, run, close. Never reused."""

    def __init__(
        self,
        settings: ReceiverSettings,
        counters: Counters,
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
        self._guard: FrameGuard | None = None
        self._plan: ChannelPlan | None = None
        self._identities: dict[int, tuple[int, int] | None] = {}  # by channel
        self._runner: threading.Thread | None = None
        self._run_error: BaseException | None = None
        self._closed = False
        self.info: StickInfo | None = None
        self.mode: ReceiveMode | None = None

    # -- lifecycle ---------------------------------------------------------------

    def open(self, *, configure: bool = True) -> None:
        """Open the stick and start receiving; raises :class:`AntStickError`."""
        try:
            # The guard wraps the driver's read before openant's first read; a
            # failed open leaves no reader running (see .node).
            self._node = GuardedNode(self._guarded_read)
        except Exception as err:
            raise classify_open_error(err) from err
        try:
            self.info = self._query_stick()
            if configure:
                self._configure()
                self.info = self._with_identity(self.info)
                self._runner = threading.Thread(
                    target=self._run_node, name="ridebalance-ant-node"
                )
                self._runner.start()
        except OpenCancelledError:
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
        """A fault that ends this link, or ``None`` while all is well."""
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

    def tend(self) -> None:
        """Keep per-profile searches useful (see :mod:`.channels`)."""
        if self._plan is None:
            return
        try:
            self._plan.tend()
        except Exception as err:
            _LOGGER.debug("Tending the ANT+ channels: %r", err)

    def housekeeping(self) -> None:
        """Trim openant's reply and channel-event queues; nothing else empties them."""
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

    def _guarded_read(self, read: Callable[[], Any]) -> Callable[[], Any]:
        self._guard = FrameGuard(read, self._counters, self._settings.usb_error_pause_s)
        self._guard.on_repeat = self._on_repeat
        return self._guard.read

    def _on_repeat(self, channel_id: int, data: bytes) -> None:
        # Runs in openant's reader thread, for the repeats openant drops.
        if channel_id in self._identities:
            self._on_data(self._identities[channel_id], data, channel_id)

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
                    raise OpenCancelledError
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
        # A setup scan (no pairing) moves its channels on from device to device.
        plan = ChannelPlan(
            node, self._pairing, info.capabilities, rotate=self._pairing is None
        )
        self._plan = plan
        guard = self._guard
        extended = info.extended_messages

        def prepare(channel: Any) -> None:
            if extended and channel.id == 0:
                channel.enable_extended_messages(1)  # stick-wide setting
            guard.channel_count = channel.id + 1

        for device_type, period in CHANNEL_PERIODS.items():
            plan.open(device_type, period, settings.rf_channel, self._bind, prepare)
        self.mode = ReceiveMode.CHANNELS

    def _bind(self, channel: Any, identity: tuple[int, int] | None) -> None:
        channel_id = channel.id
        self._identities[channel_id] = identity

        def on_data(data: Any) -> None:
            self._on_data(identity, data, channel_id)

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

    def _on_data(
        self, identity: tuple[int, int] | None, data: Any, channel_id: int
    ) -> None:
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
                # No extended data: the channel's own id is the best we know. A
                # paired 20-bit number puts its top bits where the device sends
                # them, in the transmission type's upper nibble.
                device_type, paired = identity
                device_number = paired & 0xFFFF
                transmission_type = (paired >> 16) << 4
            else:
                self._counters.add("malformed_pages")
                return
            self._counters.add("pages_received")
            if self._plan is not None:
                self._plan.heard(channel_id, device_type, device_number)
            page = RawPage(
                timestamp_s=self._settings.clock(),
                device_type=device_type,
                device_number=device_number,
                transmission_type=transmission_type,
                data=payload[:_PAGE_LENGTH],
            )
            if self._pairing is not None and not self._pairing.accepts(page):
                self._counters.add("pages_filtered")
                return
            self._on_page(page)
        except Exception as err:
            self._counters.failed(
                "callback_errors", err, _LOGGER, "Error handling an ANT+ page"
            )

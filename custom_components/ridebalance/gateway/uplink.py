"""The gateway's MQTT side: paced batches, a bounded backlog, a retained status.

Pages arrive from the receiver's thread (:meth:`Uplink.add_pages`); a pacer thread
sends what arrived as one message, at once when the last one left ``interval_s``
ago or more, else when that much time has passed: at most 4 messages a second by
default (QoS 0), and no page waits longer than one interval. While the broker is
away, or the socket cannot keep up, the pacer keeps what arrived per interval in
a backlog of ``backlog_limit`` entries, dropping the oldest (counted) and sending
the rest when the broker is back.

paho-mqtt's own network thread connects, reconnects with capped exponential
backoff and, should the gateway vanish without a word, lets the broker publish
the last will: the retained status saying ``offline``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
import logging
import random
import ssl
import threading
import time
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from ..ant.pages import RawPage
from .wire import (
    MAX_PAGES,
    GatewayState,
    GatewayStatus,
    StickState,
    encode_batch,
    encode_status,
    pages_topic,
    split_batches,
    status_topic,
)

_LOGGER = logging.getLogger(__name__)

# What the uplink counts; its status reports them with the backlog's length.
COUNTERS: Final = (
    "pages_in",
    "pages_sent",
    "batches_sent",
    "batches_dropped",
    "pages_dropped",
    "broker_connects",
    "send_errors",
)

DEFAULT_PORTS: Final = {"mqtt": 1883, "mqtts": 8883}
STATUS_QOS: Final = 1  # the status must arrive; pages may not (QoS 0)

type OnChange = Callable[[], None]


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where the broker is and how to log in, from an ``mqtt[s]://`` URL."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: str | None = None
    keepalive_s: int = 30
    reconnect_min_s: int = 1
    reconnect_max_s: int = 30

    @classmethod
    def from_url(cls, url: str, *, ca_file: str | None = None) -> BrokerSettings:
        """Parse ``mqtt[s]://[user[:password]@]host[:port]``; ``ValueError`` if bad."""
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS:
            raise ValueError(
                f"broker URL must start with mqtt:// or mqtts://, not {parts.scheme!r}"
            )
        if not parts.hostname:
            raise ValueError("broker URL has no host (mqtt://HOST:PORT)")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("broker URL has a path or query; only the host is used")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise ValueError("broker URL has a port that is not a number") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=None if parts.username is None else unquote(parts.username),
            password=None if parts.password is None else unquote(parts.password),
            tls=parts.scheme == "mqtts",
            ca_file=ca_file,
        )

    def describe(self) -> str:
        """The URL without the password, for the terminal and the log."""
        user = "" if self.username is None else f"{self.username}@"
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


class Uplink:
    """Publishes one gateway's pages and status; every method is thread-safe."""

    def __init__(
        self,
        broker: BrokerSettings,
        gateway_id: str,
        *,
        topic_prefix: str,
        interval_s: float = 0.25,
        backlog_limit: int = 240,
        status_every_s: float = 30.0,
        on_change: OnChange | None = None,
    ) -> None:
        self._broker = broker
        self._gateway_id = gateway_id
        self._pages_topic = pages_topic(topic_prefix, gateway_id)
        self._status_topic = status_topic(topic_prefix, gateway_id)
        self._interval_s = interval_s
        self._status_every_s = status_every_s
        self._on_change = on_change
        self.session = random.getrandbits(32)
        self._sequence = 0
        self._lock = threading.Lock()
        self._arrived: list[RawPage] = []
        self._backlog: deque[list[RawPage]] = deque(maxlen=backlog_limit)
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._stick = StickState.CONNECTING
        self._stick_detail: str | None = None
        self._connected = False
        self._broker_error: str | None = None
        self._outage_logged = False
        self._stop = threading.Event()
        self._wake = threading.Event()  # pages arrived, or stopping
        self._pacer: threading.Thread | None = None
        self._client = self._make_client()

    # --- what the program reads -------------------------------------------------

    @property
    def connected(self) -> bool:
        """Connected to the broker right now."""
        return self._connected

    @property
    def broker_error(self) -> str | None:
        """Why the last connection attempt failed, while it keeps failing."""
        return self._broker_error

    @property
    def backlog(self) -> int:
        """Intervals of pages waiting for the broker."""
        with self._lock:
            return len(self._backlog)

    def counters(self) -> dict[str, int]:
        """Pages in and out, batches sent and dropped, and the backlog now."""
        with self._lock:
            return {**self._counters, "backlog": len(self._backlog)}

    # --- fed by the receiver ------------------------------------------------------

    def add_pages(self, pages: list[RawPage]) -> None:
        """Pages just received (called from the receiver's thread)."""
        with self._lock:
            self._arrived.extend(pages)
            self._counters["pages_in"] += len(pages)
        self._wake.set()

    def set_stick(self, state: StickState, detail: str | None) -> None:
        """The receiver's state changed: tell the broker (retained) and the terminal."""
        with self._lock:
            changed = (state, detail) != (self._stick, self._stick_detail)
            self._stick, self._stick_detail = state, detail
        if changed:
            self._publish_status()
            self._changed()

    # --- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background and start pacing; returns at once."""
        broker = self._broker
        self._client.connect_async(broker.host, broker.port, broker.keepalive_s)
        self._client.loop_start()
        self._pacer = threading.Thread(
            target=self._pace, name="ridebalance-gateway-pacer"
        )
        self._pacer.start()

    def stop(self, timeout_s: float = 3.0) -> bool:
        """Send what is left, say ``offline`` (retained), disconnect, join threads.

        What cannot be sent (the broker is away, or ``timeout_s`` is up) is counted
        as dropped, so the last status and the counters say so. Returns whether
        the broker confirmed the ``offline`` status.
        """
        deadline = time.monotonic() + timeout_s
        self._stop.set()
        self._wake.set()
        if self._pacer is not None:
            self._pacer.join(timeout_s)
            if self._pacer.is_alive():
                _LOGGER.warning(
                    "The gateway's pacer did not stop within %s s; stopping anyway",
                    timeout_s,
                )
        # No pacing now: one message after another, as fast as paho writes them.
        while self._connected and time.monotonic() < deadline and self._flush():
            if self._client.want_write():
                time.sleep(0.01)
        self._drop_unsent()
        announced = False
        if self._connected:
            info = self._client.publish(
                self._status_topic,
                encode_status(self.status(GatewayState.OFFLINE, "stopped")),
                qos=STATUS_QOS,
                retain=True,
            )
            if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                try:
                    info.wait_for_publish(timeout_s)
                except RuntimeError:  # the connection went meanwhile
                    _LOGGER.debug("Offline status not confirmed by the broker")
                announced = info.is_published()
        self._client.disconnect()
        self._client.loop_stop()
        self._connected = False
        return announced

    def status(
        self, state: GatewayState = GatewayState.ONLINE, detail: str | None = None
    ) -> GatewayStatus:
        """What the retained status topic says now."""
        with self._lock:
            stick, stick_detail = self._stick, self._stick_detail
            counters: Mapping[str, int] = {
                **self._counters,
                "backlog": len(self._backlog),
            }
        return GatewayStatus(
            gateway_id=self._gateway_id,
            state=state,
            stick=stick,
            detail=detail or stick_detail,
            session=self.session,
            counters=counters,
        )

    # --- paho's network thread ------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        broker = self._broker
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"ridebalance-gateway-{self._gateway_id}",
            clean_session=True,
        )
        if broker.username is not None:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            client.tls_set(ca_certs=broker.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(broker.reconnect_min_s, broker.reconnect_max_s)
        client.will_set(
            self._status_topic,
            encode_status(
                GatewayStatus(
                    self._gateway_id,
                    GatewayState.OFFLINE,
                    StickState.DISCONNECTED,
                    "the gateway lost its connection to the broker",
                    self.session,
                )
            ),
            qos=STATUS_QOS,
            retain=True,
        )
        # Both callbacks get (client, userdata, flags, reason code, properties)
        # from paho; only the reason code matters here.
        client.on_connect = lambda _c, _u, _f, reason, _p: self._on_connect(reason)
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = lambda _c, _u, _f, reason, _p: self._on_disconnect(
            reason
        )
        return client

    def _on_connect(self, reason: ReasonCode) -> None:
        if reason.is_failure:
            self._outage(f"the broker refused the connection: {reason}")
            return
        self._connected = True
        self._broker_error = None
        with self._lock:
            self._counters["broker_connects"] += 1
        if self._outage_logged:
            _LOGGER.info("Broker %s is back", self._broker.describe())
        else:
            _LOGGER.info("Connected to broker %s", self._broker.describe())
        self._outage_logged = False
        self._publish_status()
        self._changed()

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        self._outage("the broker cannot be reached")

    def _on_disconnect(self, reason: ReasonCode) -> None:
        was_connected, self._connected = self._connected, False
        # A refused login ends in a disconnect too: keep the refusal as the reason.
        if was_connected and not self._stop.is_set():
            self._outage(f"connection to the broker lost ({reason})")

    def _outage(self, detail: str) -> None:
        self._connected = False
        changed = detail != self._broker_error
        self._broker_error = detail
        if not self._outage_logged:
            # Once per outage: paho retries every few seconds.
            _LOGGER.warning(
                "Broker %s: %s; retrying (backoff up to %d s), keeping the last %d "
                "intervals of pages",
                self._broker.describe(),
                detail,
                self._broker.reconnect_max_s,
                self._backlog.maxlen or 0,
            )
            self._outage_logged = True
        if changed:
            self._changed()

    # --- the pacer thread -----------------------------------------------------------

    def _pace(self) -> None:
        interval = self._interval_s
        next_send = 0.0
        next_status = time.monotonic() + self._status_every_s
        while not self._stop.is_set():
            # Woken by pages; the timeout drains a backlog and keeps the status due.
            self._wake.wait(interval)
            self._wake.clear()
            delay = next_send - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
            now = time.monotonic()
            try:
                if self._flush():
                    next_send = now + interval
                if now >= next_status:
                    next_status = now + self._status_every_s
                    self._publish_status()
            except Exception:  # the thread lives on: a dead pacer sends nothing
                next_send = now + interval
                with self._lock:
                    self._counters["send_errors"] += 1
                    first = self._counters["send_errors"] == 1
                if first:
                    _LOGGER.exception(
                        "Pages could not be sent (repeats are counted in send_errors)"
                    )

    def _flush(self) -> bool:
        """Move what arrived to the backlog and send one message from its head.

        Returns whether there was anything to move or send (the interval starts).
        """
        with self._lock:
            self._move_arrived()
            busy = bool(self._backlog)
            # Hold back while paho still has bytes to write: its buffer is unbounded.
            if not self._backlog or not self._connected or self._client.want_write():
                return busy
            # Up to one batch's pages; where their times do not fit one batch
            # (an outage's gap, a time that went backwards) the rest goes back.
            pages, *rest = split_batches(self._take())
            sequence = self._sequence
        try:
            payload = encode_batch(pages, self.session, sequence)
            info = self._client.publish(self._pages_topic, payload, qos=0)
        except Exception:
            with self._lock:  # this batch is lost, the rest waits for its turn
                self._counters["batches_dropped"] += 1
                self._counters["pages_dropped"] += len(pages)
                for entry in reversed(rest):
                    self._put_back(entry)
            raise
        with self._lock:
            if info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._sequence = (sequence + 1) & 0xFFFFFFFF
                self._counters["batches_sent"] += 1
                self._counters["pages_sent"] += len(pages)
            else:  # disconnected meanwhile: keep them for the next connection
                rest.insert(0, pages)
            for entry in reversed(rest):
                self._put_back(entry)
        return True

    def _move_arrived(self) -> None:
        """What arrived into the backlog, dropping (counted) the oldest (lock held)."""
        arrived, self._arrived = self._arrived, []
        for start in range(0, len(arrived), MAX_PAGES):
            if len(self._backlog) == self._backlog.maxlen:
                self._counters["batches_dropped"] += 1
                self._counters["pages_dropped"] += len(self._backlog[0])
            self._backlog.append(arrived[start : start + MAX_PAGES])

    def _put_back(self, pages: list[RawPage]) -> None:
        """Unsent pages to the head; a full backlog drops its newest (lock held)."""
        if len(self._backlog) == self._backlog.maxlen:
            self._counters["batches_dropped"] += 1
            self._counters["pages_dropped"] += len(self._backlog[-1])
        self._backlog.appendleft(pages)

    def _drop_unsent(self) -> None:
        """On stopping: what could not be sent, counted as dropped and logged once."""
        with self._lock:
            self._move_arrived()
            batches = len(self._backlog)
            pages = sum(len(entry) for entry in self._backlog)
            self._backlog.clear()
            self._counters["batches_dropped"] += batches
            self._counters["pages_dropped"] += pages
        if pages:
            _LOGGER.warning(
                "Pages not sent on stopping, counted as dropped: %d in %d intervals "
                "(%s)",
                pages,
                batches,
                "the broker is away" if not self._connected else "no time was left",
            )

    def _take(self) -> list[RawPage]:
        """Backlog entries from the oldest while they fit one batch's page count
        (lock held); where time cuts them is :func:`split_batches`' rule."""
        pages = self._backlog.popleft()
        while self._backlog and len(pages) + len(self._backlog[0]) <= MAX_PAGES:
            pages.extend(self._backlog.popleft())
        return pages

    def _publish_status(self) -> None:
        if not self._connected:
            return
        self._client.publish(
            self._status_topic,
            encode_status(self.status()),
            qos=STATUS_QOS,
            retain=True,
        )

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

"""The rider's ANT+ devices through a RideBalance gateway, over Home Assistant's MQTT.

A gateway (``scripts/gateway``, a stick near the bike) publishes raw pages in
batches and a retained status. This source subscribes through Home Assistant's
own MQTT integration (it runs no MQTT client of its own), maps the gateway's page
times onto this host's clock and feeds the same trackers as the local stick
(:class:`RiderPages`). Whether readings flow follows the gateway's status: offline
(its last will, or a clean stop), a stick that is gone, or Home Assistant's broker
connection lost make the entities unavailable; they come back by themselves. A
gateway that stays away gets a repair issue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
import time
from typing import Any, Final

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from ..ant.identity import describe_heard
from ..ant.pages import RawPage
from ..ant.scan import HeardDevice, HeardTally
from ..const import CONF_GATEWAY, CONF_TOPIC_PREFIX, LOGGER
from ..gateway.wire import (
    DEFAULT_TOPIC_PREFIX,
    Batch,
    GatewayState,
    GatewayStatus,
    MalformedBatchError,
    StickState,
    decode_batch,
    decode_status,
    pages_topic,
    status_topic,
)
from . import SourceListener, SourceNotReadyError, SourceState, SourceStatus
from .pipeline import PagesSource

# A gateway away this long (rebooting, a Wi-Fi blip) is not yet a problem to repair.
OFFLINE_ISSUE_AFTER: Final = timedelta(minutes=10)


def gateway_issue_id(entry_id: str) -> str:
    """The repair issue of an entry's gateway."""
    return f"gateway_{entry_id}"


class GatewayClock:
    """Maps one gateway session's page times onto this host's monotonic clock.

    The offset is the smallest (now - newest page time) seen in the session: the
    batch that travelled fastest. A new session (the gateway restarted) starts over.
    """

    def __init__(self) -> None:
        self.session: int | None = None
        self._offset = 0.0

    def local(self, batch: Batch, now_s: float) -> list[RawPage]:
        """The batch's pages with their times on this host's clock."""
        offset = now_s - batch.pages[-1].timestamp_s
        if batch.session != self.session:
            self.session = batch.session
            self._offset = offset
        else:
            self._offset = min(self._offset, offset)
        return [
            replace(page, timestamp_s=page.timestamp_s + self._offset)
            for page in batch.pages
        ]


def _payload_bytes(payload: str | bytes | bytearray) -> bytes:
    # Subscribed with encoding=None, so bytes; the type also allows text.
    return payload.encode() if isinstance(payload, str) else bytes(payload)


def _unavailable_detail(gateway_id: str, status: GatewayStatus) -> str:
    if status.state is GatewayState.OFFLINE:
        why = f": {status.detail}" if status.detail else ""
        return f"gateway {gateway_id} is offline{why}"
    why = f" ({status.detail})" if status.detail else ""
    return f"gateway {gateway_id}: ANT+ stick {status.stick.value}{why}"


class GatewaySource(PagesSource):
    """Readings from the rider's ANT+ devices, heard by a gateway."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
    ) -> None:
        super().__init__(hass, entry, gateway_issue_id(entry.entry_id), None)
        self.gateway_id: str = entry.data[CONF_GATEWAY]
        prefix = entry.data.get(CONF_TOPIC_PREFIX) or DEFAULT_TOPIC_PREFIX
        self._status_topic = status_topic(prefix, self.gateway_id)
        self._pages_topic = pages_topic(prefix, self.gateway_id)
        self._gateway_clock = GatewayClock()
        self._status: GatewayStatus | None = None
        self._unsubs: list[CALLBACK_TYPE] = []
        self._cancel_issue_timer: CALLBACK_TYPE | None = None
        self._next_sequence: int | None = None
        self._counters = dict.fromkeys(
            (
                "batches",
                "pages",
                "batches_lost",
                "malformed_batches",
                "malformed_status",
            ),
            0,
        )
        self._malformed_logged = False

    # --- Source protocol -------------------------------------------------------

    async def async_start(self, listener: SourceListener) -> None:
        """Subscribe to the gateway's status and pages through Home Assistant's MQTT.

        Without the MQTT integration set up this raises ``SourceNotReadyError``
        (Home Assistant retries the setup).
        """
        if not await mqtt.async_wait_for_mqtt_client(self._hass):
            raise SourceNotReadyError(
                "Home Assistant's MQTT integration is not set up; add it with the "
                "broker the gateway publishes to"
            )
        self._start_pages(listener, "RideBalance gateway devices")
        self._unsubs = [
            await mqtt.async_subscribe(
                self._hass, self._status_topic, self._on_status_message, 1, None
            ),
            await mqtt.async_subscribe(
                self._hass, self._pages_topic, self._on_pages_message, 0, None
            ),
            mqtt.async_subscribe_connection_status(self._hass, self._on_connection),
        ]
        listener.status(
            SourceStatus(
                SourceState.CONNECTING,
                f"waiting for gateway {self.gateway_id} on {self._status_topic}",
            )
        )
        self._start_issue_timer()

    async def async_stop(self) -> None:
        """Unsubscribe; the repair issue goes with the entry's running source."""
        self._stop_pages()
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []
        self._all_clear()

    def diagnostics(self) -> dict[str, Any]:
        """The gateway's last status, what arrived, and what the trackers made of it."""
        status = self._status
        return {
            **self._pages.diagnostics(),
            "gateway": {
                "id": self.gateway_id,
                "status_topic": self._status_topic,
                "state": None if status is None else status.state.value,
                "stick": None if status is None else status.stick.value,
                "detail": None if status is None else status.detail,
                "counters": None if status is None else dict(status.counters),
            },
            "received": dict(self._counters),
            "repair_issue": self._issue,
        }

    # --- messages, in the event loop ------------------------------------------------

    @callback
    def _on_status_message(self, message: mqtt.ReceiveMessage) -> None:
        listener = self._listener
        status = self._read(message, decode_status, "malformed_status")
        if listener is None or status is None:
            return
        if status.gateway_id != self.gateway_id:
            self._malformed(
                "malformed_status",
                f"status of gateway {status.gateway_id!r} on the topic of "
                f"{self.gateway_id!r}",
            )
            return
        self._status = status
        if status.receiving:
            self._receiving = True
            self._all_clear()
            detail = f"gateway {self.gateway_id}"
            if status.detail:
                detail += f" ({status.detail})"
            self._push_devices()
            listener.status(SourceStatus(SourceState.CONNECTED, detail))
        elif status.online and status.stick is StickState.CONNECTING:
            # The gateway just started and is opening its stick: not a fault yet.
            self._receiving = False
            self._start_issue_timer()
            self._push_devices()
            listener.status(
                SourceStatus(
                    SourceState.CONNECTING,
                    _unavailable_detail(self.gateway_id, status),
                )
            )
        else:
            self._went_away(_unavailable_detail(self.gateway_id, status))

    @callback
    def _on_pages_message(self, message: mqtt.ReceiveMessage) -> None:
        batch = self._read(message, decode_batch, "malformed_batches")
        if batch is None:
            return
        counters = self._counters
        if (
            batch.session == self._gateway_clock.session
            and self._next_sequence is not None
        ):
            counters["batches_lost"] += (batch.sequence - self._next_sequence) % 2**32
        self._next_sequence = (batch.sequence + 1) % 2**32
        counters["batches"] += 1
        counters["pages"] += len(batch.pages)
        self._feed(self._gateway_clock.local(batch, time.monotonic()))

    @callback
    def _on_connection(self, connected: bool) -> None:
        # Back: the broker sends the retained status again, and that decides.
        if not connected:
            self._went_away(
                f"Home Assistant lost its MQTT broker; gateway {self.gateway_id} "
                "cannot be heard"
            )

    @callback
    def _went_away(self, detail: str) -> None:
        self._receiving = False
        self._start_issue_timer(detail)
        if self._listener is not None:
            self._push_devices()
            self._listener.status(SourceStatus(SourceState.DISCONNECTED, detail))

    def _read[T](
        self,
        message: mqtt.ReceiveMessage,
        decode: Callable[[bytes], T],
        counter: str,
    ) -> T | None:
        """The message decoded; ``None`` when stopped or (counted) unreadable."""
        if self._listener is None:
            return None
        try:
            return decode(_payload_bytes(message.payload))
        except MalformedBatchError as err:
            self._malformed(counter, str(err))
            return None

    def _malformed(self, counter: str, reason: str) -> None:
        self._counters[counter] += 1
        if not self._malformed_logged:
            # Once: a gateway of another version would repeat it 4 times a second.
            self._malformed_logged = True
            LOGGER.warning(
                "Gateway %s sent a message that cannot be read, dropped: %s "
                "(further ones are only counted, see diagnostics)",
                self.gateway_id,
                reason,
            )

    # --- the repair issue -------------------------------------------------------------

    @callback
    def _start_issue_timer(self, detail: str | None = None) -> None:
        if self._cancel_issue_timer is not None or self._issue is not None:
            return

        @callback
        def _raise(_now: datetime) -> None:
            self._cancel_issue_timer = None
            self._create_issue(
                "gateway_offline",
                {
                    "gateway": self.gateway_id,
                    "topic": self._status_topic,
                    "minutes": f"{OFFLINE_ISSUE_AFTER.total_seconds() / 60:g}",
                    "detail": detail or "no status from the gateway",
                },
            )

        self._cancel_issue_timer = async_call_later(
            self._hass, OFFLINE_ISSUE_AFTER, _raise
        )

    @callback
    def _all_clear(self) -> None:
        """The gateway is heard (or the source stops): no timer, no issue."""
        if self._cancel_issue_timer is not None:
            self._cancel_issue_timer()
            self._cancel_issue_timer = None
        if self._issue is not None:
            self._delete_issue()


async def async_gateway_status(
    hass: HomeAssistant, prefix: str, gateway_id: str, wait_s: float = 3.0
) -> GatewayStatus | None:
    """The gateway's status: its retained one, or ``None`` if none comes in ``wait_s``.

    A gateway still opening its stick is given the rest of ``wait_s`` to finish.
    """
    latest: GatewayStatus | None = None
    settled = asyncio.Event()

    @callback
    def on_status(message: mqtt.ReceiveMessage) -> None:
        nonlocal latest
        try:
            latest = decode_status(_payload_bytes(message.payload))
        except MalformedBatchError as err:
            LOGGER.debug("Unreadable status of gateway %s: %s", gateway_id, err)
            return
        if latest.stick is not StickState.CONNECTING or not latest.online:
            settled.set()

    unsubscribe = await mqtt.async_subscribe(
        hass, status_topic(prefix, gateway_id), on_status, 1, None
    )
    try:
        async with asyncio.timeout(wait_s):
            await settled.wait()
    except TimeoutError:
        pass
    finally:
        unsubscribe()
    return latest


async def async_scan_gateway(
    hass: HomeAssistant, prefix: str, gateway_id: str, seconds: float
) -> list[HeardDevice]:
    """Every device the gateway hears in ``seconds``, as the stick's scan lists them."""
    tally = HeardTally()

    @callback
    def on_pages(message: mqtt.ReceiveMessage) -> None:
        try:
            batch = decode_batch(_payload_bytes(message.payload))
        except MalformedBatchError as err:
            LOGGER.debug("Unreadable batch from gateway %s: %s", gateway_id, err)
            return
        for page in batch.pages:
            tally.add(page)

    unsubscribe = await mqtt.async_subscribe(
        hass, pages_topic(prefix, gateway_id), on_pages, 0, None
    )
    try:
        await asyncio.sleep(seconds)
    finally:
        unsubscribe()
    return tally.heard(describe_heard)

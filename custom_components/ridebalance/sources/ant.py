"""The rider's own ANT+ stick as a source: pedals, trainer and heart-rate strap.

The :class:`AntReceiver` runs in its own threads; its batches and state changes
come back to the event loop with ``call_soon_threadsafe``, where
:class:`RiderPages` (the same trackers a gateway's pages go through) turns them
into Samples. A missing or busy stick becomes a repair issue with its fix.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback

from ..ant.pages import RawPage
from ..ant.receiver import AntReceiver, ReceiverStatus
from ..ant.scan import probe_stick
from ..ant.stick import ReceiverSettings, ReceiverState
from ..ant.trackers import TrackerConfig
from ..ant.usb_errors import UDEV_RULES, AntStickError
from ..const import LOGGER
from . import SourceListener, SourceNotReadyError, SourceState, SourceStatus
from .pipeline import PagesSource

# Problems the rider has to fix at the stick; each has a repair issue.
REPAIRABLE_REASONS: Final = frozenset(
    {"not_found", "busy", "permission_denied", "no_backend"}
)


def stick_issue_id(entry_id: str) -> str:
    """The repair issue of an entry's stick."""
    return f"stick_{entry_id}"


class AntSource(PagesSource):
    """Readings from the rider's ANT+ devices through a USB stick.

    USB work happens in the receiver's threads; opening, closing and joining them
    happens in an executor. Everything else runs in the event loop.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        *,
        settings: ReceiverSettings | None = None,
        tracker_config: TrackerConfig | None = None,
    ) -> None:
        super().__init__(hass, entry, stick_issue_id(entry.entry_id), tracker_config)
        self._settings = settings
        self._receiver: AntReceiver | None = None
        self._unsub_stop: CALLBACK_TYPE | None = None

    # --- Source protocol -------------------------------------------------------

    async def async_start(self, listener: SourceListener) -> None:
        """Check the stick, then start the receiver in its own thread.

        A stick that cannot be opened now raises ``SourceNotReadyError`` (Home
        Assistant retries the setup) with a repair issue naming the fix; once
        running, the receiver itself rides out a stick that vanishes.
        """
        try:
            await self._hass.async_add_executor_job(probe_stick, self._settings)
        except AntStickError as err:
            reason = err.reason if err.reason in REPAIRABLE_REASONS else None
            if reason is not None:
                self._raise_issue(reason, str(err))
            raise SourceNotReadyError(str(err)) from err
        loop = self._hass.loop

        def deliver(batch: list[RawPage]) -> None:
            loop.call_soon_threadsafe(self._on_pages, batch)

        def on_state(status: ReceiverStatus) -> None:
            loop.call_soon_threadsafe(self._on_receiver_state, status)

        receiver = AntReceiver(
            deliver, on_state, pairing=self._pages.pairing, settings=self._settings
        )
        self._receiver = receiver
        self._unsub_stop = self._hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_STOP, self._async_on_hass_stop
        )
        self._start_pages(listener, "RideBalance ANT+ devices")
        await self._hass.async_add_executor_job(receiver.start)

    async def async_stop(self) -> None:
        """Stop the receiver and join its threads.

        The repair issue goes with a running receiver; one raised because the
        stick could not be opened at setup stays while Home Assistant retries.
        """
        self._stop_pages()
        if self._unsub_stop is not None:
            self._unsub_stop()
            self._unsub_stop = None
        receiver, self._receiver = self._receiver, None
        if receiver is not None:
            await self._hass.async_add_executor_job(receiver.stop)
            self._delete_issue()

    def diagnostics(self) -> dict[str, Any]:
        """Receiver counters and state, and what each device sent."""
        receiver = self._receiver
        return {
            **self._pages.diagnostics(),
            "receiver": None if receiver is None else receiver.diagnostics(),
            "repair_issue": self._issue,
        }

    # --- in the event loop -----------------------------------------------------

    @callback
    def _on_pages(self, batch: list[RawPage]) -> None:
        if self._listener is not None:
            self._feed(batch)

    @callback
    def _on_receiver_state(self, status: ReceiverStatus) -> None:
        listener = self._listener
        if listener is None:
            return
        state, detail = status.state, status.detail
        match state:
            case ReceiverState.CONNECTED:
                self._receiving = True
                self._push_devices()
                self._delete_issue()
                listener.status(SourceStatus(SourceState.CONNECTED, detail))
            case ReceiverState.STARTING:
                listener.status(SourceStatus(SourceState.CONNECTING, detail))
            case ReceiverState.STOPPED:
                self._receiving = False
                self._push_devices()
            case _:
                self._receiving = False
                self._push_devices()
                reason = self._issue_for(state, status.error)
                if reason is not None:
                    self._raise_issue(reason, detail)
                listener.status(SourceStatus(SourceState.DISCONNECTED, detail))

    @staticmethod
    def _issue_for(state: ReceiverState, error: AntStickError | None) -> str | None:
        if state is ReceiverState.DISCONNECTED:
            return "not_found"  # unplugged, or never found
        if error is not None and error.reason in REPAIRABLE_REASONS:
            return error.reason
        return None

    @callback
    def _raise_issue(self, reason: str, detail: str | None) -> None:
        if self._issue == f"stick_{reason}":
            return
        self._create_issue(
            f"stick_{reason}", {"detail": detail or reason, "udev_rule": UDEV_RULES}
        )

    async def _async_on_hass_stop(self, _event: Event) -> None:
        # The receiver's threads are not daemons: join them before Python exits.
        self._unsub_stop = None
        LOGGER.debug("Home Assistant stops: closing the ANT+ stick")
        await self.async_stop()

"""Receive raw ANT+ pages in a worker thread, and survive unplugs.

* **Batching**: pages reach the caller's ``deliver(batch)`` from one thread, every
  ``batch_interval_s`` or ``batch_max_pages`` pages, never one call per page.
* **Supervision**: openant does not report a vanished stick (it logs and loops).
  USB errors seen by the frame guard, a dead openant thread, or a stick that stays
  silent and does not answer a status request mark the link lost; it is torn down
  and rebuilt with capped exponential backoff, the state change is reported once,
  and pages flow again without a restart.

Threads, per link: ``ridebalance-ant`` (supervisor: opens and configures the
node, flushes batches, watches health, calls ``deliver`` and ``on_state``),
``ridebalance-ant-node`` (runs ``Node.start()``; channel callbacks run here and only
append to a locked list), plus openant's own ``openant.easy`` and ``openant.base``.
:meth:`AntReceiver.stop` ends and joins them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
import logging
import threading
import time
from typing import Any, Final

from .framing import Counters
from .pages import RawPage
from .pairing import Pairing
from .stick import (
    OpenCancelledError,
    ReceiveMode,
    ReceiverSettings,
    ReceiverState,
    StickInfo,
    StickLink,
)
from .usb_errors import AntStickError, AntStickNotFoundError, is_device_gone

_LOGGER = logging.getLogger(__name__)

_PENDING_LIMIT: Final = 10_000  # pages kept while the caller's deliver is slow
_HOUSEKEEPING_S: Final = 5.0

type Deliver = Callable[[list[RawPage]], None]
type OnState = Callable[["ReceiverStatus"], None]


@dataclass(frozen=True, slots=True)
class ReceiverStatus:
    """The receiver's state and why, with what the connections found out.

    One frozen value, so a reader in another thread never sees a state with the
    detail or error of another.
    """

    state: ReceiverState
    detail: str | None = None
    error: AntStickError | None = None
    """The last open error (its ``reason`` names the problem); None once open."""
    mode: ReceiveMode | None = None
    """How the current (or last) connection listens."""
    stick: StickInfo | None = None
    """What the stick reported about itself at the last connection."""


class LogThrottle:
    """Lets a recurring problem through once per interval, counting the rest."""

    def __init__(self, clock: Callable[[], float], every_s: float) -> None:
        """Allow the first report at once, then one per ``every_s``."""
        self._clock = clock
        self._every_s = every_s
        self._last_s: float | None = None
        self._suppressed = 0

    def due(self) -> int | None:
        """How many were held back since the last report; None: hold this one."""
        now = self._clock()
        if self._last_s is not None and now - self._last_s < self._every_s:
            self._suppressed += 1
            return None
        self._last_s = now
        recurred, self._suppressed = self._suppressed, 0
        return recurred


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
        self._counters = Counters()
        self._pending: list[RawPage] = []
        self._pending_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = ReceiverStatus(ReceiverState.STOPPED)
        self._in_outage = False
        self._outage_log = LogThrottle(
            self._settings.clock, self._settings.usb_error_log_every_s
        )
        self._outage_logged = False

    # -- public API ----------------------------------------------------------------

    @property
    def status(self) -> ReceiverStatus:
        """The current state, why, and what the last connection found."""
        return self._status

    def counters(self) -> dict[str, int]:
        """Snapshot of the frame, page and connection counters."""
        return self._counters.snapshot()

    def diagnostics(self) -> dict[str, Any]:
        """Counters and state, for diagnostics (safe to call from any thread)."""
        status = self._status
        stick = status.stick
        return {
            **self._counters.snapshot(),
            "state": str(status.state),
            "detail": status.detail,
            "mode": str(status.mode) if status.mode else None,
            "scan_mode_supported": stick.scan_mode if stick else None,
            "max_channels": stick.max_channels if stick else None,
            "ant_version": stick.ant_version if stick else None,
            "last_error": status.error.reason if status.error else None,
        }

    def start(self) -> None:
        """Start receiving in the background; returns at once.

        Open errors are not raised: they are reported through ``on_state`` and
        retried with backoff. Use :func:`probe_stick` to fail fast.
        """
        if self._thread is not None:
            raise RuntimeError("AntReceiver.start() called twice")
        # Reported from the supervisor thread.
        self._status = replace(self._status, state=ReceiverState.STARTING)
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
        link: StickLink | None = None
        try:
            while not self._stop.is_set():
                link = StickLink(
                    settings,
                    self._counters,
                    self._queue_page,
                    self._pairing,
                    self._stop,
                )
                try:
                    link.open()
                except OpenCancelledError:
                    break
                except AntStickError as err:
                    self._status = replace(self._status, error=err)
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
                    link.close()
                    break
                self._connected(link)
                backoff = settings.backoff_initial_s
                fault = self._watch(link)
                link.close()
                self._flush()
                if fault is None:
                    break
                self._outage(*fault)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, settings.backoff_max_s)
        except Exception:
            _LOGGER.exception("The ANT+ receiver stopped unexpectedly")
            if link is not None:
                link.close()
            self._set_state(ReceiverState.ERROR, "internal error, see the log")
            return
        finally:
            self._flush()
        self._set_state(ReceiverState.STOPPED, None)

    def _connected(self, link: StickLink) -> None:
        self._status = replace(
            self._status, mode=link.mode, stick=link.info, error=None
        )
        self._counters.add("connects")
        if not self._in_outage:
            _LOGGER.info("ANT+ stick opened, receiving (%s)", link.mode)
        else:
            self._counters.add("reconnects")
            log = _LOGGER.info if self._outage_logged else _LOGGER.debug
            log("ANT+ stick is back, receiving again (%s)", link.mode)
        self._in_outage = False
        info = link.info
        if link.mode is ReceiveMode.SCAN:
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
            # Once per outage, and a stick that keeps failing (a flaky hub, a
            # loose cable) once per interval with a count; retries at debug only.
            self._in_outage = True
            recurred = self._outage_log.due()
            self._outage_logged = recurred is not None
            if recurred is not None:
                _LOGGER.warning(
                    "ANT+ receiver %s: %s (retrying, backoff up to %g s)%s",
                    state,
                    detail,
                    self._settings.backoff_max_s,
                    f"; {recurred} more outages since the last report"
                    if recurred
                    else "",
                )
            else:
                _LOGGER.debug("ANT+ receiver %s again: %s", state, detail)
        else:
            _LOGGER.debug("ANT+ receiver still %s: %s", state, detail)
        if state is not self._status.state or (
            state is ReceiverState.ERROR and detail != self._status.detail
        ):
            self._set_state(state, detail)

    def _watch(self, link: StickLink) -> tuple[ReceiverState, str] | None:
        settings = self._settings
        probe_sent: float | None = None
        next_housekeeping = time.monotonic() + _HOUSEKEEPING_S
        while True:
            self._wake.wait(settings.batch_interval_s)
            self._wake.clear()
            self._flush()
            if self._stop.is_set():
                return None
            fault = link.check()
            if fault is not None:
                return fault
            link.tend()
            now = time.monotonic()
            if probe_sent is None:
                if now - link.last_rx >= settings.stale_after_s:
                    try:
                        link.probe()
                    except Exception as err:  # mapped to a state
                        if is_device_gone(err):
                            return (
                                ReceiverState.DISCONNECTED,
                                f"ANT+ stick gone ({err})",
                            )
                        return ReceiverState.ERROR, f"ANT+ stick write failed: {err!r}"
                    probe_sent = now
            elif link.last_rx >= probe_sent:
                probe_sent = None
            elif now - probe_sent >= settings.probe_timeout_s:
                self._counters.add("stale_links")
                silent = now - link.last_rx
                return (
                    ReceiverState.STALE,
                    f"the ANT+ stick sent nothing for {silent:.0f} s "
                    "and did not answer a status request",
                )
            if now >= next_housekeeping:
                link.housekeeping()
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
        if batch and self._hand_over(
            self._deliver, batch, "deliver_errors", "Error delivering ANT+ pages"
        ):
            self._counters.add("pages_delivered", len(batch))
            self._counters.add("batches_delivered")

    def _set_state(self, state: ReceiverState, detail: str | None) -> None:
        self._status = status = replace(self._status, state=state, detail=detail)
        if self._on_state is not None:
            self._hand_over(
                self._on_state,
                status,
                "state_errors",
                "Error reporting the ANT+ receiver state",
            )

    def _hand_over[T](
        self, consumer: Callable[[T], None], value: T, counter: str, what: str
    ) -> bool:
        """Call the caller's ``consumer``: what it raises is counted, logged once."""
        try:
            consumer(value)
        except Exception as err:
            self._counters.failed(counter, err, _LOGGER, what)
            return False
        return True

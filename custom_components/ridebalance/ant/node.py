"""openant's ``Node``, opened so that its reader is guarded from the first byte and
a failed open leaves no thread and no claimed stick behind.

openant 1.3.4's ``Ant.__init__`` finds the driver, opens it, starts its reader
thread and only then writes RESET. On a real stick that order costs twice:

* the reader reads before anyone could wrap the driver's ``read``, so a frame
  split over two reads at that moment reaches openant's checksum check broken
  and ends its reader;
* when the RESET write fails (the stick was pulled: ENODEV; one transient
  timeout), the constructor raises and nothing stops the reader: it keeps the
  interface claimed (every later open is "busy") or, with the stick gone, logs
  a warning per failed read in a tight loop.

:class:`GuardedNode` is openant's ``Node`` with its own ``Ant``: the driver's
``read`` is wrapped the moment openant assigns the driver, before it is opened,
and a failed open or RESET stops and joins the reader and releases the device
before the error propagates.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
import logging
import queue
import threading
from typing import Any, Final

from openant.base.ant import Ant
from openant.easy.node import Node

_LOGGER = logging.getLogger(__name__)

type ReadWrapper = Callable[[Callable[[], Any]], Callable[[], Any]]

_READER_JOIN_S: Final = 2.0  # a USB read returns within its 1 s timeout


class _GuardedAnt(Ant):  # type: ignore[misc]
    """openant's ``Ant`` with a wrapped ``read`` and a clean failed start."""

    def __init__(self, wrap_read: ReadWrapper) -> None:
        self._wrap_read = wrap_read
        super().__init__()

    # ``Ant.__init__`` starts with ``self._driver = find_driver()``: wrapping in
    # the setter puts the guard in place before the driver is opened or read.
    @property
    def _driver(self) -> Any:
        return self.__dict__["_guarded_driver"]

    @_driver.setter
    def _driver(self, driver: Any) -> None:
        driver.read = self._wrap_read(driver.read)
        open_driver = driver.open

        def open_or_release() -> None:
            try:
                open_driver()
            except BaseException:
                _release(driver)
                raise

        driver.open = open_or_release
        self.__dict__["_guarded_driver"] = driver

    def reset_system(self) -> None:
        """RESET as openant does it; if the write fails, leave nothing running."""
        try:
            super().reset_system()
        except BaseException:
            self.abandon()
            raise

    def abandon(self) -> None:
        """Stop the reader thread and release the device, as far as possible."""
        self._running = False
        reader = getattr(self, "_worker_thread", None)
        if isinstance(reader, threading.Thread) and reader.ident is not None:
            reader.join(_READER_JOIN_S)
            if reader.is_alive():
                _LOGGER.warning("openant's reader did not stop after a failed open")
        _release(self._driver)


def _release(driver: Any) -> None:
    """Give the interface back; a vanished stick fails here, which is fine."""
    try:
        driver.close()
    except Exception as err:
        _LOGGER.debug("Releasing the ANT+ stick: %r", err)


class GuardedNode(Node):  # type: ignore[misc]
    """openant's ``Node`` built on :class:`_GuardedAnt`.

    ``Node.__init__`` creates its ``Ant`` itself, so this sets up the same
    attributes (checked against openant 1.3.4, the pinned version) around ours.
    """

    def __init__(self, wrap_read: ReadWrapper) -> None:
        """Open the stick; raises what openant raises, with nothing left behind."""
        self._responses_cond = threading.Condition()
        self._responses: deque[Any] = deque()
        self._event_cond = threading.Condition()
        self._events: deque[Any] = deque()
        self._datas: queue.Queue[Any] = queue.Queue()
        self.serial: int | None = None
        self.ant_version: str | None = None
        self.max_networks = 8
        self.max_channels = 8
        self.channels: list[Any] = []
        self.standard_options: set[Any] = set()
        self.advanced_options: set[Any] = set()
        self.advanced_options_two: set[Any] = set()
        self.advanced_options_three: set[Any] = set()
        self.max_sensorcore_channels = 0
        self.ant = _GuardedAnt(wrap_read)
        self._running = True
        self._worker_thread = threading.Thread(target=self._worker, name="openant.easy")
        self._worker_thread.start()

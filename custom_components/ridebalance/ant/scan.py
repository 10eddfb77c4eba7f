"""Scan for ANT+ devices in range, and probe a stick: both blocking, for setup."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
import logging
import threading
import time

from .framing import Counters
from .identity import AntDevice
from .pages import (
    COMMON_PAGE_MANUFACTURER,
    COMMON_PAGE_PRODUCT,
    DEVICE_TYPE_HEART_RATE,
    RawPage,
)
from .stick import (
    OpenCancelledError,
    ReceiverSettings,
    ReceiverState,
    StickInfo,
    StickLink,
)
from .usb_errors import AntStickError, AntStickNotFoundError

_LOGGER = logging.getLogger(__name__)

# (device type, latest raw page by page number, device number) -> a label.
type Describe = Callable[[int, Mapping[int, bytes], int], str | None]


@dataclass(frozen=True, slots=True)
class HeardDevice(AntDevice):
    """One device heard during :func:`scan`."""

    page_count: int
    pages: Mapping[int, bytes] = field(default_factory=dict)  # latest by page no.
    description: str | None = None

    @property
    def manufacturer_page(self) -> bytes | None:
        """Raw common page 0x50 (manufacturer id, model), if it was heard."""
        return self.pages.get(COMMON_PAGE_MANUFACTURER)

    @property
    def product_page(self) -> bytes | None:
        """Raw common page 0x51 (software version, serial), if it was heard."""
        return self.pages.get(COMMON_PAGE_PRODUCT)


class HeardTally:
    """Counts the pages of every device heard and keeps each one's latest pages.

    ``add`` may be called from any thread (a stick's, or the event loop for a
    gateway's pages); ``heard`` lists the devices, the most active first.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[int, int, int], int] = {}
        self._latest: dict[tuple[int, int, int], dict[int, bytes]] = {}

    def add(self, page: RawPage) -> None:
        """One page heard."""
        key = (page.device_type, page.device_number, page.transmission_type)
        number = page.data[0]
        if page.device_type == DEVICE_TYPE_HEART_RATE:
            number &= 0x7F  # bit 7 is the page-change toggle
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            self._latest.setdefault(key, {})[number] = page.data

    def heard(self, describe: Describe | None = None) -> list[HeardDevice]:
        """Every device heard, by type, the most active first."""
        heard = []
        with self._lock:
            for key, count in self._counts.items():
                pages = dict(self._latest[key])
                label = None
                if describe is not None:
                    try:
                        label = describe(key[0], pages, key[1])
                    except Exception:
                        _LOGGER.exception("Could not describe ANT+ device %s", key)
                heard.append(HeardDevice(*key, count, pages, label))
        heard.sort(key=lambda d: (d.device_type, -d.page_count, d.device_number))
        return heard


def probe_stick(settings: ReceiverSettings | None = None) -> StickInfo:
    """Open the stick, read its capabilities and close it (blocking, ~2 s).

    Raises an :class:`AntStickError` subclass naming the problem and its fix.
    """
    link = StickLink(
        settings or ReceiverSettings(), Counters(), lambda _page: None, None
    )
    try:
        link.open(configure=False)
    finally:
        link.close()
    assert link.info is not None
    return link.info


def scan(
    seconds: float = 10.0,
    *,
    describe: Describe | None = None,
    settings: ReceiverSettings | None = None,
    stop: threading.Event | None = None,
) -> list[HeardDevice]:
    """Listen for ``seconds`` (or until ``stop`` is set) and return every device
    heard (blocking); the stick is closed again before it returns.

    Uses the continuous-scan channel when the stick has one (every device type),
    otherwise wildcard channels for power, FE-C and heart rate. ``describe``
    (device type, latest raw page by page number) → label, e.g. the manufacturer
    decoded from page 0x50. Raises :class:`AntStickError` if the stick cannot be
    opened or vanishes during the scan.
    """
    tally = HeardTally()
    stop = stop or threading.Event()
    link = StickLink(
        settings or ReceiverSettings(), Counters(), tally.add, None, cancel=stop
    )
    try:
        link.open()
    except OpenCancelledError:
        return []  # stopped while the stick was still answering its opening
    try:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            if stop.wait(min(0.1, remaining)):
                break
            fault = link.check()
            if fault is not None:
                state, detail = fault
                if state is ReceiverState.DISCONNECTED:
                    raise AntStickNotFoundError(detail)
                raise AntStickError(detail)
            link.tend()
    finally:
        link.close()
    return tally.heard(describe)

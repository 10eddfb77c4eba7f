"""``scripts/gateway``: own the ANT+ stick near the bike, publish its pages to MQTT.

Runs without Home Assistant. The receiver (the integration's own, no filtering by
rider: every power meter, trainer and strap in range) feeds the :class:`Uplink`;
the terminal shows one status line when something changes and every
``--status-every`` seconds. SIGINT/SIGTERM stop it cleanly: the retained status
then says ``offline`` (a killed gateway leaves the same word as its last will).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import replace
import logging
import os
import signal
import socket
import threading
import time
from typing import Final, NoReturn, Protocol, override

from ..ant.pages import RawPage
from ..ant.receiver import AntReceiver, ReceiverStatus
from ..ant.stick import ReceiverSettings, ReceiverState
from .uplink import BrokerSettings, Uplink
from .wire import (
    DEFAULT_TOPIC_PREFIX,
    StickState,
    check_gateway_id,
    check_topic_prefix,
)

_LOGGER = logging.getLogger(__name__)

ENV_MQTT: Final = "RIDEBALANCE_MQTT"  # keeps the password out of `ps` and unit files
DEFAULT_MQTT: Final = "mqtt://localhost:1883"
STICK_STATES: Final = {
    ReceiverState.STARTING: StickState.CONNECTING,
    ReceiverState.CONNECTED: StickState.CONNECTED,
    ReceiverState.STALE: StickState.DISCONNECTED,
    ReceiverState.DISCONNECTED: StickState.DISCONNECTED,
    ReceiverState.ERROR: StickState.ERROR,
    ReceiverState.STOPPED: StickState.DISCONNECTED,
}

# The uplink paces what goes out; the receiver hands pages over promptly.
RECEIVER_SETTINGS: Final = ReceiverSettings(batch_interval_s=0.05)

type Deliver = Callable[[list[RawPage]], None]
type OnStick = Callable[[StickState, str | None], None]


class PageSource(Protocol):
    """A stick (or the simulated rider) that hands pages over from its thread."""

    def start(self) -> None:
        """Start in the background."""

    def stop(self) -> None:
        """Stop and join its threads."""


class SimulatedStick:
    """The simulated rider's byte-exact pages, in real time, instead of a stick.

    Page times are when they are "received" (the gateway's monotonic clock), as a
    stick's would be; the pages themselves are those of the simulator source.
    """

    def __init__(self, deliver: Deliver, on_stick: OnStick, seed: int = 0) -> None:
        self._deliver = deliver
        self._on_stick = on_stick
        self._seed = seed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start playing in a thread."""
        self._thread = threading.Thread(target=self._run, name="ridebalance-sim")
        self._thread.start()

    def stop(self) -> None:
        """Stop playing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            self._play()
        except Exception as err:
            # The thread ends here: unreported, the status would say "connecting"
            # for ever and the traceback reach stderr, not the log.
            _LOGGER.exception("The simulated rider stopped")
            self._on_stick(
                StickState.ERROR,
                f"the simulated rider stopped ({type(err).__name__}); "
                "see the gateway's log",
            )

    def _play(self) -> None:
        from ..sim import demo_ride, generate  # noqa: PLC0415  numpy: --simulate only
        from ..sim.rider import SAMPLE_HZ, SimulatedRider  # noqa: PLC0415

        script = demo_ride()
        rider = SimulatedRider(generate(script, self._seed))
        started = time.monotonic()
        self._on_stick(StickState.SIMULATED, "the simulated rider")
        while not self._stop.wait(1.0 / SAMPLE_HZ):
            due = int((time.monotonic() - started) * SAMPLE_HZ)
            pages: list[RawPage] = []
            while rider.emitted < due:
                pages.extend(
                    replace(page, timestamp_s=started + page.timestamp_s)
                    for page in rider.next_pages()
                )
                if rider.next_lap is None:  # a few ms of numpy, ahead of need
                    rider.next_lap = generate(script, self._seed + rider.lap + 1)
            if pages:
                self._deliver(pages)


class _Parser(argparse.ArgumentParser):
    """argparse, its errors on one line (no usage): a service's log, the installer."""

    @override
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; errors exit with status 2 and a one-line message."""
    parser = _Parser(
        prog="scripts/gateway",
        description="Publish the ANT+ pages heard by a local stick to an MQTT "
        "broker, for RideBalance in Home Assistant.",
    )
    parser.add_argument(
        "--mqtt",
        default=os.environ.get(ENV_MQTT, DEFAULT_MQTT),
        metavar="mqtt[s]://user:pass@host:port",
        help=f"the broker (default: ${ENV_MQTT} or {DEFAULT_MQTT})",
    )
    parser.add_argument(
        "--cafile",
        help="certificate authority for mqtts:// (default: the system's)",
    )
    parser.add_argument(
        "--id",
        default=_default_id(),
        help="this gateway's name in topics and in Home Assistant "
        "(default: the host name)",
    )
    parser.add_argument(
        "--topic-prefix",
        default=DEFAULT_TOPIC_PREFIX,
        help=f"first topic level (default: {DEFAULT_TOPIC_PREFIX})",
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="play the simulated rider's pages instead of opening a stick",
    )
    parser.add_argument(
        "--status-every",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="print (and publish) the status at least this often (default: 30)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--check",
        action="store_true",
        help="check the options and exit (0: usable; 2: why not), without "
        "connecting: what gateway/install does before it starts the service",
    )
    args = parser.parse_args(argv)
    try:
        check_gateway_id(args.id)
        check_topic_prefix(args.topic_prefix)
        args.broker = BrokerSettings.from_url(args.mqtt, ca_file=args.cafile)
    except ValueError as err:
        parser.error(str(err))
    if args.status_every <= 0:
        parser.error("--status-every must be more than 0 seconds")
    if args.cafile is not None and not os.path.isfile(args.cafile):
        parser.error(f"--cafile {args.cafile} is not a file")
    if args.check:
        print(
            f"{parser.prog}: options usable: gateway {args.id}, "
            f"broker {args.broker.describe()}"
        )
        parser.exit(0)
    return args


def _default_id() -> str:
    name = socket.gethostname().split(".")[0]
    try:
        return check_gateway_id(name)
    except ValueError:
        return "gateway"


class Gateway:
    """One running gateway: a page source, the uplink and the terminal line."""

    def __init__(self, args: argparse.Namespace, out: Callable[[str], None]) -> None:
        self._args = args
        self._out = out
        self._changed = threading.Event()
        self._stop = threading.Event()
        self.uplink = Uplink(
            args.broker,
            args.id,
            topic_prefix=args.topic_prefix,
            status_every_s=args.status_every,
            on_change=self._changed.set,
        )
        self._receiver: AntReceiver | None = None
        self.source: PageSource
        if args.simulate:
            self.source = SimulatedStick(self.uplink.add_pages, self.uplink.set_stick)
        else:
            self._receiver = AntReceiver(
                self.uplink.add_pages, self._on_receiver, settings=RECEIVER_SETTINGS
            )
            self.source = self._receiver

    def _on_receiver(self, status: ReceiverStatus) -> None:
        self.uplink.set_stick(STICK_STATES[status.state], status.detail)

    def run(self) -> None:
        """Until :meth:`stop`: publish, and print a status line now and then."""
        self.uplink.start()
        self.source.start()
        last_line = ""
        next_line = 0.0
        last_in = 0
        last_at = time.monotonic()
        try:
            while not self._stop.is_set():
                self._changed.wait(1.0)
                self._changed.clear()
                now = time.monotonic()
                counters = self.uplink.counters()
                rate = (counters["pages_in"] - last_in) / max(now - last_at, 1e-3)
                line = self.status_line(counters, rate)
                # Gateway, broker and stick: a change there is shown at once.
                state_part = line.split(" · ", 3)[:3]
                if now >= next_line or state_part != last_line.split(" · ", 3)[:3]:
                    self._out(line)
                    last_line = line
                    next_line = now + self._args.status_every
                    last_in, last_at = counters["pages_in"], now
        finally:
            self.source.stop()
            announced = self.uplink.stop()
            self._out(
                self.status_line(
                    self.uplink.counters(),
                    None,
                    stopped="stopped (offline announced)"
                    if announced
                    else "stopped (broker away: offline not announced)",
                )
            )

    def stop(self) -> None:
        """Ask :meth:`run` to finish (safe from a signal handler)."""
        self._stop.set()
        self._changed.set()

    def status_line(
        self,
        counters: dict[str, int],
        rate: float | None,
        *,
        stopped: str | None = None,
    ) -> str:
        """``gateway ID · broker … · stick … · pages …``, for the terminal."""
        uplink = self.uplink
        if stopped is not None:
            broker = stopped
        elif uplink.connected:
            broker = f"broker {self._args.broker.describe()} connected"
        else:
            broker = f"broker {self._args.broker.describe()}: " + (
                uplink.broker_error or "connecting"
            )
        status = uplink.status()
        stick = f"stick {status.stick}"
        if status.detail:
            stick += f" ({status.detail})"
        pages = (
            f"{counters['pages_in']} pages in, {counters['batches_sent']} batches "
            f"sent, {counters['backlog']} waiting, "
            f"{counters['batches_dropped']} dropped"
        )
        if rate is not None:
            pages = f"{rate:.0f} pages/s, " + pages
        return f"gateway {self._args.id} · {broker} · {stick} · {pages}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT or SIGTERM."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        logging.getLogger("openant").setLevel(logging.WARNING)
    gateway = Gateway(args, lambda line: print(line, flush=True))

    def on_signal(_signum: int, _frame: object) -> None:
        gateway.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    gateway.run()
    return 0

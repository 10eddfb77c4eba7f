"""A real mosquitto on a free localhost port, for the gateway and its source.

Registered as a pytest plugin in tests/conftest.py. ``mosquitto`` is one broker
for the whole session (stopped at the end); ``own_broker`` is one per test, for
tests that stop and restart it; ``strict_broker`` one per test that refuses every
login. All skip cleanly when Debian's mosquitto is not installed (``.ci/run``
installs it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
import shutil
import socket
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
# The Home Assistant test plugin blocks creating sockets while a test runs (a test
# asks for ``socket_enabled``); a session broker may start inside any test, so it
# keeps the socket class as it was when this plugin was imported.
_SOCKET = socket.socket


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with _SOCKET(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(host: str, port: int) -> bool:
    with _SOCKET(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for(
    predicate: Callable[[], bool], timeout_s: float = 10.0, what: str = ""
) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


class Broker:
    """One mosquitto process on 127.0.0.1, startable again on the same port."""

    def __init__(self, workdir: Path, *, anonymous: bool = True) -> None:
        self.port = free_port()
        self.host = "127.0.0.1"
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None
        self._config = workdir / "mosquitto.conf"
        self._config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"allow_anonymous {'true' if anonymous else 'false'}\n"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n"
            "log_type notice\n"  # each connection, and each refused login
        )

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:PORT`` for the gateway."""
        return f"mqtt://{self.host}:{self.port}"

    def log(self) -> str:
        """What mosquitto has logged so far (see ``log_type`` above)."""
        path = self._workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def running(self) -> bool:
        """The process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start mosquitto and wait until it accepts connections."""
        log = (self._workdir / "mosquitto.log").open("ab")
        self._process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self._config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 10.0
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited with {self._process.returncode}; "
                    f"see {self._workdir / 'mosquitto.log'}"
                )
            if _listening(self.host, self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on port {self.port} in 10 s")

    def stop(self) -> None:
        """Stop mosquitto (its retained messages go with it: no persistence)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _broker(tmp: Path, *, anonymous: bool = True) -> Iterator[Broker]:
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    broker = Broker(tmp, anonymous=anonymous)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One broker for the test session."""
    yield from _broker(tmp_path_factory.mktemp("mosquitto"))


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker of this test's own, to stop and start again."""
    yield from _broker(tmp_path)


@pytest.fixture
def strict_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker of this test's own that knows no user: every login is refused."""
    yield from _broker(tmp_path, anonymous=False)


class Listener:
    """A plain MQTT subscriber that records what arrives (for assertions).

    Ready when constructed: the broker has acknowledged the subscription, so no
    message published afterwards can be missed.
    """

    def __init__(self, broker: Broker, topic: str = "#") -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._refused: list[ReasonCode] = []
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self._client.on_message = self._on_message
        self._client.on_connect = lambda client, *_: client.subscribe(topic)
        self._client.on_subscribe = self._on_subscribe
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        if not self._subscribed.wait(10.0) or self._refused:
            self.close()
            raise RuntimeError(
                f"subscribing to {topic!r} failed: "
                + (str(self._refused) if self._refused else "no SUBACK in 10 s")
            )

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _mid: int,
        reasons: list[ReasonCode],
        _properties: object,
    ) -> None:
        self._refused = [reason for reason in reasons if reason.is_failure]
        self._subscribed.set()

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        with self._lock:
            self.messages.append(message)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Publish as another client would (a gateway of another make, say)."""
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def on(self, topic: str) -> list[mqtt.MQTTMessage]:
        """The messages received on ``topic`` so far."""
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(
        self, predicate: Callable[[], bool], timeout_s: float = 10.0, what: str = ""
    ) -> None:
        """:func:`wait_for`, for what this listener receives."""
        wait_for(predicate, timeout_s, what)

    async def until(
        self, predicate: Callable[[], bool], timeout_s: float = 10.0, what: str = ""
    ) -> None:
        """``wait_for`` for tests in an event loop: the loop keeps running."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or predicate}")
            await asyncio.sleep(0.05)

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def listen() -> Iterator[Callable[..., Listener]]:
    """Start listeners on a broker; all are closed after the test."""
    listeners: list[Listener] = []

    def start(broker: Broker, topic: str = "#") -> Listener:
        listener = Listener(broker, topic)
        listeners.append(listener)
        return listener

    yield start
    for listener in listeners:
        listener.close()


type StartGateway = Callable[..., subprocess.Popen[str]]
type SetupMqtt = Callable[[Broker], Awaitable[MockConfigEntry]]

ROOT = Path(__file__).resolve().parents[1]
# Runs the gateway's launcher with every Home Assistant import failing, as on a
# Raspberry Pi without it.
WITHOUT_HA = (
    "import runpy, sys; sys.modules['homeassistant'] = None; "
    f"sys.argv[0] = 'gateway'; runpy.run_path({str(ROOT / 'gateway' / 'run.py')!r}, "
    "run_name='__main__')"
)


@pytest.fixture
def gateway_process() -> Iterator[StartGateway]:
    """Start simulated gateways as processes (no Home Assistant); killed at the end."""
    processes: list[tuple[str, subprocess.Popen[str]]] = []

    def start(broker: Broker, gateway_id: str, *extra: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WITHOUT_HA,
                "--simulate",
                "--mqtt",
                broker.url,
                "--id",
                gateway_id,
                *extra,
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append((gateway_id, process))
        return process

    yield start
    for gateway_id, process in processes:
        if process.stdout is None or process.stdout.closed:
            continue  # the test has already collected it
        if process.poll() is None:
            process.kill()
        output, _ = process.communicate()
        print(f"--- gateway {gateway_id}:\n{output}")  # shown when a test fails

"""The gateway as a rider runs it: a process, a real mosquitto, signals."""

from __future__ import annotations

from collections.abc import Callable
import logging
import os
from pathlib import Path
import signal
import subprocess
import threading

import pytest

from custom_components.ridebalance.gateway.program import Gateway, main, parse_args
from custom_components.ridebalance.gateway.wire import (
    GatewayState,
    GatewayStatus,
    StickState,
    decode_batch,
    decode_status,
)
from custom_components.ridebalance.sim.rider import (
    SIM_HEART_RATE,
    SIM_PEDALS,
    SIM_TRAINER,
)
from tests.mqtt_broker import ROOT, Broker, Listener, wait_for
from tests.usbstick.backend import SimulatedStick

pytestmark = pytest.mark.usefixtures("socket_enabled")


def retained_status(
    broker: Broker, listen: Callable[..., Listener], gateway: str
) -> GatewayStatus:
    """What a subscriber arriving now is told about the gateway."""
    topic = f"ridebalance/{gateway}/status"
    late = listen(broker, topic)
    late.wait_for(lambda: bool(late.on(topic)), what="the retained status")
    message = late.on(topic)[0]
    assert message.retain
    return decode_status(message.payload)


def test_simulated_gateway_publishes_announces_and_says_goodbye(
    mosquitto: Broker, listen: Callable[..., Listener]
) -> None:
    listener = listen(mosquitto, "ridebalance/sim-gw/#")
    # The way a rider starts it, through the script that sets itself up.
    process = subprocess.Popen(
        [
            str(ROOT / "scripts" / "gateway"),
            "--simulate",
            "--mqtt",
            mosquitto.url,
            "--id",
            "sim-gw",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        listener.wait_for(
            lambda: len(listener.on("ridebalance/sim-gw/pages")) >= 8,
            what="eight batches of pages",
        )
        status = retained_status(mosquitto, listen, "sim-gw")
        assert status.state is GatewayState.ONLINE
        assert status.stick is StickState.SIMULATED
        batches = [
            decode_batch(m.payload) for m in listener.on("ridebalance/sim-gw/pages")
        ]
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert {b.session for b in batches} == {status.session}
    assert [b.sequence for b in batches] == list(range(len(batches)))
    heard = {(p.device_type, p.device_number) for b in batches for p in b.pages}
    assert heard >= {(11, SIM_PEDALS), (17, SIM_TRAINER), (120, SIM_HEART_RATE)}
    times = [p.timestamp_s for b in batches for p in b.pages]
    assert times == sorted(times)

    goodbye = retained_status(mosquitto, listen, "sim-gw")
    assert goodbye.state is GatewayState.OFFLINE
    assert goodbye.detail == "stopped"
    assert goodbye.counters["batches_sent"] >= len(batches)
    assert f"gateway sim-gw · broker {mosquitto.url} connected" in output
    assert "stopped (offline announced)" in output


def test_a_killed_gateway_leaves_its_last_will_and_needs_no_home_assistant(
    mosquitto: Broker,
    listen: Callable[..., Listener],
    gateway_process: Callable[..., subprocess.Popen[str]],
) -> None:
    listener = listen(mosquitto, "ridebalance/kill-me/#")
    process = gateway_process(mosquitto, "kill-me")
    try:
        listener.wait_for(
            lambda: bool(listener.on("ridebalance/kill-me/pages")),
            what="a batch from the gateway without Home Assistant",
        )
        assert retained_status(mosquitto, listen, "kill-me").online
    finally:
        process.kill()
        output, _ = process.communicate(timeout=10)
    assert "Error" not in output, output
    will = retained_status(mosquitto, listen, "kill-me")
    assert will.state is GatewayState.OFFLINE
    assert will.detail == "the gateway lost its connection to the broker"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--mqtt", "http://host"], "must start with mqtt:// or mqtts://"),
        (["--mqtt", "mqtt://"], "has no host"),
        (["--mqtt", "mqtt://host:port"], "port that is not a number"),
        (["--mqtt", "mqtt://host/topic"], "has a path or query"),
        (["--id", "gym/pi"], "gateway id 'gym/pi' is not usable"),
        (["--topic-prefix", "a/#"], "topic prefix 'a/#' is not usable"),
        (["--status-every", "0"], "--status-every must be more than 0"),
        (["--status-every", "often"], "invalid float value: 'often'"),
        (["--cafile", "/nowhere/ca.pem"], "--cafile /nowhere/ca.pem is not a file"),
    ],
)
def test_bad_options_stop_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("scripts/gateway: error: ")
    assert error.count("\n") == 1
    assert message in error


def test_broker_url_with_credentials_and_tls(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("")
    args = parse_args(
        ["--mqtt", "mqtts://rider:p%40ss@broker.lan", "--cafile", str(ca_file)]
    )
    broker = args.broker
    assert (broker.host, broker.port, broker.tls) == ("broker.lan", 8883, True)
    assert (broker.username, broker.password) == ("rider", "p@ss")
    assert broker.ca_file == str(ca_file)
    assert broker.describe() == "mqtts://rider@broker.lan:8883"  # no password
    plain = parse_args(["--mqtt", "mqtt://10.0.0.2"]).broker
    assert (plain.port, plain.tls, plain.username) == (1883, False, None)


def test_broker_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIDEBALANCE_MQTT", "mqtt://user:secret@ha.local:1884")
    broker = parse_args([]).broker
    assert (broker.host, broker.port, broker.password) == ("ha.local", 1884, "secret")


@pytest.mark.parametrize(
    ("url", "code", "said"),
    [
        (
            "mqtt://rider:s3cret-pw@ha.local:1884",
            0,
            "scripts/gateway: options usable: gateway garage, "
            "broker mqtt://rider@ha.local:1884\n",
        ),
        (
            "http://rider:s3cret-pw@ha.local",
            2,
            "scripts/gateway: error: broker URL must start with mqtt:// or "
            "mqtts://, not 'http'\n",
        ),
    ],
)
def test_check_says_whether_the_options_are_usable_and_exits(
    url: str,
    code: int,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--check``, as gateway/install runs it: one line, no password, no broker."""
    monkeypatch.setenv("RIDEBALANCE_MQTT", url)
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--check", "--id", "garage"])
    assert exit_info.value.code == code
    out = capsys.readouterr()
    assert out.out + out.err == said


def test_in_process_the_gateway_prints_its_status_and_stops_on_sigterm(
    mosquitto: Broker,
    listen: Callable[..., Listener],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``main`` as the service manager runs it: status lines, SIGTERM, exit 0."""
    listener = listen(mosquitto, "ridebalance/inproc/#")
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def stop_when_riding() -> None:
        listener.wait_for(
            lambda: len(listener.on("ridebalance/inproc/pages")) >= 4,
            what="pages from the gateway",
        )
        os.kill(os.getpid(), signal.SIGTERM)

    stopper = threading.Thread(target=stop_when_riding)
    stopper.start()
    try:
        code = main(
            [
                *("--simulate", "--mqtt", mosquitto.url),
                *("--id", "inproc", "--status-every", "0.5"),
            ]
        )
    finally:
        stopper.join()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith(f"gateway inproc · broker {mosquitto.url} connected · ")
        and "stick simulated (the simulated rider)" in line
        and "pages/s" in line
        for line in lines
    ), lines
    assert lines[-1].startswith("gateway inproc · stopped (offline announced) · ")
    goodbye = decode_status(listener.on("ridebalance/inproc/status")[-1].payload)
    assert (goodbye.state, goodbye.detail) == (GatewayState.OFFLINE, "stopped")


def test_without_a_stick_the_gateway_says_so_and_keeps_trying(
    mosquitto: Broker, listen: Callable[..., Listener]
) -> None:
    """No ANT+ stick on this machine: online, the stick's problem in the status."""
    listener = listen(mosquitto, "ridebalance/no-stick/status")
    lines: list[str] = []
    gateway = Gateway(
        parse_args(["--mqtt", mosquitto.url, "--id", "no-stick"]), lines.append
    )
    runner = threading.Thread(target=gateway.run)
    runner.start()

    def told() -> bool:
        return any(
            decode_status(m.payload).stick
            in (StickState.DISCONNECTED, StickState.ERROR)
            for m in listener.on("ridebalance/no-stick/status")
        )

    try:
        listener.wait_for(told, what="the stick's problem in the status")
    finally:
        gateway.stop()
        runner.join(15)
    status = next(
        decode_status(m.payload)
        for m in listener.on("ridebalance/no-stick/status")
        if decode_status(m.payload).stick in (StickState.DISCONNECTED, StickState.ERROR)
    )
    assert status.online
    assert status.detail  # what is wrong and how to fix it, from the receiver
    assert not status.receiving
    assert not runner.is_alive()


def test_an_unplugged_stick_is_on_the_terminal_at_once(
    stick: SimulatedStick, mosquitto: Broker
) -> None:
    """Only the stick changes: a new line now, not at the next ``--status-every``."""
    lines: list[str] = []
    gateway = Gateway(
        parse_args(
            ["--mqtt", mosquitto.url, "--id", "unplug", "--status-every", "300"]
        ),
        lines.append,
    )
    runner = threading.Thread(target=gateway.run)
    runner.start()
    try:
        wait_for(
            lambda: any(" connected · stick connected" in line for line in list(lines)),
            what="the broker and the stick connected",
        )
        shown = len(lines)
        stick.unplug()
        wait_for(
            lambda: any("stick disconnected" in line for line in lines[shown:]),
            what="the unplugged stick on the terminal",
        )
    finally:
        gateway.stop()
        runner.join(15)
    assert not runner.is_alive()


def test_a_refused_login_is_on_the_terminal_without_the_password(
    strict_broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "s3cret-pw"
    url = f"mqtt://rider:{password}@127.0.0.1:{strict_broker.port}"
    lines: list[str] = []
    gateway = Gateway(
        parse_args(["--mqtt", url, "--id", "refused", "--simulate"]), lines.append
    )
    runner = threading.Thread(target=gateway.run)
    runner.start()
    try:
        wait_for(
            lambda: (
                strict_broker.log().count("not authorised") >= 2
                and any("refused the connection" in line for line in list(lines))
            ),
            what="two refused logins and the reason on the terminal",
        )
    finally:
        gateway.stop()
        runner.join(15)
    assert f"broker mqtt://rider@127.0.0.1:{strict_broker.port}: the broker " in (
        "\n".join(lines)
    )
    assert lines[-1].startswith(
        "gateway refused · stopped (broker away: offline not announced) · "
    )
    assert password not in "\n".join(lines)
    assert password not in caplog.text
    refused = [r for r in caplog.records if "refused the connection" in r.getMessage()]
    assert len(refused) == 1

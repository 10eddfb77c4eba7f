"""The container image holds all the gateway needs: run it from the image's copies.

No container engine here: the test copies exactly what gateway/Containerfile's
COPY lines copy into a folder and starts its ENTRYPOINT there, with nothing of the
repository (or of Home Assistant) importable besides, so a file the Containerfile
forgets fails here as it would in the image.
"""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import re
import shlex
import shutil
import signal
import subprocess
import sys

import pytest

from custom_components.ridebalance.gateway.wire import (
    GatewayState,
    StickState,
    decode_status,
)
from tests.mqtt_broker import ROOT, Broker, Listener

pytestmark = pytest.mark.usefixtures("socket_enabled")
CONTAINERFILE = ROOT / "gateway" / "Containerfile"


def instructions() -> list[tuple[str, str]]:
    """The Containerfile's (instruction, arguments), continued lines joined."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text())
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def build_image(workdir: Path) -> Path:
    """What the COPY lines put in the image's WORKDIR, copied into ``workdir``."""
    for word, rest in instructions():
        if word != "COPY":
            continue
        *sources, target = (
            arg for arg in shlex.split(rest) if not arg.startswith("--")
        )
        assert not Path(target).is_absolute(), f"COPY outside WORKDIR: {rest}"
        into = workdir / target
        for source in sources:
            path = ROOT / source
            assert path.exists(), f"the Containerfile copies {source}, which is gone"
            if path.is_dir():  # a folder's contents go into the target
                shutil.copytree(
                    path,
                    into,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"),
                )
            elif target.endswith("/"):
                into.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, into / path.name)
            else:
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, into)
    return workdir


def entrypoint_script() -> str:
    """The script the image's ENTRYPOINT runs with ``python``."""
    arguments = next(rest for word, rest in instructions() if word == "ENTRYPOINT")
    program, script = json.loads(arguments)
    assert program == "python"
    return str(script)


def run_in_image(image: Path, code: str, *args: str) -> subprocess.Popen[str]:
    """Python code in the image's WORKDIR: only the image's files importable.

    ``-I`` keeps the working directory, PYTHONPATH and the user's packages off
    ``sys.path``; Home Assistant, installed for the other tests, is made to fail.
    """
    return subprocess.Popen(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.modules['homeassistant'] = None\n{code}",
            *args,
        ],
        cwd=image,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def start_gateway(
    image: Path, broker: Broker, gateway_id: str
) -> subprocess.Popen[str]:
    """The image's ENTRYPOINT with the simulated rider."""
    script = entrypoint_script()
    return run_in_image(
        image,
        f"import runpy; sys.argv[0] = {script!r}; "
        f"runpy.run_path({script!r}, run_name='__main__')",
        *("--simulate", "--mqtt", broker.url, "--id", gateway_id),
    )


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, as ``docker stop`` sends; the output (shown if the test fails)."""
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output)
    return output


def test_the_image_runs_the_simulated_gateway(
    tmp_path: Path, mosquitto: Broker, listen: Callable[..., Listener]
) -> None:
    image = build_image(tmp_path)
    listener = listen(mosquitto, "ridebalance/image/#")
    process = start_gateway(image, mosquitto, "image")
    try:
        listener.wait_for(
            lambda: bool(listener.on("ridebalance/image/pages")),
            what="pages from the gateway in the image",
        )
        status = decode_status(listener.on("ridebalance/image/status")[-1].payload)
    finally:
        output = stop(process)
    assert (status.state, status.stick) == (GatewayState.ONLINE, StickState.SIMULATED)
    assert process.returncode == 0
    assert "Traceback" not in output


def test_every_module_in_the_image_imports(tmp_path: Path) -> None:
    """The stick's code too, which ``--simulate`` never loads."""
    image = build_image(tmp_path)
    script = entrypoint_script()
    process = run_in_image(
        image,
        "import importlib, pathlib, runpy\n"
        f"runpy.run_path({script!r})  # registers the packages, does not start\n"
        "for path in sorted(pathlib.Path('custom_components').rglob('*.py')):\n"
        "    parts = path.with_suffix('').parts\n"
        "    name = '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as err:\n"
        "        print(f'{name}: {type(err).__name__}: {err}')\n",
    )
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert output == ""


def test_a_simulated_rider_that_fails_says_so_in_the_status(
    tmp_path: Path, mosquitto: Broker, listen: Callable[..., Listener]
) -> None:
    """An image missing a module the simulator needs: an error, not 'connecting'."""
    image = build_image(tmp_path)
    (image / "custom_components" / "ridebalance" / "angles.py").unlink(missing_ok=True)
    listener = listen(mosquitto, "ridebalance/broken/status")
    process = start_gateway(image, mosquitto, "broken")

    def errors() -> list[str]:
        return [
            message.payload.decode()
            for message in listener.on("ridebalance/broken/status")
            if decode_status(message.payload).stick is StickState.ERROR
        ]

    try:
        listener.wait_for(lambda: bool(errors()), what="the stick's error")
    finally:
        output = stop(process)
    status = decode_status(errors()[0])
    assert status.online
    assert not status.receiving
    assert status.detail == (
        "the simulated rider stopped (ModuleNotFoundError); see the gateway's log"
    )
    assert process.returncode == 0
    logged = [line for line in output.splitlines() if "ERROR" in line]
    assert len(logged) == 1
    assert "The simulated rider stopped" in logged[0]
    assert "stick error (the simulated rider stopped" in output  # the terminal line
    assert "Exception in thread" not in output

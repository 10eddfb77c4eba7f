"""A throw-away Home Assistant with the simulated rider, for the browser check.

Builds a config folder from ``config/`` (simulator at the given speed, real
outdoor rides to import), runs Home Assistant from it in its own process group,
onboards a user through the onboarding API and talks to it over REST.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
import json
import os
from pathlib import Path
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

REPO = Path(__file__).resolve().parents[2]
SHARED_FIT = REPO.parent / "shared" / "fit"
# Real outdoor rides with dual-sided power pedals (see ../shared/fit/README.md).
OUTDOOR_RIDES = ("edge810-vector-pedals.fit", "edge530-powertap-p1-pedals.fit")
USERNAME = "rider"
PASSWORD = "ridebalance-demo"


@dataclass
class Tokens:
    """What the frontend keeps in localStorage as ``hassTokens``."""

    hass_url: str
    client_id: str
    access_token: str
    refresh_token: str
    expires_in: int

    def local_storage(self) -> str:
        return json.dumps(
            {
                "hassUrl": self.hass_url,
                "clientId": self.client_id,
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_in": self.expires_in,
                "token_type": "Bearer",
                "expires": int(time.time() * 1000) + self.expires_in * 1000,
            }
        )


def log(message: str) -> None:
    print(f"[screenshot] {message}", file=sys.stderr, flush=True)


def pick_port(preferred: int = 8123) -> int:
    """The preferred port when nothing listens there, otherwise a free one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            pass
        else:
            return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def prepare_config(target: Path, speed: float) -> None:
    """A copy of config/ (without its database and logs), simulator at ``speed``."""
    source = REPO / "config"
    target.mkdir(parents=True, exist_ok=True)
    configuration = (source / "configuration.yaml").read_text()
    # Actions may only read files from allow-listed folders: the rides to import.
    rides = target / "media" / "rides" / "outdoor"
    configuration, found = re.subn(
        r"^homeassistant:\n",
        f"homeassistant:\n  allowlist_external_dirs:\n    - {rides}\n",
        configuration,
        count=1,
        flags=re.MULTILINE,
    )
    if not found:
        raise RuntimeError("config/configuration.yaml has no homeassistant: section")
    (target / "configuration.yaml").write_text(configuration)
    for folder in ("dashboards", "automations", "blueprints"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, target / folder)
    (target / "automations").mkdir(exist_ok=True)
    if not any((target / "automations").glob("*.yaml")):
        (target / "automations" / "none.yaml").write_text("[]\n")
    shared = target / "blueprints" / "automation" / "ridebalance"
    if not shared.exists():
        shutil.copytree(REPO / "blueprints" / "automation" / "ridebalance", shared)
    _scale_history(target / "dashboards" / "ridebalance.yaml", speed)
    # The real outdoor rides are from 2013 and 2020: trends over their years.
    with (target / "dashboards" / "ridebalance.yaml").open("a") as dashboard:
        dashboard.write("  trends_days: 5000\n  trends_period: month\n")
    # Real outdoor rides to import for the indoor-vs-outdoor card.
    rides.mkdir(parents=True, exist_ok=True)
    for name in OUTDOOR_RIDES:
        if (SHARED_FIT / name).exists():
            shutil.copy(SHARED_FIT / name, rides / name)
    (target / "custom_components").symlink_to(REPO / "custom_components")
    subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "seed_config.py"),
            str(target),
            "--speed",
            str(speed),
        ],
        check=True,
        env=_env(),
    )


def _scale_history(dashboard: Path, speed: float) -> None:
    """Shrink the history graphs' window as much as the ride is sped up.

    At 60x a 90-minute window would show the whole demo ride as a sliver; the
    graphs' time axis shows wall-clock time, so the window shrinks to match.
    """

    def scaled(match: re.Match[str]) -> str:
        return f"{match.group(1)}{float(match.group(2)) / speed:.4f}"

    text = dashboard.read_text()
    dashboard.write_text(re.sub(r"(hours_to_show: )([\d.]+)", scaled, text))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    # On a first start Home Assistant installs what onboarding's integrations
    # need; a package built from source wants the include root (see scripts/setup).
    include = Path(sysconfig.get_paths()["include"]).parent
    env["CPPFLAGS"] = f"-I{include} {env.get('CPPFLAGS', '')}".strip()
    return env


def _request(
    url: str,
    data: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    form: bool = False,
    timeout: float = 10.0,
) -> Any:
    headers = {}
    body = None
    if data is not None:
        if form:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


@contextmanager
def home_assistant(config_dir: Path, port: int) -> Iterator[str]:
    """Run Home Assistant until the block ends; yields its base URL."""
    hass = Path(sys.executable).with_name("hass")
    logfile = (config_dir / "hass-console.log").open("w")
    env = _env()
    # The port as Home Assistant's default: an http: section in YAML would be
    # migrated as a trial configuration that asks to be confirmed in the browser.
    env["SETUP_PORT"] = str(port)
    # Uploads wait in <tmp>/home-assistant-file_upload, which Home Assistant
    # empties when it stops: another instance on this machine must not empty ours.
    tmp = config_dir / "tmp"
    tmp.mkdir(exist_ok=True)
    env["TMPDIR"] = str(tmp)
    process = subprocess.Popen(
        [
            str(hass),
            "--config",
            str(config_dir),
        ],
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        # Its own process group, so stopping it never touches our caller.
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    log(f"Home Assistant (pid {process.pid}) starting on {base}, config {config_dir}")
    try:
        _wait_until_up(base, process, config_dir)
        yield base
    finally:
        _stop(process)
        logfile.close()


def _wait_until_up(
    base: str, process: subprocess.Popen[bytes], config_dir: Path
) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = (config_dir / "hass-console.log").read_text()[-3000:]
            raise RuntimeError(f"Home Assistant exited early:\n{tail}")
        port = int(base.rsplit(":", 1)[1])
        # Only talk to it once it is *our* process listening: another Home
        # Assistant that grabbed the port first must never be onboarded by us.
        if _listens(process.pid, port):
            with suppress(OSError, urllib.error.URLError, ValueError):
                _request(f"{base}/api/onboarding", timeout=2)
                return
        time.sleep(0.5)
    raise RuntimeError("Home Assistant did not answer within 180 s")


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` has a TCP socket listening on ``port`` (Linux)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, listen_state, inode = fields[1], fields[3], fields[9]
                if listen_state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{inode}]")
    fds = Path(f"/proc/{pid}/fd")
    if not fds.exists():
        # Not Linux: fall back to trusting the port.
        return not Path("/proc/net/tcp").exists()
    for fd in fds.iterdir():
        with suppress(OSError):
            if os.readlink(fd) in inodes:
                return True
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    log(f"stopping Home Assistant (pid {process.pid})")
    # SIGTERM lets it write its state and close the database cleanly.
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        log("Home Assistant did not stop within 60 s; killing it")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def onboard(base: str) -> Tokens:
    """Create the owner account and finish onboarding; tokens for the frontend."""
    client_id = f"{base}/"
    user = _request(
        f"{base}/api/onboarding/users",
        {
            "client_id": client_id,
            "name": "Rider",
            "username": USERNAME,
            "password": PASSWORD,
            "language": "en",
        },
    )
    tokens = _request(
        f"{base}/auth/token",
        {
            "grant_type": "authorization_code",
            "code": user["auth_code"],
            "client_id": client_id,
        },
        form=True,
    )
    access = tokens["access_token"]
    _request(f"{base}/api/onboarding/core_config", {}, token=access)
    _request(f"{base}/api/onboarding/analytics", {}, token=access)
    _request(
        f"{base}/api/onboarding/integration",
        {"client_id": client_id, "redirect_uri": f"{base}/?auth_callback=1"},
        token=access,
    )
    return Tokens(
        hass_url=base,
        client_id=client_id,
        access_token=access,
        refresh_token=tokens["refresh_token"],
        expires_in=int(tokens["expires_in"]),
    )


def state(base: str, tokens: Tokens, entity_id: str) -> dict[str, Any] | None:
    """An entity's state from the REST API (None when it does not exist)."""
    try:
        result: dict[str, Any] = _request(
            f"{base}/api/states/{entity_id}", token=tokens.access_token
        )
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        raise
    return result


def call(
    base: str, tokens: Tokens, domain: str, service: str, data: dict[str, Any]
) -> Any:
    return _request(
        f"{base}/api/services/{domain}/{service}",
        data,
        token=tokens.access_token,
        timeout=120,
    )

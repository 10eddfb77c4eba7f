"""The RideBalance dashboard in a real browser, against a real Home Assistant.

Starts Home Assistant from a temporary copy of ``config/`` with the simulated
rider riding fast, onboards a user through the onboarding API, opens the
dashboard in headless Chromium (driven by Playwright, using the system's
``/usr/bin/chromium``), checks that the cards show live numbers and that an
alert reaches the alert log, and saves screenshots.

Run it with ``scripts/screenshot``; ``tests/e2e/test_dashboard.py`` runs the same
check into a temporary folder.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
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
import tempfile
import time
from typing import TYPE_CHECKING, Any
import urllib.error
import urllib.parse
import urllib.request

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Quiet, reproducible Chromium: no GPU, no background traffic, no first-run UI.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHARED_FIT = REPO.parent / "shared" / "fit"
# Real outdoor rides with dual-sided power pedals (see ../shared/fit/README.md).
OUTDOOR_RIDES = ("edge810-vector-pedals.fit", "edge530-powertap-p1-pedals.fit")
DASHBOARD_PATH = "/ridebalance-ride/ride"
ALERT_ENTITY = "event.simulated_rider_alert"
STOP_BUTTON = "button.simulated_rider_stop_session"
PREFIX = "simulated_rider"
USERNAME = "rider"
PASSWORD = "ridebalance-demo"

# Cards that must show a number once the rider is pedalling, by the entity they show.
NUMERIC_ENTITIES = (
    "sensor.simulated_rider_cadence",
    "sensor.simulated_rider_left_balance",
    "sensor.simulated_rider_left_balance_1_min",
    "sensor.simulated_rider_left_balance_session",
    "sensor.simulated_rider_power",
    "sensor.simulated_rider_heart_rate",
    "sensor.simulated_rider_balance_vs_baseline",
)
# Alert kinds whose appearance in the log shows the engine flagged something.
FLAGGING_ALERTS = (
    "asymmetry_started",
    "balance_drift",
    "cadence_drift_started",
    "posture_reminder",
)
NOT_SHOWING = re.compile(
    r"unavailable|not found|not available|entity not|unknown", re.IGNORECASE
)
NUMBER = re.compile(r"[-+\u2212]?\d+(?:[.,]\d+)?")

# Text of an element including everything inside shadow roots; Home Assistant's
# cards are web components, and innerText stops at the first shadow root.
DEEP_TEXT_JS = """
(root) => {
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.trim();
      if (text) out.push(text);
      return;
    }
    if (node.nodeType !== Node.ELEMENT_NODE &&
        node.nodeType !== Node.DOCUMENT_FRAGMENT_NODE) return;
    if (node.nodeName === 'STYLE' || node.nodeName === 'SCRIPT') return;
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(root);
  return out.join(' ');
}
"""


class DashboardCheckError(AssertionError):
    """The dashboard did not show what a rider should see."""


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


@dataclass
class CheckResult:
    """What the check saw, for the caller and for ``report.json``."""

    port: int
    card_texts: dict[str, str] = field(default_factory=dict)
    alert_log: str = ""
    alerts_seen: list[str] = field(default_factory=list)
    sessions_card: str = ""
    bands_card: str = ""
    config_dir: str = ""
    screenshots: list[str] = field(default_factory=list)
    ride_minutes_at_screenshot: float | None = None


def log(message: str) -> None:
    print(f"[screenshot] {message}", file=sys.stderr, flush=True)


def missing_requirements() -> str | None:
    """Why the check cannot run here, or None when it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -r requirements-dev.txt)"
    try:
        import hass_frontend  # noqa: F401
    except ImportError:
        return "home-assistant-frontend is missing (scripts/develop installs it)"
    try:
        # The frontend's first request lists all actions; Home Assistant answers it
        # by importing every base component, and assist_satellite pulls in
        # compiled packages (pymicro-vad, pyspeex-noise) that must be installed.
        import homeassistant.components.assist_satellite  # noqa: F401
    except ImportError as err:
        return (
            f"Home Assistant cannot describe its actions ({err}); the frontend "
            "would never finish loading"
        )
    return None


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
        hours = float(match.group(2)) / speed
        return f"{match.group(1)}{hours:.4f}"

    text = dashboard.read_text()
    cards = text.split("- type: ")
    for i, card in enumerate(cards):
        if card.startswith("history-graph"):
            cards[i] = re.sub(r"(hours_to_show: )([\d.]+)", scaled, card)
    dashboard.write_text("- type: ".join(cards))


FIRST_LOAD_MS = 240_000


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


def _deep_text(locator: Locator) -> str:
    text: str = locator.evaluate(DEEP_TEXT_JS)
    return text


def _card_for(page: Page, entity_id: str) -> Locator | None:
    """The first gauge or tile card on the page showing ``entity_id``."""
    found: int = page.evaluate(
        """(entityId) => {
          const cards = [];
          const walk = (node) => {
            if (!node) return;
            if (node.nodeType === Node.ELEMENT_NODE &&
                ['HUI-GAUGE-CARD', 'HUI-TILE-CARD'].includes(node.nodeName) &&
                node._config && node._config.entity === entityId) {
              cards.push(node);
            }
            if (node.shadowRoot) walk(node.shadowRoot);
            for (const child of node.children || []) walk(child);
          };
          walk(document.body);
          cards.forEach((card) => card.setAttribute('data-check', entityId));
          return cards.length;
        }""",
        entity_id,
    )
    if not found:
        return None
    return page.locator(f'[data-check="{entity_id}"]').first


def _wait(what: str, timeout_s: float, probe: Callable[[], str | None]) -> None:
    """Poll ``probe`` (None = satisfied, else why not) until it passes."""
    deadline = time.monotonic() + timeout_s
    reason: str | None = "not checked yet"
    while time.monotonic() < deadline:
        reason = probe()
        if reason is None:
            return
        time.sleep(1.0)
    raise DashboardCheckError(
        f"{what}: still not the case after {timeout_s:.0f} s: {reason}"
    )


def run_check(
    out_dir: Path,
    *,
    artifacts_dir: Path | None = None,
    speed: float = 60.0,
    keep_config: Path | None = None,
    numbers_timeout_s: float = 120.0,
    alert_timeout_s: float = 180.0,
    screenshot_at_ride_min: float = 55.0,
    sessions_timeout_s: float = 120.0,
    tour: bool = True,
) -> CheckResult:
    """Start everything, check the dashboard, save screenshots into ``out_dir``.

    ``report.json`` (what the cards showed) and Home Assistant's log go to
    ``artifacts_dir`` (default: ``out_dir``). With ``tour`` off the check stops
    once live numbers and an alert are showing; with it on it also rides on to
    the interesting part of the demo ride, ends the session, imports outdoor
    rides and takes the screenshots for the documentation.
    """
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    artifacts = artifacts_dir or out_dir
    artifacts.mkdir(parents=True, exist_ok=True)
    port = pick_port()
    result = CheckResult(port=port)
    console_lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ridebalance-check-") as tmp:
        config_dir = keep_config or Path(tmp) / "config"
        prepare_config(config_dir, speed)
        result.config_dir = str(config_dir)
        try:
            with home_assistant(config_dir, port) as base:
                tokens = onboard(base)
                log("onboarded; opening the dashboard in Chromium")
                with sync_playwright() as pw:
                    context = pw.chromium.launch_persistent_context(
                        str(Path(tmp) / "chromium-profile"),
                        executable_path=str(CHROMIUM),
                        headless=True,
                        args=CHROMIUM_FLAGS,
                        viewport={"width": 1440, "height": 900},
                        locale="en-GB",
                        timezone_id="UTC",
                    )
                    page = context.pages[0] if context.pages else context.new_page()
                    page.on(
                        "console",
                        lambda m: console_lines.append(f"{m.type}: {m.text}"),
                    )
                    try:
                        _drive(
                            page,
                            base,
                            tokens,
                            out_dir,
                            result,
                            numbers_timeout_s=numbers_timeout_s,
                            alert_timeout_s=alert_timeout_s,
                            screenshot_at_ride_min=screenshot_at_ride_min,
                            sessions_timeout_s=sessions_timeout_s,
                            tour=tour,
                        )
                    except Exception:
                        with suppress(Exception):
                            page.screenshot(path=str(artifacts / "failure.png"))
                            log(f"saved {artifacts / 'failure.png'}")
                        raise
                    finally:
                        (artifacts / "browser-console.log").write_text(
                            "\n".join(console_lines) + "\n"
                        )
                        context.close()
        finally:
            for name in ("home-assistant.log", "hass-console.log"):
                if (config_dir / name).exists():
                    shutil.copy(config_dir / name, artifacts / name)
            (artifacts / "report.json").write_text(json.dumps(asdict(result), indent=2))
    return result


def _drive(
    page: Page,
    base: str,
    tokens: Tokens,
    out_dir: Path,
    result: CheckResult,
    *,
    numbers_timeout_s: float,
    alert_timeout_s: float,
    screenshot_at_ride_min: float,
    sessions_timeout_s: float,
    tour: bool,
) -> None:
    # The frontend reads its tokens from localStorage before it renders, so the
    # login page never shows.
    page.add_init_script(
        "window.localStorage.setItem('hassTokens', "
        + json.dumps(tokens.local_storage())
        + ");"
    )
    page.goto(f"{base}{DASHBOARD_PATH}", wait_until="domcontentloaded")
    # A first start installs onboarding's integrations' packages: be patient.
    page.locator("hui-gauge-card").first.wait_for(timeout=FIRST_LOAD_MS)

    def numbers_showing() -> str | None:
        problems = []
        for entity_id in NUMERIC_ENTITIES:
            card = _card_for(page, entity_id)
            if card is None:
                problems.append(f"{entity_id}: no card")
                continue
            text = _deep_text(card)
            result.card_texts[entity_id] = text
            if NOT_SHOWING.search(text) or not NUMBER.search(text):
                problems.append(f"{entity_id}: {text!r}")
        return "; ".join(problems) or None

    _wait("every live card shows a number", numbers_timeout_s, numbers_showing)

    def cards_configured() -> str | None:
        broken = page.locator("hui-error-card, hui-warning")
        if broken.count():
            texts = [_deep_text(broken.nth(i)) for i in range(broken.count())]
            return f"{len(texts)} broken card(s): {texts}"
        return None

    # Every card of the dashboard renders (no missing entity, no bad config).
    _wait("every card renders", 10, cards_configured)
    log("live cards show numbers: " + json.dumps(result.card_texts))
    if not tour:
        _shot(page, out_dir / "dashboard-live.png", result)

    def alert_logged() -> str | None:
        logbook = page.locator("hui-logbook-card").first
        text = _deep_text(logbook)
        result.alert_log = text
        current = state(base, tokens, ALERT_ENTITY)
        kind = None if current is None else current["attributes"].get("event_type")
        if kind and kind not in result.alerts_seen:
            result.alerts_seen.append(kind)
        flagged = [k for k in result.alerts_seen if k in FLAGGING_ALERTS]
        if not flagged:
            return f"no flagging alert yet (seen: {result.alerts_seen})"
        labels = alert_labels(flagged)
        if not any(label.lower() in text.lower() for label in labels):
            return f"{flagged} happened but the log card shows: {text[:300]!r}"
        return None

    _wait("an alert appears in the alert log", alert_timeout_s, alert_logged)
    log(f"alert log shows: {result.alert_log[:200]!r}")
    if not tour:
        return

    def ride_far_enough() -> str | None:
        riding = state(base, tokens, f"sensor.{PREFIX}_riding_time")
        alert_logged()
        minutes = None
        if riding is not None:
            with suppress(ValueError):
                minutes = float(riding["state"])
        result.ride_minutes_at_screenshot = minutes
        if minutes is None or minutes < screenshot_at_ride_min:
            return f"ride at {minutes} min"
        return None

    # The interesting part of the demo ride (drift, cadence sag) is past minute 50.
    with suppress(DashboardCheckError):
        _wait(
            f"the ride reaches minute {screenshot_at_ride_min:.0f}",
            120,
            ride_far_enough,
        )
    numbers_showing()
    _shot(page, out_dir / "dashboard.png", result)
    _shot_card(page, "hui-logbook-card", out_dir / "alert-log.png", result)

    # The rider imports outdoor rides to compare against.
    rides = sorted(
        str(Path("media") / "rides" / "outdoor" / name) for name in OUTDOOR_RIDES
    )
    try:
        _call(
            base,
            tokens,
            "ridebalance",
            "import_rides",
            {
                "paths": [f"{result.config_dir}/{r}" for r in rides],
                "context": "outdoor",
            },
        )
    except urllib.error.HTTPError as err:
        log(f"note: importing outdoor rides failed: {err.code} {err.read()[:300]!r}")

    def sessions_listed() -> str | None:
        cards = page.locator("hui-markdown-card")
        result.sessions_card = _deep_text(cards.nth(0))
        result.bands_card = _deep_text(cards.nth(1))
        if "Episodes" not in result.sessions_card:
            return f"sessions card: {result.sessions_card[:120]!r}"
        if "Power band" not in result.bands_card:
            return f"indoor vs outdoor card: {result.bands_card[:120]!r}"
        return None

    # The demo ride ends a few minutes on and the session ends in the rest after
    # it; should it not, the rider presses Stop session.
    try:
        _wait("the session ends by itself", sessions_timeout_s / 2, sessions_listed)
    except DashboardCheckError as err:
        log(f"note: {err}; pressing Stop session")
        try:
            _call(base, tokens, "button", "press", {"entity_id": STOP_BUTTON})
        except urllib.error.HTTPError as http_err:
            log(f"note: stopping the session failed: {http_err.code}")
        try:
            _wait("a finished session is listed", sessions_timeout_s, sessions_listed)
        except DashboardCheckError as err2:
            log(f"note: {err2}")
    _shot_section(page, "Sessions", out_dir / "sessions.png", result)


def _call(
    base: str, tokens: Tokens, domain: str, service: str, data: dict[str, Any]
) -> Any:
    return _request(
        f"{base}/api/services/{domain}/{service}",
        data,
        token=tokens.access_token,
        timeout=120,
    )


def alert_labels(kinds: list[str]) -> list[str]:
    """How the log card names these alert kinds (translated, or raw)."""
    strings = REPO / "custom_components" / "ridebalance" / "translations" / "en.json"
    names: dict[str, str] = {}
    with suppress(OSError, ValueError, KeyError, AttributeError):
        entity = json.loads(strings.read_text())["entity"]["event"]
        for description in entity.values():
            states = description["state_attributes"]["event_type"]["state"]
            names.update(states)
    return [names.get(kind, kind) for kind in kinds] + list(kinds)


def _shot(page: Page, path: Path, result: CheckResult) -> None:
    page.screenshot(path=str(path), full_page=True)
    result.screenshots.append(path.name)
    log(f"saved {path}")


def _shot_card(page: Page, selector: str, path: Path, result: CheckResult) -> None:
    page.locator(selector).first.screenshot(path=str(path))
    result.screenshots.append(path.name)
    log(f"saved {path}")


def _shot_section(page: Page, heading: str, path: Path, result: CheckResult) -> None:
    """A screenshot of the dashboard section under ``heading``."""
    marked: bool = page.evaluate(
        """(heading) => {
          let hit = null;
          const walk = (node) => {
            if (!node || hit) return;
            if (node.nodeName === 'HUI-HEADING-CARD' && node._config &&
                node._config.heading === heading) {
              hit = node;
              return;
            }
            if (node.shadowRoot) walk(node.shadowRoot);
            for (const child of node.children || []) walk(child);
          };
          walk(document.body);
          if (!hit) return false;
          // Climb (across shadow roots) to the section holding the heading.
          let node = hit;
          while (node && node.nodeName !== 'HUI-SECTION') {
            node = node.parentNode || node.host;
          }
          if (!node) return false;
          node.setAttribute('data-check-section', heading);
          return true;
        }""",
        heading,
    )
    if not marked:
        log(f"no section headed {heading!r}; skipping {path.name}")
        return
    page.locator(f'[data-check-section="{heading}"]').first.screenshot(path=str(path))
    result.screenshots.append(path.name)
    log(f"saved {path}")


def main(argv: list[str] | None = None) -> int:
    """Command line entry (scripts/screenshot)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=REPO / "docs" / "screenshots", help="PNG folder"
    )
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=REPO / "out" / "screenshot",
        help="where report.json and Home Assistant's log go",
    )
    parser.add_argument(
        "--speed", type=float, default=60.0, help="simulator speed (x real time)"
    )
    parser.add_argument(
        "--keep-config",
        type=Path,
        help="build the Home Assistant config here (kept afterwards) instead of a "
        "temporary folder",
    )
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="stop once live numbers and an alert show (one screenshot)",
    )
    args = parser.parse_args(argv)
    if args.keep_config is not None and args.keep_config.exists():
        parser.error(f"--keep-config {args.keep_config} exists; give a new folder")
    if (why := missing_requirements()) is not None:
        log(f"cannot run: {why}")
        return 2

    def terminated(signum: int, _frame: object) -> None:
        # Unwind through the finally blocks so Home Assistant is stopped too.
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    try:
        result = run_check(
            args.out,
            artifacts_dir=args.artifacts,
            speed=args.speed,
            keep_config=args.keep_config,
            tour=not args.check_only,
        )
    except DashboardCheckError as err:
        log(f"FAILED: {err}")
        return 1
    log(f"OK: {', '.join(result.screenshots)} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

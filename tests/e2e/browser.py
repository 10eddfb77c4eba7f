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
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass, field
import json
from pathlib import Path
import re
import shutil
import signal
import sys
import tempfile
import time
from typing import TYPE_CHECKING
import urllib.error

from tests.e2e.home_assistant import (
    OUTDOOR_RIDES,
    REPO,
    Tokens,
    call,
    home_assistant,
    log,
    onboard,
    pick_port,
    prepare_config,
    state,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

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
# The strategy names a rider's view after its entity prefix.
DASHBOARD_PATH = "/ridebalance-ride/simulated_rider"
ALERT_ENTITY = "event.simulated_rider_alert"
STOP_BUTTON = "button.simulated_rider_stop_session"
PREFIX = "simulated_rider"

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
class CheckResult:
    """What the check saw, for the caller and for ``report.json``."""

    port: int
    card_texts: dict[str, str] = field(default_factory=dict)
    alert_log: str = ""
    alerts_seen: list[str] = field(default_factory=list)
    balance_card: dict[str, str] = field(default_factory=dict)
    balance_card_dark: dict[str, str] = field(default_factory=dict)
    sessions_card: str = ""
    bands_card: str = ""
    config_dir: str = ""
    screenshots: list[str] = field(default_factory=list)
    ride_minutes_at_screenshot: float | None = None


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


FIRST_LOAD_MS = 240_000
BALANCE_CARD = "ridebalance-balance-card"
# What the balance card shows, and in which colours the theme painted it.
BALANCE_CARD_JS = """
(card) => {
  const root = card.shadowRoot;
  const text = (sel) => (root.querySelector(sel) || {}).textContent || '';
  const haCard = root.querySelector('ha-card');
  const values = root.querySelector('.values');
  return {
    all: text('ha-card').replace(/\\s+/g, ' ').trim(),
    values: text('.values').replace(/\\s+/g, ' ').trim(),
    band: text('.band').trim(),
    usual: text('.usual-text').trim(),
    usual_marker: root.querySelector('.usual') ? 'yes' : 'no',
    background: haCard ? getComputedStyle(haCard).backgroundColor : '',
    text_colour: values ? getComputedStyle(values).color : '',
  };
}
"""


def _balance_card(page: Page) -> dict[str, str] | None:
    card = page.locator(BALANCE_CARD).first
    if not card.count():
        return None
    seen: dict[str, str] = card.evaluate(BALANCE_CARD_JS)
    return seen


def luminance(css_colour: str) -> float:
    """Relative brightness 0..1 of an ``rgb(...)``/``rgba(...)`` colour."""
    red, green, blue = (float(v) for v in re.findall(r"[\d.]+", css_colour)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def _check_balance_card(
    page: Page, result: CheckResult, timeout_s: float, *, usual: bool
) -> None:
    """The balance card shows live shares (and, once learnt, the usual share)."""

    def showing() -> str | None:
        seen = _balance_card(page)
        if seen is None:
            return "no balance card on the page"
        result.balance_card = seen
        if NOT_SHOWING.search(seen["all"]) or len(NUMBER.findall(seen["values"])) < 2:
            return f"balance card shows {seen['all']!r}"
        if usual and seen["usual_marker"] != "yes":
            return f"no usual share yet: {seen['usual']!r}"
        return None

    _wait("the balance card shows left and right", timeout_s, showing)


def _check_dark_theme(page: Page, result: CheckResult) -> None:
    """With the system in dark mode the theme, and the balance card, turn dark."""
    page.emulate_media(color_scheme="dark")

    def dark() -> str | None:
        seen = _balance_card(page)
        if seen is None:
            return "no balance card on the page"
        result.balance_card_dark = seen
        if luminance(seen["background"]) > 0.3:
            return f"card background still {seen['background']}"
        if luminance(seen["text_colour"]) < 0.6:
            return f"text colour {seen['text_colour']} on a dark card"
        return None

    _wait("the dashboard follows the dark theme", 20, dark)


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
    _check_balance_card(page, result, numbers_timeout_s, usual=False)
    log(f"balance card shows: {result.balance_card['all']!r}")
    if not tour:
        _shot(page, out_dir / "dashboard-live.png", result)
        _check_dark_theme(page, result)
        _shot(page, out_dir / "dashboard-live-dark.png", result)
        page.emulate_media(color_scheme="light")

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
    with suppress(DashboardCheckError):
        _check_balance_card(page, result, 60, usual=True)
    _shot(page, out_dir / "dashboard.png", result)
    _shot_card(page, BALANCE_CARD, out_dir / "balance-card.png", result)
    _check_dark_theme(page, result)
    _shot(page, out_dir / "dashboard-dark.png", result)
    _shot_card(page, BALANCE_CARD, out_dir / "balance-card-dark.png", result)
    page.emulate_media(color_scheme="light")
    _shot_card(page, "hui-logbook-card", out_dir / "alert-log.png", result)

    # The rider imports outdoor rides to compare against.
    rides = sorted(
        str(Path("media") / "rides" / "outdoor" / name) for name in OUTDOOR_RIDES
    )
    try:
        call(
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
            call(base, tokens, "button", "press", {"entity_id": STOP_BUTTON})
        except urllib.error.HTTPError as http_err:
            log(f"note: stopping the session failed: {http_err.code}")
        try:
            _wait("a finished session is listed", sessions_timeout_s, sessions_listed)
        except DashboardCheckError as err2:
            log(f"note: {err2}")
    _shot_section(page, "Sessions", out_dir / "sessions.png", result)


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

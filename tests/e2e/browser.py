"""The RideBalance dashboard in a real browser, against a real Home Assistant.

Starts Home Assistant from a temporary copy of ``config/`` with the simulated
rider riding fast, onboards a user through the onboarding API, opens the
dashboard the integration's strategy builds in headless Chromium (driven by
Playwright, using the system's ``/usr/bin/chromium``), checks that the cards and
the balance card show live numbers in the light and the dark theme and that an
alert reaches the alert log; the tour then uploads a ride in the options dialog,
checks the trends view, and saves screenshots.

Run it with ``scripts/screenshot``; ``tests/e2e/test_dashboard.py`` runs the same
check into a temporary folder.
"""

from __future__ import annotations

import argparse
from contextlib import suppress
from dataclasses import asdict
import json
from pathlib import Path
import shutil
import signal
import sys
import tempfile
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
from tests.e2e.page_checks import (
    BALANCE_CARD,
    DASHBOARD_PATH,
    NOT_SHOWING,
    NUMBER,
    CheckResult,
    DashboardCheckError,
    card_for,
    check_balance_card,
    check_dark_theme,
    check_trends,
    deep_text,
    import_through_the_ui,
    shot,
    shot_card,
    shot_section,
    wait,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

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
            card = card_for(page, entity_id)
            if card is None:
                problems.append(f"{entity_id}: no card")
                continue
            text = deep_text(card)
            result.card_texts[entity_id] = text
            if NOT_SHOWING.search(text) or not NUMBER.search(text):
                problems.append(f"{entity_id}: {text!r}")
        return "; ".join(problems) or None

    wait("every live card shows a number", numbers_timeout_s, numbers_showing)

    def cards_configured() -> str | None:
        broken = page.locator("hui-error-card, hui-warning")
        if broken.count():
            texts = [deep_text(broken.nth(i)) for i in range(broken.count())]
            return f"{len(texts)} broken card(s): {texts}"
        return None

    # Every card of the dashboard renders (no missing entity, no bad config).
    wait("every card renders", 10, cards_configured)
    log("live cards show numbers: " + json.dumps(result.card_texts))
    check_balance_card(page, result, numbers_timeout_s, usual=False)
    log(f"balance card shows: {result.balance_card['all']!r}")
    if not tour:
        shot(page, out_dir / "dashboard-live.png", result)
        check_dark_theme(page, result)
        shot(page, out_dir / "dashboard-live-dark.png", result)
        page.emulate_media(color_scheme="light")

    def alert_logged() -> str | None:
        logbook = page.locator("hui-logbook-card").first
        text = deep_text(logbook)
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

    wait("an alert appears in the alert log", alert_timeout_s, alert_logged)
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
        wait(
            f"the ride reaches minute {screenshot_at_ride_min:.0f}",
            120,
            ride_far_enough,
        )
    numbers_showing()
    with suppress(DashboardCheckError):
        check_balance_card(page, result, 60, usual=True)
    shot(page, out_dir / "dashboard.png", result)
    shot_card(page, BALANCE_CARD, out_dir / "balance-card.png", result)
    check_dark_theme(page, result)
    shot(page, out_dir / "dashboard-dark.png", result)
    shot_card(page, BALANCE_CARD, out_dir / "balance-card-dark.png", result)
    page.emulate_media(color_scheme="light")
    shot_card(page, "hui-logbook-card", out_dir / "alert-log.png", result)

    # The rider uploads an outdoor ride in the options dialog; an automation
    # imports another from a folder with the action.
    folder = Path(result.config_dir) / "media" / "rides" / "outdoor"
    uploaded, from_folder = OUTDOOR_RIDES
    if (folder / uploaded).exists():
        import_through_the_ui(page, base, folder / uploaded, out_dir, result)
        page.goto(f"{base}{DASHBOARD_PATH}", wait_until="domcontentloaded")
        page.locator("hui-gauge-card").first.wait_for(timeout=FIRST_LOAD_MS)
    try:
        call(
            base,
            tokens,
            "ridebalance",
            "import_rides",
            {"paths": [str(folder / from_folder)], "context": "outdoor"},
        )
    except urllib.error.HTTPError as err:
        log(f"note: importing outdoor rides failed: {err.code} {err.read()[:300]!r}")

    def sessions_listed() -> str | None:
        cards = page.locator("hui-markdown-card")
        result.sessions_card = deep_text(cards.nth(0))
        result.bands_card = deep_text(cards.nth(1))
        if "Episodes" not in result.sessions_card:
            return f"sessions card: {result.sessions_card[:120]!r}"
        if "Power band" not in result.bands_card:
            return f"indoor vs outdoor card: {result.bands_card[:120]!r}"
        return None

    # The demo ride ends a few minutes on and the session ends in the rest after
    # it; should it not, the rider presses Stop session.
    try:
        wait("the session ends by itself", sessions_timeout_s / 2, sessions_listed)
    except DashboardCheckError as err:
        log(f"note: {err}; pressing Stop session")
        try:
            call(base, tokens, "button", "press", {"entity_id": STOP_BUTTON})
        except urllib.error.HTTPError as http_err:
            log(f"note: stopping the session failed: {http_err.code}")
        try:
            wait("a finished session is listed", sessions_timeout_s, sessions_listed)
        except DashboardCheckError as err2:
            log(f"note: {err2}")
    shot_section(page, "Sessions", out_dir / "sessions.png", result)
    check_trends(page, base, out_dir, result)


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

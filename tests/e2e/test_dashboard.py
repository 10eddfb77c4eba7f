"""The RideBalance dashboard in a real browser: live numbers and a logged alert.

Starts Home Assistant with the simulated rider at 60x and headless Chromium
(tests/e2e/browser.py, the same check scripts/screenshot runs); takes about a
minute. Skipped when /usr/bin/chromium, Playwright or the frontend is missing.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import subprocess
import sys

import pytest

from tests.e2e.browser import (
    FLAGGING_ALERTS,
    alert_labels,
    missing_requirements,
)
from tests.e2e.home_assistant import REPO
from tests.e2e.page_checks import luminance

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(W|rpm|%|bpm|pts)")


def _reading(text: str, unit: str) -> float:
    """The number shown with ``unit`` in a card's text."""
    for value, shown_unit in NUMBER.findall(text):
        if shown_unit == unit:
            return float(value)
    raise AssertionError(f"no value in {unit} in {text!r}")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Run the browser check once for this module; what it saw."""
    if (why := missing_requirements()) is not None:
        pytest.skip(why)
    out = tmp_path_factory.mktemp("dashboard")
    # Its own process: Home Assistant and the browser stay out of this test
    # session's event loop and socket guard.
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.e2e.browser",
            "--out",
            str(out),
            "--artifacts",
            str(out),
            "--check-only",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    data: dict[str, object] = json.loads((out / "report.json").read_text())
    data["out"] = str(out)
    return data


def test_live_cards_show_plausible_numbers(report: dict[str, object]) -> None:
    """On the trainer the rider sees watts, rpm, bpm and a left share."""
    cards = report["card_texts"]
    assert isinstance(cards, dict)
    assert 30 <= _reading(cards["sensor.simulated_rider_power"], "W") <= 600
    assert 50 <= _reading(cards["sensor.simulated_rider_cadence"], "rpm") <= 130
    assert 70 <= _reading(cards["sensor.simulated_rider_heart_rate"], "bpm") <= 200
    for entity_id in (
        "sensor.simulated_rider_left_balance",
        "sensor.simulated_rider_left_balance_1_min",
        "sensor.simulated_rider_left_balance_session",
    ):
        assert 40 <= _reading(cards[entity_id], "%") <= 60, entity_id


def test_an_alert_reaches_the_alert_log(report: dict[str, object]) -> None:
    """During the demo ride the engine flags something and the log card shows it."""
    seen = report["alerts_seen"]
    assert isinstance(seen, list)
    assert set(seen) & set(FLAGGING_ALERTS)
    log = report["alert_log"]
    assert isinstance(log, str)
    flagged = [kind for kind in seen if kind in FLAGGING_ALERTS]
    assert any(label in log for label in alert_labels(flagged)), log


def test_balance_card_shows_left_and_right_that_add_up(
    report: dict[str, object],
) -> None:
    """The strategy's balance card shows the live left and right shares."""
    card = report["balance_card"]
    assert isinstance(card, dict)
    left, right = (float(v) for v in re.findall(r"(\d+\.\d) %", card["values"]))
    assert 40 <= left <= 60
    assert abs(left + right - 100) < 0.11
    assert "not found" not in card["all"].lower()


def test_dashboard_follows_light_and_dark_theme(report: dict[str, object]) -> None:
    """Light: a light card with dark text; dark: a dark card with light text."""
    light, dark = report["balance_card"], report["balance_card_dark"]
    assert isinstance(light, dict)
    assert isinstance(dark, dict)
    assert luminance(light["background"]) > 0.8
    assert luminance(light["text_colour"]) < 0.4
    assert luminance(dark["background"]) < 0.3
    assert luminance(dark["text_colour"]) > 0.6


def test_screenshot_is_a_real_image(report: dict[str, object]) -> None:
    """The dashboard screenshot is a PNG of a laptop-sized page."""
    for name in ("dashboard-live.png", "dashboard-live-dark.png"):
        _assert_laptop_png(Path(str(report["out"])) / name)


def _assert_laptop_png(shot: Path) -> None:
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width == 1440
    assert height >= 900

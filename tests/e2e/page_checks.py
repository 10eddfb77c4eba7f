"""What the browser check looks at and does on a page of the frontend.

Home Assistant's cards are web components: their text is read through every
shadow root, and cards are found by the entity their configuration shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
import re
import time
from typing import TYPE_CHECKING

from tests.e2e.home_assistant import log

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

DASHBOARD_PATH = "/ridebalance-ride/simulated_rider"

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
    trends_cards: list[str] = field(default_factory=list)
    import_dialog: str = ""
    bands_card: str = ""
    config_dir: str = ""
    screenshots: list[str] = field(default_factory=list)
    ride_minutes_at_screenshot: float | None = None


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


def balance_card(page: Page) -> dict[str, str] | None:
    card = page.locator(BALANCE_CARD).first
    if not card.count():
        return None
    seen: dict[str, str] = card.evaluate(BALANCE_CARD_JS)
    return seen


def luminance(css_colour: str) -> float:
    """Relative brightness 0..1 of an ``rgb(...)``/``rgba(...)`` colour.

    Raises ``ValueError`` for anything else (an empty value mid-repaint).
    """
    channels = re.findall(r"[\d.]+", css_colour)[:3]
    if len(channels) < 3:
        raise ValueError(f"not an rgb colour: {css_colour!r}")
    red, green, blue = (float(v) for v in channels)
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def check_balance_card(
    page: Page, result: CheckResult, timeout_s: float, *, usual: bool
) -> None:
    """The balance card shows live shares (and, once learnt, the usual share)."""

    def showing() -> str | None:
        seen = balance_card(page)
        if seen is None:
            return "no balance card on the page"
        result.balance_card = seen
        if NOT_SHOWING.search(seen["all"]) or len(NUMBER.findall(seen["values"])) < 2:
            return f"balance card shows {seen['all']!r}"
        if usual and seen["usual_marker"] != "yes":
            return f"no usual share yet: {seen['usual']!r}"
        return None

    wait("the balance card shows left and right", timeout_s, showing)


def check_dark_theme(page: Page, result: CheckResult) -> None:
    """With the system in dark mode the theme, and the balance card, turn dark."""
    page.emulate_media(color_scheme="dark")

    def dark() -> str | None:
        seen = balance_card(page)
        if seen is None:
            return "no balance card on the page"
        result.balance_card_dark = seen
        try:
            background = luminance(seen["background"])
            text = luminance(seen["text_colour"])
        except ValueError as err:  # the card is being repainted: look again
            return str(err)
        if background > 0.3:
            return f"card background still {seen['background']}"
        if text < 0.6:
            return f"text colour {seen['text_colour']} on a dark card"
        return None

    wait("the dashboard follows the dark theme", 20, dark)


def deep_text(locator: Locator) -> str:
    text: str = locator.evaluate(DEEP_TEXT_JS)
    return text


def card_for(page: Page, entity_id: str) -> Locator | None:
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


def wait(what: str, timeout_s: float, probe: Callable[[], str | None]) -> None:
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


def import_through_the_ui(
    page: Page, base: str, ride: Path, out_dir: Path, result: CheckResult
) -> None:
    """Upload a ride in the rider's options dialog, as a rider would."""
    page.goto(f"{base}/config/integrations/integration/ridebalance")
    page.get_by_role("button", name="Configure").first.click(timeout=60_000)
    dialog = page.locator("dialog-data-entry-flow")
    dialog.get_by_text("Import rides").first.click()
    dialog.locator("input[type=file]").first.set_input_files(str(ride))
    dialog.get_by_text(ride.name).first.wait_for(timeout=30_000)  # uploaded
    dialog.get_by_text("Outdoor").first.click()
    dialog.get_by_role("button", name="Submit").first.click()

    def finished() -> str | None:
        result.import_dialog = deep_text(dialog.first)
        if "Import finished" not in result.import_dialog:
            return f"dialog shows {result.import_dialog[:200]!r}"
        return None

    wait("the options dialog shows the import's result", 120, finished)
    time.sleep(1)  # the dialog's resize animation
    page.screenshot(path=str(out_dir / "import-rides.png"))
    result.screenshots.append("import-rides.png")
    dialog.get_by_role("button", name="Submit").first.click()


def check_trends(page: Page, base: str, out_dir: Path, result: CheckResult) -> None:
    """The trends view graphs the sessions' long-term statistics."""
    page.goto(f"{base}{DASHBOARD_PATH}-trends", wait_until="domcontentloaded")

    def graphs_drawn() -> str | None:
        graphs = page.locator("hui-statistics-graph-card")
        if not graphs.count():
            return "no statistics graph on the trends view"
        result.trends_cards = [deep_text(graphs.nth(i)) for i in range(graphs.count())]
        broken = page.locator("hui-error-card, hui-warning")
        if broken.count():
            return f"broken card: {deep_text(broken.first)!r}"
        overall = result.trends_cards[0]
        if not ("Outdoor" in overall and "Indoor" in overall):
            return f"overall graph shows {overall[:200]!r}"
        drawn = page.locator(
            "hui-statistics-graph-card canvas, hui-statistics-graph-card svg"
        )
        if not drawn.count():
            return "the graphs have not drawn yet"
        return None

    wait("the trends view graphs indoor and outdoor sessions", 60, graphs_drawn)
    time.sleep(2)  # the chart's entry animation
    shot(page, out_dir / "trends.png", result)


def shot(page: Page, path: Path, result: CheckResult) -> None:
    page.screenshot(path=str(path), full_page=True)
    result.screenshots.append(path.name)
    log(f"saved {path}")


def shot_card(page: Page, selector: str, path: Path, result: CheckResult) -> None:
    page.locator(selector).first.screenshot(path=str(path))
    result.screenshots.append(path.name)
    log(f"saved {path}")


def shot_section(page: Page, heading: str, path: Path, result: CheckResult) -> None:
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

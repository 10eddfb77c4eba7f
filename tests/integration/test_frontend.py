"""The dashboard strategy and card, served by the integration (no browser).

The module is fetched from Home Assistant's real HTTP server, and its strategy is
run in Node.js on what the real entity registry tells the frontend
(``config/entity_registry/list_for_display``); the browser check
(tests/e2e/test_dashboard.py) then shows the same dashboard in Chromium.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.template import Template
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.ridebalance.const import DOMAIN
from custom_components.ridebalance.frontend import MODULE
from tests.integration.frontend_view import cards, frontend_view, run_strategy

from .helpers import set_up


def _entity_ids(node: Any) -> set[str]:
    found: set[str] = set()
    for card in cards(node):
        for key in ("entity", "baseline_entity"):
            if isinstance(card.get(key), str):
                found.add(card[key])
        for row in card.get("entities", []):
            found.add(row if isinstance(row, str) else row.get("entity", ""))
        target = card.get("target", {}).get("entity_id")
        if target:
            found.add(target)
    return found - {""}


def _markdown(dashboard: dict[str, Any], title: str) -> str:
    for card in cards(dashboard):
        if card["type"] == "markdown" and card.get("title") == title:
            content: str = card["content"]
            return content
    raise AssertionError(f"no markdown card titled {title!r}")


async def _ride(hass: HomeAssistant, freezer: FrozenDateTimeFactory, s: int) -> None:
    for _ in range(s):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


async def test_module_is_served_and_loaded_by_every_page(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """The frontend is told to load the module, and the URL serves this file."""
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    urls = [u for u in hass.data[DATA_EXTRA_MODULE_URL].urls if "ridebalance" in u]
    assert len(urls) == 1
    client = await hass_client()
    response = await client.get(urls[0])
    assert response.status == 200
    assert await response.text() == MODULE.read_text()


async def test_without_the_frontend_nothing_is_served(hass: HomeAssistant) -> None:
    """A headless install sets RideBalance up without serving a module."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert DATA_EXTRA_MODULE_URL not in hass.data


async def test_strategy_shows_every_rider_with_existing_entities(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    sim_entry: MockConfigEntry,
) -> None:
    """Two riders, two ride views; every card's entity exists and is enabled."""
    second = MockConfigEntry(
        domain=DOMAIN,
        title="Second rider",
        unique_id="second",
        data=dict(sim_entry.data),
        options=dict(sim_entry.options),
    )
    for entry in (sim_entry, second):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    out = run_strategy(await frontend_view(hass, hass_ws_client), {})
    views = out["dashboard"]["views"]
    assert [v["title"] for v in views] == [
        "Second rider",
        "Second rider: trends",
        "Simulated rider",
        "Simulated rider: trends",
    ]
    registry = er.async_get(hass)
    for view in views[::2]:
        wanted = _entity_ids(view)
        assert len(wanted) > 20, view["title"]
        prefixes = {e.split(".")[1].split("_")[0] for e in wanted}
        assert len(prefixes) == 1, f"{view['title']} mixes riders: {prefixes}"
        for entity_id in wanted:
            entry = registry.async_get(entity_id)
            assert entry is not None, entity_id
            assert entry.disabled_by is None, entity_id
        balance = [c for c in cards(view) if c["type"].endswith("balance-card")]
        assert len(balance) == 1
    for trends in views[1::2]:
        (note,) = [c for c in cards(trends) if c["type"] == "markdown"]
        assert note["content"].startswith("No trends yet"), "no recorder here"
    assert out["card_stub"]["entity"].endswith("_left_balance")
    assert [s["type"] for s in out["strategies"]] == ["ridebalance"]
    for entry in (sim_entry, second):
        await hass.config_entries.async_unload(entry.entry_id)


async def test_strategy_without_a_rider_says_how_to_add_one(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    """No rider yet: one view that tells where to add the integration."""
    assert await async_setup_component(hass, DOMAIN, {})
    out = run_strategy(await frontend_view(hass, hass_ws_client), {})
    (view,) = out["dashboard"]["views"]
    assert "Add integration" in view["cards"][0]["content"]
    assert out["card_stub"] == {"entity": ""}


async def test_session_and_comparison_cards_render_the_integration_data(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    sim_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a stopped session the sessions table lists it; no outdoor rides yet."""
    await set_up(hass, sim_entry)
    out = run_strategy(
        await frontend_view(hass, hass_ws_client), {"hours_to_show": 0.25}
    )
    dashboard = out["dashboard"]
    graphs = [c for c in cards(dashboard) if c["type"] == "history-graph"]
    assert graphs
    assert {c["hours_to_show"] for c in graphs} == {0.25}

    sessions = Template(_markdown(dashboard, "Recent sessions"), hass)
    bands = Template(_markdown(dashboard, "Indoor vs outdoor, per power band"), hass)
    assert "No finished sessions yet" in sessions.async_render(parse_result=False)

    # Twelve ride minutes, then the rider presses Stop session.
    await _ride(hass, freezer, 12)
    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": "button.simulated_rider_stop_session"},
        blocking=True,
    )
    await _ride(hass, freezer, 1)

    table = sessions.async_render(parse_result=False).splitlines()
    assert table[0].startswith("| Start | Where | Minutes")
    row = table[2].split("|")
    assert row[2].strip() == "Indoor"
    assert 8 <= float(row[3]) <= 13  # minutes ridden
    assert 40 <= float(row[5].strip().rstrip(" %")) <= 60  # left share
    assert "No outdoor rides yet" in bands.async_render(parse_result=False)
    await hass.config_entries.async_unload(sim_entry.entry_id)

"""The dashboard's configuration against the real integration (no browser).

Fast companion of test_dashboard.py: every entity the dashboard shows exists
and is enabled, and its markdown cards render the integration's attributes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.template import Template
from homeassistant.util.yaml import load_yaml
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ridebalance.const import (
    CONF_SOURCE,
    CONF_SPEED,
    DOMAIN,
    SourceKind,
)
from tests.e2e.browser import REPO

DASHBOARD = REPO / "config" / "dashboards" / "ridebalance.yaml"


@pytest.fixture(autouse=True)
def _custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load this repository's custom integration."""


@pytest.fixture
def sim_entry() -> MockConfigEntry:
    """The simulated rider as scripts/develop and the browser check set it up."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Simulated rider",
        unique_id=SourceKind.SIMULATOR.value,
        data={CONF_SOURCE: SourceKind.SIMULATOR.value},
        options={CONF_SPEED: 60.0},
    )


def _cards(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from _cards(value)
    elif isinstance(node, list):
        for item in node:
            yield from _cards(item)


def _entity_ids(text: str) -> set[str]:
    """Entity ids the dashboard uses, in card options and in templates alike."""
    return set(re.findall(r"\b[a-z_]+\.simulated_rider_[a-z0-9_]+", text))


def _markdown(title: str) -> str:
    config = load_yaml(DASHBOARD)
    for card in _cards(config):
        if card["type"] == "markdown" and card.get("title") == title:
            content: str = card["content"]
            return content
    raise AssertionError(f"no markdown card titled {title!r}")


async def _ride(hass: HomeAssistant, freezer: FrozenDateTimeFactory, s: int) -> None:
    for _ in range(s):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


async def test_every_dashboard_entity_exists_and_is_enabled(
    hass: HomeAssistant, sim_entry: MockConfigEntry
) -> None:
    """No card of the dashboard shows 'Entity not found' for the simulated rider."""
    sim_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(sim_entry.entry_id)
    await hass.async_block_till_done()

    wanted = _entity_ids(DASHBOARD.read_text())
    assert len(wanted) > 20
    registry = er.async_get(hass)
    problems = []
    for entity_id in sorted(wanted):
        entry = registry.async_get(entity_id)
        if entry is None:
            problems.append(f"{entity_id}: does not exist")
        elif entry.disabled_by is not None:
            problems.append(f"{entity_id}: disabled by default")
    assert not problems, problems
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_session_and_comparison_cards_render_the_integration_data(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """After a stopped session the sessions table lists it; no outdoor rides yet."""
    sim_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(sim_entry.entry_id)
    await hass.async_block_till_done()

    sessions = Template(_markdown("Recent sessions"), hass)
    bands = Template(_markdown("Indoor vs outdoor, per power band"), hass)
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

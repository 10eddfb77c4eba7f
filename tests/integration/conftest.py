"""Fixtures for tests that run Home Assistant."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ridebalance.const import (
    CONF_SOURCE,
    CONF_SPEED,
    DOMAIN,
    SourceKind,
)


@pytest.fixture(autouse=True)
def _custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load this repository's custom integration."""


@pytest.fixture
def sim_entry() -> MockConfigEntry:
    """A simulator entry playing the ride 60 times faster than life."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Simulated rider",
        unique_id=SourceKind.SIMULATOR.value,
        data={CONF_SOURCE: SourceKind.SIMULATOR.value},
        options={CONF_SPEED: 60.0},
        entry_id="sim_entry_id",
    )

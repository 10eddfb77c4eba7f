"""Fixtures for tests that run Home Assistant."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from contextlib import ExitStack
from pathlib import Path
from unittest.mock import PropertyMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import storage
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ridebalance.const import (
    CONF_SOURCE,
    CONF_SPEED,
    DOMAIN,
    SourceKind,
)
from tests.integration.helpers import set_up
from tests.mqtt_broker import Broker


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


@pytest.fixture
async def rider(hass: HomeAssistant, sim_entry: MockConfigEntry) -> MockConfigEntry:
    """The simulated rider, set up."""
    return await set_up(hass, sim_entry)


# Home Assistant's own Store methods, taken before the test harness swaps them for
# an in-memory dict: the rider's files are then real files on disk.
_REAL_STORE = {
    name: getattr(storage.Store, name)
    for name in ("_async_load", "_async_write_data", "async_remove")
}


@pytest.fixture
def real_storage(hass: HomeAssistant, tmp_path: Path) -> Iterator[Path]:
    """The real Store, writing into a temporary config folder's ``.storage``."""
    hass.config.config_dir = str(tmp_path)
    with ExitStack() as stack:
        for name, method in _REAL_STORE.items():
            stack.enter_context(patch.object(storage.Store, name, method))
        yield tmp_path / ".storage"


@pytest.fixture
def enable_all_entities() -> Generator[None]:
    """Register entities that are disabled by default as enabled, to show them."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture
async def ha_mqtt(
    hass: HomeAssistant, socket_enabled: None, mock_hass_config: None
) -> AsyncIterator[Callable[[Broker], Awaitable[MockConfigEntry]]]:
    """Set up Home Assistant's real MQTT integration against a test broker.

    Unlike ``mqtt_mock`` (a patched paho client fed by ``async_fire_mqtt_message``),
    this is the integration's own client on a TCP connection to mosquitto.
    """

    async def setup(broker: Broker) -> MockConfigEntry:
        entry = MockConfigEntry(
            domain="mqtt",
            data={"broker": broker.host, "port": broker.port},
            version=2,
            minor_version=1,
        )
        await set_up(hass, entry)
        entries.append(entry)
        return entry

    entries: list[MockConfigEntry] = []
    yield setup
    # Let the client's last (un)subscriptions go out (they wait up to 0.5 s to be
    # batched), then disconnect while the broker is still there (it stops after
    # this fixture). Unloading with a batch pending can leave its timer behind.
    await asyncio.sleep(1.0)
    for entry in entries:
        await hass.config_entries.async_unload(entry.entry_id)

"""Sensor devices in the device registry: identifiers, and renaming once known."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ridebalance.const import DOMAIN
from custom_components.ridebalance.registry import (
    SensorDeviceRegistry,
    device_identifier,
    key_from_identifier,
    sensor_device_info,
)
from custom_components.ridebalance.sources import SensorDevice

ENTRY_ID = "rider_entry"


def test_a_device_identifier_gives_its_key_back() -> None:
    """Keys with underscores survive; the rider's own device has none."""
    identifier = device_identifier(ENTRY_ID, "heart_rate_777")
    assert key_from_identifier(ENTRY_ID, identifier) == "heart_rate_777"
    assert key_from_identifier(ENTRY_ID, ENTRY_ID) is None
    assert (
        key_from_identifier(ENTRY_ID, device_identifier("other_entry", "pedals_1"))
        is None
    )


async def test_a_device_is_renamed_once_its_identity_is_heard(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry
) -> None:
    """Named by number at first, by brand once the identity pages arrive.

    A device the platforms have not registered yet is left for them to create.
    """
    entry = MockConfigEntry(domain=DOMAIN, entry_id=ENTRY_ID)
    entry.add_to_hass(hass)
    first = SensorDevice(key="pedals_12345", name="ANT+ pedals 12345", profile="power")
    device_registry.async_get_or_create(
        config_entry_id=ENTRY_ID, **sensor_device_info(ENTRY_ID, first)
    )
    registry = SensorDeviceRegistry(hass, ENTRY_ID)
    known = SensorDevice(
        key="pedals_12345",
        name="Favero pedals 12345",
        profile="power",
        manufacturer="Favero Electronics",
        model="12",
        serial="123456789",
        sw_version="4.2",
    )
    unseen = SensorDevice(key="heart_rate_777", name="ANT+ strap", profile="hr")
    registry.async_update({known.key: known, unseen.key: unseen})

    pedals = device_registry.async_get_device_by_identifier(
        (DOMAIN, device_identifier(ENTRY_ID, known.key)), ENTRY_ID
    )
    assert pedals is not None
    assert (pedals.name, pedals.manufacturer, pedals.serial_number) == (
        "Favero pedals 12345",
        "Favero Electronics",
        "123456789",
    )
    assert pedals.sw_version == "4.2"
    strap = (DOMAIN, device_identifier(ENTRY_ID, unseen.key))
    assert device_registry.async_get_device_by_identifier(strap, ENTRY_ID) is None

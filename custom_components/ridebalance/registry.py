"""The rider's sensors as devices in Home Assistant's device registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from .const import DOMAIN
from .sources import SensorDevice

# What the registry shows of a sensor and may change once it is better known.
_SHOWN: Final = (
    "name",
    "manufacturer",
    "model",
    "serial_number",
    "sw_version",
    "hw_version",
)


def device_identifier(entry_id: str, key: str) -> str:
    """A sensor device's identifier in the registry: unique per config entry."""
    return f"{entry_id}_{key}"


def key_from_identifier(entry_id: str, identifier: str) -> str | None:
    """The sensor key in a device identifier; None for the rider's own device."""
    key = identifier.removeprefix(f"{entry_id}_")
    return None if key == identifier else key


def sensor_device_info(entry_id: str, device: SensorDevice) -> DeviceInfo:
    """A sensor device as its entities register it."""
    return DeviceInfo(
        identifiers={(DOMAIN, device_identifier(entry_id, device.key))},
        name=device.name,
        manufacturer=device.manufacturer,
        model=device.model,
        serial_number=device.serial,
        sw_version=device.sw_version,
        hw_version=device.hw_version,
    )


class SensorDeviceRegistry:
    """Keeps the registered sensor devices as their sources describe them.

    A device's entities exist from its first page, before its identity pages
    (sent every ~16 s) have said who made it: once they have, the device is
    renamed after its brand and shows its model, serial and versions.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        self._hass = hass
        self._entry_id = entry_id
        self._shown: dict[str, dict[str, Any]] = {}

    @callback
    def async_update(self, devices: Mapping[str, SensorDevice]) -> None:
        """Write what changed of the devices already registered."""
        registry: dr.DeviceRegistry | None = None
        for key, device in devices.items():
            info = sensor_device_info(self._entry_id, device)
            shown: dict[str, Any] = {name: info.get(name) for name in _SHOWN}
            if self._shown.get(key) == shown:
                continue
            registry = registry or dr.async_get(self._hass)
            entry = registry.async_get_device_by_identifier(
                (DOMAIN, device_identifier(self._entry_id, key)), self._entry_id
            )
            if entry is None:
                continue  # the platforms have not created it yet: next time
            self._shown[key] = shown
            registry.async_update_device(entry.id, **shown)

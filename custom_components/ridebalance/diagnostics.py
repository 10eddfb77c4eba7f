"""Diagnostics download: the entry's settings and what the coordinator sees."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_DEVICE
from .coordinator import RideBalanceConfigEntry

# The USB stick's path and serial identify the rider's machine; ANT+ device
# numbers and sensor serials stay, since they are what pairing problems are about.
TO_REDACT = {
    CONF_DEVICE,
    "device_path",
    "path",
    "port",
    "serial_port",
    "usb_path",
    "usb_serial",
    "usb_serial_number",
    "stick_serial",
    "unique_id",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: RideBalanceConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    coordinator = entry.runtime_data
    snapshot = coordinator.data
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "version": f"{entry.version}.{entry.minor_version}",
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "coordinator": coordinator.diagnostics(),
            "devices": {
                key: device.as_dict() for key, device in snapshot.devices.items()
            },
        },
        TO_REDACT,
    )

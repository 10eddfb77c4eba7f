"""Base entities for RideBalance."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import RideCoordinator


class RideBalanceEntity(CoordinatorEntity[RideCoordinator]):
    """An entity of the rider's device (one per config entry)."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: RideCoordinator, description: EntityDescription
    ) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            manufacturer="RideBalance",
            model="Rider",
            name=entry.title,
        )

    @property
    def available(self) -> bool:
        """Unavailable while the source delivers nothing."""
        return super().available and self.coordinator.data.available


class SensorDeviceEntity(CoordinatorEntity[RideCoordinator]):
    """An entity of one paired sensor (pedals, trainer, heart-rate strap)."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: RideCoordinator,
        device_key: str,
        description: EntityDescription,
    ) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._device_key = device_key
        entry = coordinator.config_entry
        device = coordinator.data.devices[device_key]
        self._attr_unique_id = f"{entry.entry_id}_{device_key}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry.entry_id}_{device_key}")},
            manufacturer=device.manufacturer,
            model=device.model,
            name=device.name,
            serial_number=device.serial,
            sw_version=device.sw_version,
            hw_version=device.hw_version,
        )

    @property
    def available(self) -> bool:
        """Available while the coordinator runs; the connected sensor says the rest."""
        return super().available and self._device_key in self.coordinator.data.devices

"""Base entity for RideBalance."""

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

"""Base entities for RideBalance."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from homeassistant.const import EntityCategory
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .analysis.session import RiderSettings
from .const import DOMAIN
from .coordinator import RideBalanceConfigEntry, RideCoordinator
from .registry import device_identifier, sensor_device_info
from .sources import SensorDevice


@callback
def async_add_device_entities[D: EntityDescription](
    entry: RideBalanceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entity_class: Callable[[RideCoordinator, str, D], Entity],
    descriptions: Iterable[D],
) -> None:
    """Add entities for each sensor device, now and whenever a new one is heard."""
    coordinator = entry.runtime_data
    known: set[str] = set()

    @callback
    def _add_new() -> None:
        new = [key for key in coordinator.data.devices if key not in known]
        known.update(new)
        async_add_entities(
            entity_class(coordinator, key, d) for key in new for d in descriptions
        )

    _add_new()
    entry.async_on_unload(coordinator.async_add_listener(_add_new))


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


class RideBalanceControlEntity(RideBalanceEntity):
    """Settings, buttons and the alert log: usable whether or not sensors are heard.

    A vanished stick must not hide the rider's settings or erase the last alert.
    """

    @property
    def available(self) -> bool:
        """Available while the coordinator runs."""
        return self.coordinator.last_update_success


@dataclass(frozen=True, kw_only=True)
class RiderSettingEntityDescription[V](EntityDescription):
    """One of the rider's settings: how to read it, how to change it."""

    entity_category: EntityCategory | None = EntityCategory.CONFIG
    value_fn: Callable[[RiderSettings], V]
    set_fn: Callable[[RiderSettings, V], RiderSettings]


class RiderSettingEntity[V](RideBalanceControlEntity):
    """Shows one of the rider's settings and changes it (numbers, switches)."""

    entity_description: RiderSettingEntityDescription[V]

    @property
    def setting(self) -> V:
        """The setting as the rider's settings hold it now."""
        return self.entity_description.value_fn(self.coordinator.data.settings)

    @callback
    def set_setting(self, value: V) -> None:
        """Use and keep the rider's settings with this one changed."""
        settings = self.coordinator.data.settings
        self.coordinator.async_update_settings(
            self.entity_description.set_fn(settings, value)
        )


class SensorDeviceEntity(CoordinatorEntity[RideCoordinator]):
    """An entity of one paired sensor (pedals, trainer, heart-rate strap).

    All of them are diagnostics: the rider's figures are the rider's device's.
    """

    _attr_has_entity_name = True
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(
        self,
        coordinator: RideCoordinator,
        device_key: str,
        description: EntityDescription,
    ) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._device_key = device_key
        entry_id = coordinator.config_entry.entry_id
        identifier = device_identifier(entry_id, device_key)
        self._attr_unique_id = f"{identifier}_{description.key}"
        self._attr_device_info = sensor_device_info(
            entry_id, coordinator.data.devices[device_key]
        )

    @property
    def available(self) -> bool:
        """Available while the coordinator runs; the connected sensor says the rest."""
        return super().available and self._device_key in self.coordinator.data.devices

    @property
    def device(self) -> SensorDevice | None:
        """The sensor device as last heard (None once the source forgets it)."""
        return self.coordinator.data.devices.get(self._device_key)

"""Binary sensors: riding, asymmetry and cadence drift, sensor connections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RideBalanceConfigEntry, RideSnapshot
from .entity import (
    RideBalanceEntity,
    SensorDeviceEntity,
    async_add_device_entities,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class RideBinarySensorEntityDescription(BinarySensorEntityDescription):
    """A RideBalance binary sensor and how to read it."""

    is_on_fn: Callable[[RideSnapshot], bool]


BINARY_SENSORS: tuple[RideBinarySensorEntityDescription, ...] = (
    RideBinarySensorEntityDescription(
        key="riding",
        translation_key="riding",
        device_class=BinarySensorDeviceClass.RUNNING,
        is_on_fn=lambda s: s.riding,
    ),
    RideBinarySensorEntityDescription(
        key="asymmetry",
        translation_key="asymmetry",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda s: s.live is not None and s.live.asymmetry_active,
    ),
    RideBinarySensorEntityDescription(
        key="cadence_drift",
        translation_key="cadence_drift",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=lambda s: (
            s.live is not None
            and (s.live.cadence_drift_active or s.live.cadence_out_of_band_active)
        ),
    ),
)

CONNECTED = BinarySensorEntityDescription(
    key="connected",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RideBalanceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the rider's binary sensors and one connection sensor per device."""
    async_add_entities(RideBinarySensor(entry.runtime_data, d) for d in BINARY_SENSORS)
    async_add_device_entities(entry, async_add_entities, ConnectedSensor, [CONNECTED])


class RideBinarySensor(RideBalanceEntity, BinarySensorEntity):
    """A rider-level on/off state."""

    entity_description: RideBinarySensorEntityDescription

    @property
    def is_on(self) -> bool:
        """On when the snapshot says so."""
        return self.entity_description.is_on_fn(self.coordinator.data)


class ConnectedSensor(SensorDeviceEntity, BinarySensorEntity):
    """Whether a paired sensor is being heard."""

    @property
    def is_on(self) -> bool:
        """On while the sensor is heard."""
        device = self.device
        return device is not None and device.connected

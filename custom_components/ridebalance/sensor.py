"""Sensors: what the rider's sensors and the balance engine say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RideBalanceConfigEntry, RideSnapshot
from .entity import RideBalanceEntity

# Push coordinator: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0

UNIT_RPM = "rpm"
UNIT_BPM = "bpm"


@dataclass(frozen=True, kw_only=True)
class RideSensorEntityDescription(SensorEntityDescription):
    """A RideBalance sensor and how to read it from the snapshot."""

    value_fn: Callable[[RideSnapshot], float | None]


def _left(snapshot: RideSnapshot) -> float | None:
    sample = snapshot.sample
    return None if sample is None else sample.left_pct


SENSORS: tuple[RideSensorEntityDescription, ...] = (
    RideSensorEntityDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.sample.power_w if s.sample else None,
    ),
    RideSensorEntityDescription(
        key="cadence",
        translation_key="cadence",
        native_unit_of_measurement=UNIT_RPM,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.sample.cadence_rpm if s.sample else None,
    ),
    RideSensorEntityDescription(
        key="left_balance",
        translation_key="left_balance",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=_left,
    ),
    RideSensorEntityDescription(
        key="heart_rate",
        translation_key="heart_rate",
        native_unit_of_measurement=UNIT_BPM,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.sample.heart_rate_bpm if s.sample else None,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RideBalanceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the rider's sensors."""
    coordinator = entry.runtime_data
    async_add_entities(
        RideBalanceSensor(coordinator, description) for description in SENSORS
    )


class RideBalanceSensor(RideBalanceEntity, SensorEntity):
    """A sensor fed from the coordinator's snapshot."""

    entity_description: RideSensorEntityDescription

    @property
    def native_value(self) -> float | None:
        """The value in the latest snapshot."""
        return self.entity_description.value_fn(self.coordinator.data)

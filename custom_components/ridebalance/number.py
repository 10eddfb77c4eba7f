"""Numbers: the rider's alert settings."""

from __future__ import annotations

from dataclasses import dataclass, replace

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import UnitOfPower, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RideBalanceConfigEntry
from .entity import RiderSettingEntity, RiderSettingEntityDescription

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class RideNumberEntityDescription(
    RiderSettingEntityDescription[float], NumberEntityDescription
):
    """One of the rider's settings as a number, typed in a box."""

    mode: NumberMode = NumberMode.BOX


NUMBERS: tuple[RideNumberEntityDescription, ...] = (
    RideNumberEntityDescription(
        key="asymmetry_threshold",
        translation_key="asymmetry_threshold",
        native_min_value=1,
        native_max_value=10,
        native_step=0.5,
        native_unit_of_measurement="pts",
        value_fn=lambda s: s.analysis.asymmetry_threshold_pts,
        set_fn=lambda s, v: s.with_analysis(asymmetry_threshold_pts=v),
    ),
    RideNumberEntityDescription(
        key="minimum_duration",
        translation_key="minimum_duration",
        device_class=NumberDeviceClass.DURATION,
        native_min_value=10,
        native_max_value=600,
        native_step=5,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        value_fn=lambda s: s.analysis.min_duration_s,
        set_fn=lambda s, v: s.with_analysis(min_duration_s=v),
    ),
    RideNumberEntityDescription(
        key="cooldown",
        translation_key="cooldown",
        device_class=NumberDeviceClass.DURATION,
        native_min_value=0,
        native_max_value=3600,
        native_step=30,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        value_fn=lambda s: s.analysis.cooldown_s,
        set_fn=lambda s, v: s.with_analysis(cooldown_s=v),
    ),
    RideNumberEntityDescription(
        key="target_cadence_low",
        translation_key="target_cadence_low",
        native_min_value=40,
        native_max_value=140,
        native_step=1,
        native_unit_of_measurement="rpm",
        value_fn=lambda s: s.analysis.cadence_low_rpm,
        set_fn=lambda s, v: s.with_analysis(cadence_low_rpm=v),
    ),
    RideNumberEntityDescription(
        key="target_cadence_high",
        translation_key="target_cadence_high",
        native_min_value=40,
        native_max_value=160,
        native_step=1,
        native_unit_of_measurement="rpm",
        value_fn=lambda s: s.analysis.cadence_high_rpm,
        set_fn=lambda s, v: s.with_analysis(cadence_high_rpm=v),
    ),
    RideNumberEntityDescription(
        key="posture_reminder_interval",
        translation_key="posture_reminder_interval",
        device_class=NumberDeviceClass.DURATION,
        native_min_value=5,
        native_max_value=120,
        native_step=1,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        value_fn=lambda s: s.posture_interval_min,
        set_fn=lambda s, v: replace(s, posture_interval_min=v),
    ),
    RideNumberEntityDescription(
        key="power_floor",
        translation_key="power_floor",
        device_class=NumberDeviceClass.POWER,
        native_min_value=0,
        native_max_value=200,
        native_step=5,
        native_unit_of_measurement=UnitOfPower.WATT,
        value_fn=lambda s: s.analysis.power_floor_w,
        set_fn=lambda s, v: s.with_analysis(power_floor_w=v),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RideBalanceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up one number per setting."""
    async_add_entities(RideNumber(entry.runtime_data, d) for d in NUMBERS)


class RideNumber(RiderSettingEntity[float], NumberEntity):
    """One of the rider's settings, stored with the rider's data."""

    entity_description: RideNumberEntityDescription

    @property
    def native_value(self) -> float:
        """The current setting."""
        return self.setting

    async def async_set_native_value(self, value: float) -> None:
        """Store the new setting; the engine uses it from now on."""
        self.set_setting(value)

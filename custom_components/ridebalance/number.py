"""Numbers: the rider's alert settings."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfPower, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RideBalanceConfigEntry
from .entity import RideBalanceControlEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SettingNumberEntityDescription(NumberEntityDescription):
    """A number bound to one field of the rider's settings."""

    setting: str


def _number(  # noqa: PLR0917 - a table of settings reads best positionally
    key: str,
    setting: str,
    low: float,
    high: float,
    step: float,
    unit: str,
    device_class: NumberDeviceClass | None = None,
) -> SettingNumberEntityDescription:
    return SettingNumberEntityDescription(
        key=key,
        translation_key=key,
        setting=setting,
        native_min_value=low,
        native_max_value=high,
        native_step=step,
        native_unit_of_measurement=unit,
        device_class=device_class,
        entity_category=EntityCategory.CONFIG,
        mode=NumberMode.BOX,
    )


NUMBERS: tuple[SettingNumberEntityDescription, ...] = (
    _number("asymmetry_threshold", "asymmetry_threshold_pts", 1, 10, 0.5, "pts"),
    _number(
        "minimum_duration",
        "min_duration_s",
        10,
        600,
        5,
        UnitOfTime.SECONDS,
        NumberDeviceClass.DURATION,
    ),
    _number(
        "cooldown",
        "cooldown_s",
        0,
        3600,
        30,
        UnitOfTime.SECONDS,
        NumberDeviceClass.DURATION,
    ),
    _number("target_cadence_low", "cadence_low_rpm", 40, 140, 1, "rpm"),
    _number("target_cadence_high", "cadence_high_rpm", 40, 160, 1, "rpm"),
    _number(
        "posture_reminder_interval",
        "posture_interval_min",
        5,
        120,
        1,
        UnitOfTime.MINUTES,
        NumberDeviceClass.DURATION,
    ),
    _number(
        "power_floor",
        "power_floor_w",
        0,
        200,
        5,
        UnitOfPower.WATT,
        NumberDeviceClass.POWER,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RideBalanceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the settings numbers."""
    async_add_entities(
        SettingNumber(entry.runtime_data, description) for description in NUMBERS
    )


class SettingNumber(RideBalanceControlEntity, NumberEntity):
    """One of the rider's settings, stored with the rider's data."""

    entity_description: SettingNumberEntityDescription

    @property
    def native_value(self) -> float:
        """The current setting."""
        value: float = getattr(
            self.coordinator.data.settings, self.entity_description.setting
        )
        return value

    async def async_set_native_value(self, value: float) -> None:
        """Store the new setting; the engine uses it from now on."""
        self.coordinator.async_update_settings(
            **{self.entity_description.setting: value}
        )

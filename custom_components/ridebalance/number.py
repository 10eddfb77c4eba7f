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

from .analysis.settings import RiderKnob
from .coordinator import RideBalanceConfigEntry
from .entity import RiderSettingEntity, RiderSettingEntityDescription

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class RideNumberEntityDescription(
    RiderSettingEntityDescription[float], NumberEntityDescription
):
    """One of the rider's settings as a number, typed in a box."""

    mode: NumberMode = NumberMode.BOX


def _analysis_number(
    key: str,
    field: RiderKnob,
    limits: tuple[float, float, float],
    unit: str,
    device_class: NumberDeviceClass | None = None,
) -> RideNumberEntityDescription:
    """A number for one of the rider's analysis knobs; ``limits``: min, max, step."""
    low, high, step = limits
    return RideNumberEntityDescription(
        key=key,
        translation_key=key,
        value_fn=lambda s: float(getattr(s.analysis, field)),
        set_fn=lambda s, v: s.with_analysis(**{field: v}),
        device_class=device_class,
        native_min_value=low,
        native_max_value=high,
        native_step=step,
        native_unit_of_measurement=unit,
    )


_DURATION = NumberDeviceClass.DURATION
NUMBERS: tuple[RideNumberEntityDescription, ...] = (
    _analysis_number(
        "asymmetry_threshold", "asymmetry_threshold_pts", (1, 10, 0.5), "pts"
    ),
    _analysis_number(
        "minimum_duration",
        "min_duration_s",
        (10, 600, 5),
        UnitOfTime.SECONDS,
        _DURATION,
    ),
    _analysis_number(
        "cooldown", "cooldown_s", (0, 3600, 30), UnitOfTime.SECONDS, _DURATION
    ),
    _analysis_number("target_cadence_low", "cadence_low_rpm", (40, 140, 1), "rpm"),
    _analysis_number("target_cadence_high", "cadence_high_rpm", (40, 160, 1), "rpm"),
    RideNumberEntityDescription(
        key="posture_reminder_interval",
        translation_key="posture_reminder_interval",
        device_class=_DURATION,
        native_min_value=5,
        native_max_value=120,
        native_step=1,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        value_fn=lambda s: s.posture_interval_min,
        set_fn=lambda s, v: replace(s, posture_interval_min=v),
    ),
    _analysis_number(
        "power_floor",
        "power_floor_w",
        (0, 200, 5),
        UnitOfPower.WATT,
        NumberDeviceClass.POWER,
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

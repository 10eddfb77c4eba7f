"""Sensors: what the rider's sensors and the balance engine say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfPower, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .analysis import LiveMetrics
from .coordinator import RideBalanceConfigEntry, RideCoordinator, RideSnapshot
from .entity import RideBalanceEntity, SensorDeviceEntity

# Push coordinator: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0

UNIT_RPM = "rpm"
UNIT_BPM = "bpm"
UNIT_POINTS = "pts"


@dataclass(frozen=True, kw_only=True)
class RideSensorEntityDescription(SensorEntityDescription):
    """A RideBalance sensor and how to read it from the snapshot."""

    value_fn: Callable[[RideSnapshot], float | None]
    attrs_fn: Callable[[RideSnapshot], dict[str, Any]] | None = None
    digits: int = 0


def _live(
    fn: Callable[[LiveMetrics], float | None],
) -> Callable[[RideSnapshot], float | None]:
    """Read a live metric; None while no session is running."""
    return lambda s: None if s.live is None else fn(s.live)


def _last_session_balance(s: RideSnapshot) -> float | None:
    return s.sessions[-1].summary.balance_left_pct if s.sessions else None


def _indoor_vs_outdoor(s: RideSnapshot) -> float | None:
    diffs = [row["difference_pts"] for row in s.indoor_vs_outdoor]
    return sum(diffs) / len(diffs) if diffs else None


SENSORS: tuple[RideSensorEntityDescription, ...] = (
    RideSensorEntityDescription(
        key="power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.sample.power_w if s.sample else None,
    ),
    RideSensorEntityDescription(
        key="power_3s",
        translation_key="power_3s",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.power_3s_w,
    ),
    RideSensorEntityDescription(
        key="cadence",
        translation_key="cadence",
        native_unit_of_measurement=UNIT_RPM,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.sample.cadence_rpm if s.sample else None,
    ),
    RideSensorEntityDescription(
        key="heart_rate",
        translation_key="heart_rate",
        native_unit_of_measurement=UNIT_BPM,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.sample.heart_rate_bpm if s.sample else None,
    ),
    RideSensorEntityDescription(
        key="left_balance",
        translation_key="left_balance",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=_live(lambda m: m.balance_10s_left_pct),
    ),
    RideSensorEntityDescription(
        key="left_balance_1min",
        translation_key="left_balance_1min",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=_live(lambda m: m.balance_1min_left_pct),
    ),
    RideSensorEntityDescription(
        key="left_balance_session",
        translation_key="left_balance_session",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=_live(lambda m: m.balance_session_left_pct),
    ),
    RideSensorEntityDescription(
        key="balance_vs_baseline",
        translation_key="balance_vs_baseline",
        native_unit_of_measurement=UNIT_POINTS,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=_live(lambda m: m.vs_baseline_pts),
        attrs_fn=lambda s: {
            "power_band": s.live.power_band if s.live else None,
            "usual_left_pct": (
                None
                if s.live is None or s.live.baseline_left_pct is None
                else round(s.live.baseline_left_pct, 1)
            ),
        },
    ),
    RideSensorEntityDescription(
        key="te_left",
        translation_key="te_left",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=_live(lambda m: m.te_left_pct),
    ),
    RideSensorEntityDescription(
        key="te_right",
        translation_key="te_right",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=_live(lambda m: m.te_right_pct),
    ),
    RideSensorEntityDescription(
        key="ps_left",
        translation_key="ps_left",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=_live(lambda m: m.ps_left_pct),
    ),
    RideSensorEntityDescription(
        key="ps_right",
        translation_key="ps_right",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=_live(lambda m: m.ps_right_pct),
    ),
    RideSensorEntityDescription(
        key="cadence_drift",
        translation_key="cadence_drift",
        native_unit_of_measurement=UNIT_RPM,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=_live(lambda m: m.cadence_drift_rpm),
    ),
    RideSensorEntityDescription(
        key="riding_time",
        translation_key="riding_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=_live(lambda m: m.riding_s / 60.0),
    ),
    RideSensorEntityDescription(
        key="time_since_posture_break",
        translation_key="time_since_posture_break",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=lambda s: s.minutes_since_break,
    ),
    RideSensorEntityDescription(
        key="last_session_balance",
        translation_key="last_session_balance",
        native_unit_of_measurement=PERCENTAGE,
        digits=1,
        value_fn=_last_session_balance,
        attrs_fn=lambda s: {"sessions": [r.card() for r in reversed(s.sessions[-10:])]},
    ),
    RideSensorEntityDescription(
        key="indoor_vs_outdoor",
        translation_key="indoor_vs_outdoor",
        native_unit_of_measurement=UNIT_POINTS,
        digits=1,
        value_fn=_indoor_vs_outdoor,
        attrs_fn=lambda s: {"bands": list(s.indoor_vs_outdoor)},
    ),
)


@dataclass(frozen=True, kw_only=True)
class DeviceSensorEntityDescription(SensorEntityDescription):
    """A diagnostic sensor of one paired sensor device."""

    value_fn: Callable[[Any], Any]


DEVICE_SENSORS: tuple[DeviceSensorEntityDescription, ...] = (
    DeviceSensorEntityDescription(
        key="battery",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda d: d.battery_pct,
    ),
    DeviceSensorEntityDescription(
        key="battery_status",
        translation_key="battery_status",
        device_class=SensorDeviceClass.ENUM,
        options=["new", "good", "ok", "low", "critical"],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda d: d.battery_status,
    ),
    DeviceSensorEntityDescription(
        key="last_seen",
        translation_key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda d: d.last_seen,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RideBalanceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the rider's sensors, and diagnostics of each paired sensor."""
    coordinator = entry.runtime_data
    async_add_entities(
        RideBalanceSensor(coordinator, description) for description in SENSORS
    )
    known: set[str] = set()

    def _add_devices() -> None:
        new = [key for key in coordinator.data.devices if key not in known]
        known.update(new)
        async_add_entities(
            DeviceSensor(coordinator, key, description)
            for key in new
            for description in DEVICE_SENSORS
        )

    _add_devices()
    entry.async_on_unload(coordinator.async_add_listener(_add_devices))


class RideBalanceSensor(RideBalanceEntity, SensorEntity):
    """A sensor fed from the coordinator's snapshot."""

    entity_description: RideSensorEntityDescription
    _unrecorded_attributes = frozenset(
        {"sessions", "bands", "power_band", "usual_left_pct"}
    )

    @property
    def native_value(self) -> float | None:
        """The value in the latest snapshot, rounded so noise does not write state."""
        value = self.entity_description.value_fn(self.coordinator.data)
        if value is None:
            return None
        digits = self.entity_description.digits
        return round(value, digits) if digits else round(value)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Cards read recent sessions and per-band comparisons from here."""
        fn = self.entity_description.attrs_fn
        return None if fn is None else fn(self.coordinator.data)


class DeviceSensor(SensorDeviceEntity, SensorEntity):
    """Battery and last-seen of one paired sensor device."""

    entity_description: DeviceSensorEntityDescription

    def __init__(
        self,
        coordinator: RideCoordinator,
        device_key: str,
        description: DeviceSensorEntityDescription,
    ) -> None:
        super().__init__(coordinator, device_key, description)

    @property
    def native_value(self) -> Any:
        """The device's value, None when not reported."""
        device = self.coordinator.data.devices.get(self._device_key)
        return None if device is None else self.entity_description.value_fn(device)

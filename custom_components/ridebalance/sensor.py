"""Sensors: what the rider's sensors and the balance engine say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfPower, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .analysis import LiveMetrics
from .coordinator import RideBalanceConfigEntry, RideCoordinator, RideSnapshot
from .entity import (
    RideBalanceEntity,
    SensorDeviceEntity,
    async_add_device_entities,
)

# Push coordinator: nothing to poll, so no limit on parallel updates.
PARALLEL_UPDATES = 0

UNIT_RPM = "rpm"
UNIT_BPM = "bpm"
UNIT_POINTS = "pts"
# Publication ticks are a second apart but not exactly: don't skip one for jitter.
THROTTLE_SLACK_S = 0.2


@dataclass(frozen=True, kw_only=True)
class RideSensorEntityDescription(SensorEntityDescription):
    """A RideBalance sensor and how to read it from the snapshot."""

    value_fn: Callable[[RideSnapshot], float | None]
    attrs_fn: Callable[[RideSnapshot], dict[str, Any]] | None = None
    digits: int = 0
    every_s: float = 1.0
    """Write the state at most this often: slow-moving figures need not churn
    the recorder every second (a riding hour stays under 1 MB of history)."""


def _live(
    fn: Callable[[LiveMetrics], float | None],
) -> Callable[[RideSnapshot], float | None]:
    """Read a live metric; None while no session is running."""
    return lambda s: None if s.live is None else fn(s.live)


def _cadence(s: RideSnapshot) -> float | None:
    """The 10 s mean while a session runs (steadier), else the latest reading."""
    if s.live is not None and s.live.cadence_rpm is not None:
        return s.live.cadence_rpm
    return s.sample.cadence_rpm if s.sample else None


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
        every_s=2.0,
    ),
    RideSensorEntityDescription(
        key="power_3s",
        translation_key="power_3s",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.power_3s_w,
        entity_registry_enabled_default=False,
    ),
    RideSensorEntityDescription(
        key="cadence",
        translation_key="cadence",
        native_unit_of_measurement=UNIT_RPM,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_cadence,
        every_s=5.0,
    ),
    RideSensorEntityDescription(
        key="heart_rate",
        translation_key="heart_rate",
        native_unit_of_measurement=UNIT_BPM,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda s: s.sample.heart_rate_bpm if s.sample else None,
        every_s=5.0,
    ),
    RideSensorEntityDescription(
        key="left_balance",
        translation_key="left_balance",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=_live(lambda m: m.balance_10s_left_pct),
        every_s=5.0,
    ),
    RideSensorEntityDescription(
        key="left_balance_1min",
        translation_key="left_balance_1min",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=_live(lambda m: m.balance_1min_left_pct),
        every_s=15.0,
    ),
    RideSensorEntityDescription(
        key="left_balance_session",
        translation_key="left_balance_session",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=_live(lambda m: m.balance_session_left_pct),
        every_s=60.0,
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
        every_s=15.0,
    ),
    RideSensorEntityDescription(
        key="te_left",
        translation_key="te_left",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=_live(lambda m: m.te_left_pct),
        every_s=15.0,
    ),
    RideSensorEntityDescription(
        key="te_right",
        translation_key="te_right",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=_live(lambda m: m.te_right_pct),
        every_s=15.0,
    ),
    RideSensorEntityDescription(
        key="ps_left",
        translation_key="ps_left",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=_live(lambda m: m.ps_left_pct),
        every_s=15.0,
    ),
    RideSensorEntityDescription(
        key="ps_right",
        translation_key="ps_right",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=False,
        value_fn=_live(lambda m: m.ps_right_pct),
        every_s=15.0,
    ),
    RideSensorEntityDescription(
        key="cadence_drift",
        translation_key="cadence_drift",
        native_unit_of_measurement=UNIT_RPM,
        state_class=SensorStateClass.MEASUREMENT,
        digits=1,
        value_fn=_live(lambda m: m.cadence_drift_rpm),
        every_s=15.0,
    ),
    RideSensorEntityDescription(
        key="riding_time",
        translation_key="riding_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_live(lambda m: m.riding_s / 60.0),
    ),
    RideSensorEntityDescription(
        key="time_since_posture_break",
        translation_key="time_since_posture_break",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda s: s.minutes_since_break,
    ),
    RideSensorEntityDescription(
        key="last_session_balance",
        translation_key="last_session_balance",
        native_unit_of_measurement=PERCENTAGE,
        digits=1,
        value_fn=_last_session_balance,
        attrs_fn=lambda s: {
            "sessions": [asdict(r.card()) for r in reversed(s.sessions[-10:])]
        },
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
    async_add_device_entities(
        entry,
        async_add_entities,
        lambda key: [DeviceSensor(coordinator, key, d) for d in DEVICE_SENSORS],
    )


class RideBalanceSensor(RideBalanceEntity, SensorEntity):
    """A sensor fed from the coordinator's snapshot."""

    entity_description: RideSensorEntityDescription
    _unrecorded_attributes = frozenset(
        {"sessions", "bands", "power_band", "usual_left_pct"}
    )

    _last_write: tuple[float | None, float] | None = None
    _last_shape: tuple[bool, bool] | None = None

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write at most every ``every_s``, of ride time or of wall time.

        Ride time is the readings' clock, so a simulated ride played faster than
        life stays as fresh as a real one (the coordinator caps writes at one a
        second of wall time); wall time lets the last value out once readings
        stop. Becoming (un)available or (un)known, e.g. at a session's start or
        end, goes out at once.
        """
        sample = self.coordinator.data.sample
        ride_now = None if sample is None else sample.t_s
        wall_now = dt_util.utcnow().timestamp()
        shape = (self.available, self.native_value is None)
        if self._last_write is not None and shape == self._last_shape:
            ride_then, wall_then = self._last_write
            elapsed = wall_now - wall_then
            if ride_now is not None and ride_then is not None:
                elapsed = max(elapsed, ride_now - ride_then)
            if elapsed < self.entity_description.every_s - THROTTLE_SLACK_S:
                return
        self._last_write = (ride_now, wall_now)
        self._last_shape = shape
        super()._handle_coordinator_update()

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

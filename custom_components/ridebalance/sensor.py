"""Sensors: what the rider's sensors and the balance engine say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    DEGREE,
    PERCENTAGE,
    UnitOfLength,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .analysis import LiveMetrics
from .coordinator import RideBalanceConfigEntry, RideSnapshot
from .entity import (
    RideBalanceEntity,
    SensorDeviceEntity,
    async_add_device_entities,
)
from .sources import SensorDevice

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

    value_fn: Callable[[RideSnapshot], float | str | None]
    attrs_fn: Callable[[RideSnapshot], dict[str, Any]] | None = None
    available_fn: Callable[[RideSnapshot], bool] | None = None
    """Whether the figure is measured at all (None: whenever the source is up)."""
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
    return s.sessions[-1].balance_left_pct if s.sessions else None


def _indoor_vs_outdoor(s: RideSnapshot) -> float | None:
    """The mean of the bands' differences, each as the card shows it."""
    diffs = [row.to_dict(1)["difference_pts"] for row in s.indoor_vs_outdoor]
    return sum(diffs) / len(diffs) if diffs else None


def _measurement(
    key: str,
    value_fn: Callable[[RideSnapshot], float | None],
    every_s: float,
    *,
    unit: str = PERCENTAGE,
    digits: int = 1,
    enabled: bool = True,
    attrs_fn: Callable[[RideSnapshot], dict[str, Any]] | None = None,
    available_fn: Callable[[RideSnapshot], bool] | None = None,
) -> RideSensorEntityDescription:
    """A measured figure, written at most every ``every_s``."""
    return RideSensorEntityDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=unit,
        state_class=SensorStateClass.MEASUREMENT,
        entity_registry_enabled_default=enabled,
        digits=digits,
        value_fn=value_fn,
        attrs_fn=attrs_fn,
        available_fn=available_fn,
        every_s=every_s,
    )


def _pedal_stroke(
    key: str, fn: Callable[[LiveMetrics], float | None]
) -> RideSensorEntityDescription:
    """Torque effectiveness or pedal smoothness: whole percent, for the curious."""
    return _measurement(key, _live(fn), 15.0, digits=0, enabled=False)


def _usual_balance(s: RideSnapshot) -> dict[str, Any]:
    """The power band the rider is in and the usual balance there."""
    live = s.live
    return {
        "power_band": None if live is None else live.power_band,
        "usual_left_pct": (
            None
            if live is None or live.baseline_left_pct is None
            else round(live.baseline_left_pct, 1)
        ),
    }


def _minutes(
    key: str, value_fn: Callable[[RideSnapshot], float | None]
) -> RideSensorEntityDescription:
    return RideSensorEntityDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=value_fn,
    )


def _dynamics_present(s: RideSnapshot) -> bool:
    """The pedals send cycling dynamics (a head unit switched them on)."""
    return s.dynamics is not None and s.dynamics.absent_reason is None


def _standing_minutes(s: RideSnapshot) -> float | None:
    return None if s.dynamics is None else s.dynamics.standing_s / 60


def _position(s: RideSnapshot) -> str | None:
    standing = None if s.dynamics is None else s.dynamics.standing
    return None if standing is None else "standing" if standing else "seated"


def _phase_angle(side: str, end: bool) -> Callable[[RideSnapshot], float | None]:
    def angle(s: RideSnapshot) -> float | None:
        if s.dynamics is None:
            return None
        phase = s.dynamics.phase_left if side == "left" else s.dynamics.phase_right
        return None if phase is None else phase[1 if end else 0]

    return angle


def _dynamics_figure(
    key: str,
    value_fn: Callable[[RideSnapshot], float | None],
    unit: str,
    digits: int,
) -> RideSensorEntityDescription:
    """A PCO or power phase figure over the last minute; disabled by default."""
    return _measurement(
        key,
        value_fn,
        15.0,
        unit=unit,
        digits=digits,
        enabled=False,
        available_fn=_dynamics_present,
    )


DYNAMICS_SENSORS: tuple[RideSensorEntityDescription, ...] = (
    RideSensorEntityDescription(
        key="riding_position",
        translation_key="riding_position",
        device_class=SensorDeviceClass.ENUM,
        options=["seated", "standing"],
        value_fn=_position,
        available_fn=_dynamics_present,
    ),
    replace(
        _minutes("time_standing", _standing_minutes),
        suggested_display_precision=1,
        digits=2,
        available_fn=_dynamics_present,
        every_s=15.0,
    ),
    _dynamics_figure(
        "pco_left",
        lambda s: None if s.dynamics is None else s.dynamics.pco_left_mm,
        UnitOfLength.MILLIMETERS,
        1,
    ),
    _dynamics_figure(
        "pco_right",
        lambda s: None if s.dynamics is None else s.dynamics.pco_right_mm,
        UnitOfLength.MILLIMETERS,
        1,
    ),
    _dynamics_figure(
        "power_phase_left_start", _phase_angle("left", end=False), DEGREE, 0
    ),
    _dynamics_figure("power_phase_left_end", _phase_angle("left", end=True), DEGREE, 0),
    _dynamics_figure(
        "power_phase_right_start", _phase_angle("right", end=False), DEGREE, 0
    ),
    _dynamics_figure(
        "power_phase_right_end", _phase_angle("right", end=True), DEGREE, 0
    ),
)


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
    _measurement("left_balance", _live(lambda m: m.balance_10s_left_pct), 5.0),
    _measurement("left_balance_1min", _live(lambda m: m.balance_1min_left_pct), 15.0),
    _measurement(
        "left_balance_session", _live(lambda m: m.balance_session_left_pct), 60.0
    ),
    _measurement(
        "balance_vs_baseline",
        _live(lambda m: m.vs_baseline_pts),
        15.0,
        unit=UNIT_POINTS,
        attrs_fn=_usual_balance,
    ),
    _pedal_stroke("te_left", lambda m: m.te_left_pct),
    _pedal_stroke("te_right", lambda m: m.te_right_pct),
    _pedal_stroke("ps_left", lambda m: m.ps_left_pct),
    _pedal_stroke("ps_right", lambda m: m.ps_right_pct),
    _measurement(
        "cadence_drift", _live(lambda m: m.cadence_drift_rpm), 15.0, unit=UNIT_RPM
    ),
    _minutes("riding_time", _live(lambda m: m.riding_s / 60.0)),
    _minutes("time_since_posture_break", lambda s: s.minutes_since_break),
    RideSensorEntityDescription(
        key="last_session_balance",
        translation_key="last_session_balance",
        native_unit_of_measurement=PERCENTAGE,
        digits=1,
        value_fn=_last_session_balance,
        attrs_fn=lambda s: {
            "sessions": [asdict(card) for card in reversed(s.sessions[-10:])]
        },
    ),
    RideSensorEntityDescription(
        key="indoor_vs_outdoor",
        translation_key="indoor_vs_outdoor",
        native_unit_of_measurement=UNIT_POINTS,
        digits=1,
        value_fn=_indoor_vs_outdoor,
        attrs_fn=lambda s: {"bands": [row.to_dict(1) for row in s.indoor_vs_outdoor]},
    ),
    *DYNAMICS_SENSORS,
)


@dataclass(frozen=True, kw_only=True)
class DeviceSensorEntityDescription(SensorEntityDescription):
    """A diagnostic sensor of one paired sensor device."""

    value_fn: Callable[[SensorDevice], StateType | datetime]


DEVICE_SENSORS: tuple[DeviceSensorEntityDescription, ...] = (
    DeviceSensorEntityDescription(
        key="battery",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda d: d.battery_pct,
    ),
    DeviceSensorEntityDescription(
        key="battery_status",
        translation_key="battery_status",
        device_class=SensorDeviceClass.ENUM,
        options=["new", "good", "ok", "low", "critical"],
        value_fn=lambda d: d.battery_status,
    ),
    DeviceSensorEntityDescription(
        key="last_seen",
        translation_key="last_seen",
        device_class=SensorDeviceClass.TIMESTAMP,
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
    async_add_entities(RideBalanceSensor(entry.runtime_data, d) for d in SENSORS)
    async_add_device_entities(entry, async_add_entities, DeviceSensor, DEVICE_SENSORS)


class RideBalanceSensor(RideBalanceEntity, SensorEntity):
    """A sensor fed from the coordinator's snapshot."""

    entity_description: RideSensorEntityDescription
    _unrecorded_attributes = frozenset(
        {"sessions", "bands", "power_band", "usual_left_pct"}
    )

    _last_write: tuple[float | None, float] | None = None
    _last_shape: tuple[bool, bool] | None = None
    _unsub_owed: CALLBACK_TYPE | None = None

    async def async_added_to_hass(self) -> None:
        """Drop an owed write with the entity."""
        await super().async_added_to_hass()
        self.async_on_remove(self._cancel_owed)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write at most every ``every_s``, of ride time or of wall time.

        Ride time is the readings' clock, so a simulated ride played faster than
        life stays as fresh as a real one (the coordinator caps writes at one a
        second of wall time). A held-back value is owed: it is written when its
        wall time comes, so the last value gets out once readings stop. Becoming
        (un)available or (un)known, e.g. at a session's start or end, goes out at
        once.
        """
        sample = self.coordinator.data.sample
        ride_now = None if sample is None else sample.t_s
        wall_now = dt_util.utcnow().timestamp()
        shape = (self.available, self.native_value is None)
        if self._last_write is not None and shape == self._last_shape:
            ride_then, wall_then = self._last_write
            wait_s = self.entity_description.every_s - THROTTLE_SLACK_S
            elapsed = wall_now - wall_then
            if ride_now is not None and ride_then is not None:
                elapsed = max(elapsed, ride_now - ride_then)
            if elapsed < wait_s:
                if self._unsub_owed is None:
                    self._unsub_owed = async_call_later(
                        self.hass, wall_then + wait_s - wall_now, self._write_owed
                    )
                return
        self._write()

    @callback
    def _write_owed(self, _now: datetime) -> None:
        self._unsub_owed = None
        self._write()

    @callback
    def _write(self) -> None:
        self._cancel_owed()
        sample = self.coordinator.data.sample
        self._last_write = (
            None if sample is None else sample.t_s,
            dt_util.utcnow().timestamp(),
        )
        self._last_shape = (self.available, self.native_value is None)
        super()._handle_coordinator_update()

    @callback
    def _cancel_owed(self) -> None:
        if self._unsub_owed is not None:
            self._unsub_owed()
            self._unsub_owed = None

    @property
    def available(self) -> bool:
        """Unavailable while the figure is not measured (e.g. no dynamics sent)."""
        fn = self.entity_description.available_fn
        return super().available and (fn is None or fn(self.coordinator.data))

    @property
    def native_value(self) -> float | str | None:
        """The value in the latest snapshot, rounded so noise does not write state."""
        value = self.entity_description.value_fn(self.coordinator.data)
        if value is None or isinstance(value, str):
            return value
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

    @property
    def native_value(self) -> StateType | datetime:
        """The device's value, None when not reported."""
        device = self.device
        return None if device is None else self.entity_description.value_fn(device)

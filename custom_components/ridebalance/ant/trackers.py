"""Per-device trackers: turn one device's decoded ANT+ pages into readings.

Trackers keep what a single page cannot tell: averages over rolling-over counters,
coasting, staleness, device identity. Nothing here raises on bad input: malformed
pages are counted and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
import math
from typing import TYPE_CHECKING, Any

from . import pages
from .dynamics import (
    ForceAnglePage,
    PedalDynamics,
    PedalPositionPage,
    TorqueBarycentrePage,
)
from .identity import DeviceIdentity, identity_of
from .readings import (
    BatteryState,
    CalibrationResult,
    DeviceCounters,
    HeartRateReading,
    PowerReading,
    TrainerReading,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """Timing thresholds shared by every tracker."""

    coasting_timeout_s: float = 3.0
    """No new power event for this long while pages keep coming: 0 W, 0 rpm."""
    stale_after_s: float = 5.0
    """A metric not refreshed for this long is no longer known (None)."""
    max_gap_s: float = 5.0
    """After a reception gap this long, counters may have wrapped unseen: the
    next page is a fresh reference instead of a delta."""

    def __post_init__(self) -> None:
        """Coasting must be declared before the power figure goes stale."""
        if not 0 < self.coasting_timeout_s < self.stale_after_s:
            raise ValueError("need 0 < coasting_timeout_s < stale_after_s")


class _Timed[T]:
    """A value with the time it was last refreshed."""

    __slots__ = ("at_s", "value")

    def __init__(self) -> None:
        self.value: T | None = None
        self.at_s = -math.inf

    def set(self, value: T | None, t_s: float) -> None:
        self.value = value
        self.at_s = t_s

    def get(self, now_s: float, stale_after_s: float) -> T | None:
        return self.value if now_s - self.at_s <= stale_after_s else None


class DeviceTracker:
    """State common to every ANT+ device: counters, identity, battery."""

    device_type: int = 0

    def __init__(
        self,
        device_number: int,
        transmission_type: int = 0,
        config: TrackerConfig | None = None,
    ) -> None:
        """Track one device; ``config`` defaults to :class:`TrackerConfig`."""
        self.device_number = device_number
        self.transmission_type = transmission_type
        self.config = config or TrackerConfig()
        self.pages = 0
        self.malformed = 0
        self.unknown = 0
        self.last_seen_s: float | None = None
        # What the pages seen so far say about the device (identity_of).
        self.identity = DeviceIdentity()
        self._battery: BatteryState | None = None
        self._init_state()

    def _init_state(self) -> None:
        """Each kind of device sets up the state it tracks."""

    def update(self, raw: pages.RawPage) -> bool:
        """Take one raw page; True when it carries a new power figure to emit."""
        self.pages += 1
        self.last_seen_s = raw.timestamp_s
        try:
            page = pages.decode_page(self.device_type, raw.data)
        except pages.UnknownPage:
            self.unknown += 1
            self._unknown_page(raw)
            return False
        except pages.MalformedPage:
            self.malformed += 1
            return False
        self.identity = (
            identity_of(page, self.device_number, self.identity) or self.identity
        )
        if isinstance(page, pages.ManufacturerPage | pages.ProductPage):
            return False
        if isinstance(page, pages.BatteryPage):
            # Multi-battery devices rotate ids; the last report is good enough here.
            self._battery = BatteryState(
                voltage_v=page.voltage_v,
                status=page.status,
                operating_time_s=page.operating_time_s,
            )
            return False
        return self._apply(page, raw.timestamp_s)

    def _read[R: DataclassInstance](
        self, reading: type[R], now_s: float, **given: Any
    ) -> R:
        """A reading from the tracked metrics of the same names, plus ``given``.

        Anything not refreshed within the staleness window is None.
        """
        stale = self.config.stale_after_s
        values: dict[str, Any] = {
            field.name: getattr(self, field.name).get(now_s, stale)
            for field in fields(reading)
            if field.name not in given
        }
        return reading(**values, **given)

    def _apply(self, page: pages.Page, t_s: float) -> bool:
        """Device-specific pages: True when a new power figure is ready."""
        raise NotImplementedError

    def _unknown_page(self, raw: pages.RawPage) -> None:
        """A page we do not decode may still carry something useful."""

    def connected(self, now_s: float) -> bool:
        """Heard from within the staleness window."""
        return (
            self.last_seen_s is not None
            and now_s - self.last_seen_s <= self.config.stale_after_s
        )

    @property
    def counters(self) -> DeviceCounters:
        """Pages received, malformed and unknown."""
        return DeviceCounters(self.pages, self.malformed, self.unknown)

    @property
    def battery(self) -> BatteryState | None:
        """Latest battery report, None before the first one."""
        return self._battery


def _delta(new: int, old: int, modulus: int) -> int:
    return (new - old) % modulus


MAX_POWER_W = 3000.0
"""Above this no rider produces power: a figure beyond it is a counter glitch."""
MAX_CADENCE_RPM = 250.0


def _crank_period(delta_period: int, elapsed_s: float) -> int:
    """The crank period since the last turn, with the 32 s wraps put back.

    The counter (1/2048 s, 16 bits) wraps every 32 s: a coast that long wraps it
    unseen; the time the pages took to come says how many times (the period
    cannot be much longer than that time).
    """
    wraps = round((elapsed_s * 2048 - delta_period) / 65536)
    return delta_period + 65536 * max(0, wraps)


class _EventPower:
    """Average power from an event count (mod 256) and accumulated power (mod 2^16).

    The first page is a reference only; a page with the same event count is a
    repeat; after ``max_gap_s`` without pages the counters may have wrapped
    unseen, so the next page is a new reference.
    """

    __slots__ = ("_accumulated", "_events", "_t_s", "reference")

    def __init__(self) -> None:
        self._events = -1
        self._accumulated = 0
        self._t_s = -math.inf
        self.reference = False
        """Whether the last page fed was taken as a new reference."""

    def feed(
        self, t_s: float, events: int, accumulated: int, max_gap_s: float
    ) -> float | None:
        """Average power over the new events, or None (reference or repeat)."""
        fresh = self._events < 0 or t_s - self._t_s > max_gap_s
        self.reference = fresh
        delta_events = _delta(events, self._events, 256)
        delta_accumulated = _delta(accumulated, self._accumulated, 65536)
        self._t_s = t_s
        if fresh or delta_events:
            self._events = events
            self._accumulated = accumulated
        if fresh or not delta_events:
            return None
        return delta_accumulated / delta_events


class _EventPowerTracker(DeviceTracker):
    """A device whose power comes from event counts (pedals, trainer).

    No new event for the coasting timeout means the rider stopped pedalling:
    power and cadence become a real zero, and what only means something under
    load (``_cleared_when_coasting``) becomes "not measured".
    """

    def _init_state(self) -> None:
        super()._init_state()
        self._last_event_t: float | None = None
        self.power_w: _Timed[float] = _Timed()
        self.cadence_rpm: _Timed[float] = _Timed()

    def _cleared_when_coasting(self) -> tuple[_Timed[float], ...]:
        return ()

    def update(self, raw: pages.RawPage) -> bool:
        """Any page of the device, not only a repeat, can say the rider coasts.

        openant passes a repeated page on only when another frame came between,
        so coasting is judged by the time since the last power event.
        """
        return super().update(raw) or self._coast(raw.timestamp_s)

    def _power_event(
        self, average: float | None, reference: bool, t_s: float, cadence: int | None
    ) -> bool:
        """One event-count page: a new figure, a new reference, or a repeat."""
        if average is None:
            if reference:
                self._last_event_t = t_s
            return False
        self._last_event_t = t_s
        if average > MAX_POWER_W:
            return False  # a counter glitch, not a measurement
        self.power_w.set(average, t_s)
        self.cadence_rpm.set(
            None if cadence is None or cadence > MAX_CADENCE_RPM else float(cadence),
            t_s,
        )
        return True

    def _coasting_now(self, now_s: float) -> None:
        """For a reading: a device still heard but without events is coasting."""
        if self.connected(now_s):
            self._coast(now_s)

    def _coast(self, t_s: float) -> bool:
        """No power event for the coasting timeout: power is a real zero."""
        last = self._last_event_t
        if last is None or t_s - last < self.config.coasting_timeout_s:
            return False
        self.power_w.set(0.0, t_s)
        self.cadence_rpm.set(0.0, t_s)
        for metric in self._cleared_when_coasting():
            metric.set(None, t_s)
        return True


class PowerMeterTracker(_EventPowerTracker):
    """Bicycle Power (11): pedals, cranks, or a trainer's own power channel."""

    device_type = pages.DEVICE_TYPE_BICYCLE_POWER

    def _init_state(self) -> None:
        super()._init_state()
        self._power_only = _EventPower()
        self._torque_prev: pages.CrankTorquePage | None = None
        self._torque_prev_t = -math.inf
        self._torque_seen_t = -math.inf
        self.right_pct: _Timed[float] = _Timed()
        self.te_left_pct: _Timed[float] = _Timed()
        self.te_right_pct: _Timed[float] = _Timed()
        self.ps_left_pct: _Timed[float] = _Timed()
        self.ps_right_pct: _Timed[float] = _Timed()
        self.ps_combined_pct: _Timed[float] = _Timed()
        self.instantaneous_power_w: _Timed[int] = _Timed()
        self.dynamics = PedalDynamics()
        self.last_calibration: CalibrationResult | None = None

    def _torque_primary(self, t_s: float) -> bool:
        # A crank-torque meter's 0x12 gives power and cadence from the crank
        # period; its interleaved 0x10 pages then only add the balance byte.
        return t_s - self._torque_seen_t <= self.config.stale_after_s

    def _cleared_when_coasting(self) -> tuple[_Timed[float], ...]:
        # The 100/0 and TE/PS-at-zero-power artefacts of dual pedals.
        return (
            self.right_pct,
            self.te_left_pct,
            self.te_right_pct,
            self.ps_left_pct,
            self.ps_right_pct,
            self.ps_combined_pct,
        )

    def _apply(self, page: pages.Page, t_s: float) -> bool:
        if isinstance(page, pages.PowerOnlyPage):
            return self._apply_power_only(page, t_s)
        if isinstance(page, pages.CrankTorquePage):
            return self._apply_crank_torque(page, t_s)
        if isinstance(page, pages.TorqueEffectivenessPage):
            # Whether the rider pushed hard enough for TE and PS to mean anything
            # is the analysis's power floor, the rider's setting.
            self.te_left_pct.set(page.te_left_pct, t_s)
            self.te_right_pct.set(page.te_right_pct, t_s)
            self.ps_left_pct.set(page.ps_left_pct, t_s)
            self.ps_right_pct.set(page.ps_right_pct, t_s)
            self.ps_combined_pct.set(page.ps_combined_pct, t_s)
            return False
        if isinstance(page, (ForceAnglePage, PedalPositionPage, TorqueBarycentrePage)):
            # Passed through as sent: only a head unit can have switched them on.
            self.dynamics.apply(page, t_s)
            return False
        if isinstance(page, pages.CalibrationResponsePage):
            self.last_calibration = CalibrationResult(
                t_s, page.success, page.calibration_value, page.auto_zero_enabled
            )
        return False

    def _apply_power_only(self, page: pages.PowerOnlyPage, t_s: float) -> bool:
        self.instantaneous_power_w.set(page.instantaneous_power_w, t_s)
        average = self._power_only.feed(
            t_s, page.event_count, page.accumulated_power_w, self.config.max_gap_s
        )
        # A crank-torque meter's power comes from its 0x12 pages.
        torque_primary = self._torque_primary(t_s)
        if average is None:  # a reference or a repeat: no new balance either
            if torque_primary:
                return False
            return self._power_event(None, self._power_only.reference, t_s, None)
        emitted = not torque_primary and self._power_event(
            average, False, t_s, page.cadence_rpm
        )
        # Only bit 7 says the share is the right pedal's; a share of an unknown
        # side cannot become a left/right balance. Below the rider's power floor
        # the analysis blanks it, as it does for every source.
        right = page.right_pct
        self.right_pct.set(None if right is None else float(right), t_s)
        return emitted

    def _apply_crank_torque(self, page: pages.CrankTorquePage, t_s: float) -> bool:
        self._torque_seen_t = t_s
        prev = self._torque_prev
        fresh = prev is None or t_s - self._torque_prev_t > self.config.max_gap_s
        self._torque_prev_t = t_s
        if prev is None or fresh:
            self._torque_prev = page
            self._last_event_t = t_s
            return False
        delta_events = _delta(page.event_count, prev.event_count, 256)
        if not delta_events:
            return False  # a repeat; update() judges coasting by time
        self._torque_prev = page
        delta_ticks = _delta(page.crank_ticks, prev.crank_ticks, 256)
        delta_period = _delta(page.crank_period, prev.crank_period, 65536)
        if not delta_ticks or not delta_period:
            # A time-synchronous meter sends events while the cranks stand
            # still: no turn, so no figure, and coasting is judged by time.
            return False
        assert self._last_event_t is not None  # set with the first reference
        period = _crank_period(delta_period, t_s - self._last_event_t)
        self._last_event_t = t_s
        delta_torque = _delta(page.accumulated_torque, prev.accumulated_torque, 65536)
        power = 128 * math.pi * delta_torque / period
        cadence = 60 * delta_ticks * 2048 / period
        if power > MAX_POWER_W or cadence > MAX_CADENCE_RPM:
            return False  # a counter glitch, not a measurement
        self.power_w.set(power, t_s)
        self.cadence_rpm.set(cadence, t_s)
        return True

    def reading(self, now_s: float) -> PowerReading:
        """Current figures; anything not refreshed within the window is None."""
        stale = self.config.stale_after_s
        self._coasting_now(now_s)
        return self._read(
            PowerReading, now_s, dynamics=self.dynamics.reading(now_s, stale)
        )


class TrainerTracker(_EventPowerTracker):
    """Fitness Equipment (17): a smart trainer over FE-C."""

    device_type = pages.DEVICE_TYPE_FITNESS_EQUIPMENT

    def _init_state(self) -> None:
        super()._init_state()
        self._power = _EventPower()
        self.instantaneous_power_w: _Timed[int] = _Timed()
        self.heart_rate_bpm: _Timed[float] = _Timed()
        self.speed_mps: _Timed[float] = _Timed()
        self.incline_pct: _Timed[float] = _Timed()
        self.resistance_pct: _Timed[float] = _Timed()
        self.fe_state: _Timed[pages.FeState] = _Timed()
        self.trainer_status: _Timed[int] = _Timed()
        self.last_torque_page: pages.FeTrainerTorquePage | None = None

    def _apply(self, page: pages.Page, t_s: float) -> bool:
        if isinstance(page, pages.FeTrainerPage):
            self.fe_state.set(page.fe_state, t_s)
            self.trainer_status.set(page.trainer_status, t_s)
            self.instantaneous_power_w.set(page.instantaneous_power_w, t_s)
            average = self._power.feed(
                t_s, page.event_count, page.accumulated_power_w, self.config.max_gap_s
            )
            return self._power_event(
                average, self._power.reference, t_s, page.cadence_rpm
            )
        if isinstance(page, pages.FeGeneralPage):
            self.fe_state.set(page.fe_state, t_s)
            self.speed_mps.set(page.speed_mps, t_s)
            # Without a strap paired to the trainer it may send 0 rather than 0xFF.
            heart_rate = page.heart_rate_bpm or None
            self.heart_rate_bpm.set(
                None if heart_rate is None else float(heart_rate), t_s
            )
        elif isinstance(page, pages.FeSettingsPage):
            self.fe_state.set(page.fe_state, t_s)
            self.incline_pct.set(page.incline_pct, t_s)
            self.resistance_pct.set(page.resistance_pct, t_s)
        elif isinstance(page, pages.FeTrainerTorquePage):
            self.last_torque_page = page
        return False

    def reading(self, now_s: float) -> TrainerReading:
        """Current figures; anything not refreshed within the window is None."""
        self._coasting_now(now_s)
        return self._read(TrainerReading, now_s)


class HeartRateTracker(DeviceTracker):
    """Heart rate (120): a chest strap or arm band."""

    device_type = pages.DEVICE_TYPE_HEART_RATE

    def _init_state(self) -> None:
        super()._init_state()
        self._beat_count: int | None = None
        self.heart_rate_bpm: _Timed[float] = _Timed()
        self.rr_interval_s: _Timed[float] = _Timed()

    def _apply(self, page: pages.Page, t_s: float) -> bool:
        if not isinstance(page, pages.HeartRatePage):
            return False
        # The figure is refreshed only by a new beat: a strap off the chest may
        # keep repeating its last value, which then goes stale like any other.
        if page.beat_count != self._beat_count or page.heart_rate_bpm is None:
            self._beat_count = page.beat_count
            bpm = page.heart_rate_bpm
            self.heart_rate_bpm.set(None if bpm is None else float(bpm), t_s)
            if page.previous_beat_time is not None:
                rr = _delta(page.beat_time, page.previous_beat_time, 65536) / 1024
                self.rr_interval_s.set(rr or None, t_s)
        # Pages 2 and 3 (identity) were taken in by update().
        if page.page_number == 1:
            self._battery = replace(
                self._battery or BatteryState(), operating_time_s=page.operating_time_s
            )
        elif page.page_number == 7:
            self._battery = replace(
                self._battery or BatteryState(),
                voltage_v=page.battery_voltage_v,
                status=page.battery_status,
                level_pct=page.battery_pct,
            )
        return False

    def _unknown_page(self, raw: pages.RawPage) -> None:
        # Every heart-rate data page (outside the common pages, 0x40-0x5F) has the
        # beat fields in bytes 4-7, including pages we do not decode and legacy
        # straps whose bytes 0-3 are manufacturer-specific.
        data = raw.data
        if len(data) != 8 or 0x40 <= data[0] & 0x7F < 0x60:
            return
        page = pages.HeartRatePage(
            0, False, data[4] | (data[5] << 8), data[6], data[7] or None
        )
        self._apply(page, raw.timestamp_s)

    def reading(self, now_s: float) -> HeartRateReading:
        """Current figures; anything not refreshed within the window is None."""
        return self._read(HeartRateReading, now_s)


type Tracker = PowerMeterTracker | TrainerTracker | HeartRateTracker

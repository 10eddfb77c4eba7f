"""What the trackers report: a device's current figures, battery and counters.

None in a figure means "not known right now" (never measured, or gone stale).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .pages import BatteryStatus, FeState


@dataclass(frozen=True, slots=True)
class BatteryState:
    """Latest battery report (common page 0x52 or heart-rate page 7)."""

    voltage_v: float | None = None
    status: BatteryStatus | None = None
    operating_time_s: int | None = None
    level_pct: int | None = None


@dataclass(frozen=True, slots=True)
class DeviceCounters:
    """Pages received; malformed and unknown are subsets of ``pages``."""

    pages: int
    malformed: int
    unknown: int


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """The last calibration response of a power meter."""

    t_s: float
    success: bool
    calibration_value: int
    auto_zero_enabled: bool | None


@dataclass(frozen=True, slots=True)
class PowerReading:
    """A power meter's current figures; None = not known right now."""

    power_w: float | None
    cadence_rpm: float | None
    right_pct: float | None
    te_left_pct: float | None
    te_right_pct: float | None
    ps_left_pct: float | None
    ps_right_pct: float | None
    ps_combined_pct: float | None
    instantaneous_power_w: int | None
    dynamics: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Cycling dynamics by Sample field, when a head unit has switched them on."""

    @property
    def left_pct(self) -> float | None:
        """The left share, the rider-facing convention."""
        return None if self.right_pct is None else 100.0 - self.right_pct


@dataclass(frozen=True, slots=True)
class TrainerReading:
    """An FE-C trainer's current figures; None = not known right now."""

    power_w: float | None
    cadence_rpm: float | None
    instantaneous_power_w: int | None
    heart_rate_bpm: float | None
    speed_mps: float | None
    incline_pct: float | None
    resistance_pct: float | None
    fe_state: FeState | None
    trainer_status: int | None


@dataclass(frozen=True, slots=True)
class HeartRateReading:
    """A heart-rate strap's current figures; None = not known right now."""

    heart_rate_bpm: float | None
    rr_interval_s: float | None

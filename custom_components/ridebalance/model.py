"""The one reading type that crosses from sources to analysis.

Plain Python, no Home Assistant imports: ``ant/``, ``analysis/``, ``rides/`` and the
CLI all share it. ``None`` always means "not measured"; a 0 is a real zero.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import IntEnum, StrEnum

import numpy as np
import numpy.typing as npt


class PowerSource(StrEnum):
    """Where a sample's power figure came from."""

    PEDALS = "pedals"
    TRAINER = "trainer"
    FILE = "file"
    ENTITY = "entity"
    SIMULATOR = "simulator"


class RiderPosition(IntEnum):
    """Seated or standing, numbered as FIT's ``rider_position_type``.

    ANT+ page 0xE2 numbers 1 and 2 the other way round; its decoder converts.
    """

    SEATED = 0
    STANDING = 1
    TRANSITION_TO_SEATED = 2
    TRANSITION_TO_STANDING = 3

    @property
    def standing(self) -> bool:
        """Out of the saddle (rising counts as standing, sitting down as seated)."""
        return self in (RiderPosition.STANDING, RiderPosition.TRANSITION_TO_STANDING)


# The positions out of the saddle, as the float codes ride arrays hold.
STANDING_CODES: tuple[float, ...] = tuple(float(p) for p in RiderPosition if p.standing)


@dataclass(frozen=True, slots=True, eq=False)
class ReadingArrays:
    """A ride's readings as equal-length columns; NaN means "not measured".

    ``t_s`` is seconds, then one array per measured figure of a :class:`Sample`,
    in the order files, arrays and storage use. Rides read from files, simulated
    rides and cleaned rides extend it with what else they carry.
    """

    t_s: npt.NDArray[np.float64]
    power_w: npt.NDArray[np.float64]
    left_pct: npt.NDArray[np.float64]
    cadence_rpm: npt.NDArray[np.float64]
    heart_rate_bpm: npt.NDArray[np.float64]
    te_left_pct: npt.NDArray[np.float64]
    te_right_pct: npt.NDArray[np.float64]
    ps_left_pct: npt.NDArray[np.float64]
    ps_right_pct: npt.NDArray[np.float64]


# The measured figures of a Sample: the one list of them (the cycling dynamics,
# which few pedals send, are ``DYNAMICS_FIELDS`` and ride beside them).
READING_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(ReadingArrays) if f.name != "t_s"
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of the rider, typically at 4 Hz (1 Hz from ride files).

    ``t_s`` is seconds on the source's monotonic clock (from the start of the
    stream for files and the simulator). ``left_pct`` is the LEFT pedal's share of
    power in percent (the rider-facing convention; wire formats carry the right
    share and are converted at the decoder/reader boundary). The cycling
    dynamics (``DYNAMICS_FIELDS``) are None unless the pedals broadcast them.
    """

    t_s: float
    power_w: float | None = None
    left_pct: float | None = None
    cadence_rpm: float | None = None
    heart_rate_bpm: float | None = None
    te_left_pct: float | None = None
    te_right_pct: float | None = None
    ps_left_pct: float | None = None
    ps_right_pct: float | None = None
    power_source: PowerSource | None = None
    rider_position: RiderPosition | None = None
    pco_left_mm: float | None = None
    pco_right_mm: float | None = None
    phase_left_start_deg: float | None = None
    phase_left_end_deg: float | None = None
    phase_right_start_deg: float | None = None
    phase_right_end_deg: float | None = None
    peak_left_start_deg: float | None = None
    peak_left_end_deg: float | None = None
    peak_right_start_deg: float | None = None
    peak_right_end_deg: float | None = None
    torque_barycentre_deg: float | None = None

    @property
    def right_pct(self) -> float | None:
        """The right pedal's share, derived so it can never disagree with left."""
        return None if self.left_pct is None else 100.0 - self.left_pct


# Cycling dynamics per reading (NaN / None = not measured): the rider position
# (a RiderPosition value), platform centre offset per side in mm (+ = towards the
# outside of the pedal), and the power phase and its peak per side as start/end
# angles in degrees from top dead centre, and the torque barycentre (degrees;
# ANT+ only, FIT has no field for it). The Sample's fields after its readings
# and power source, in its order.
DYNAMICS_FIELDS: tuple[str, ...] = tuple(
    f.name
    for f in fields(Sample)
    if f.name not in {"t_s", "power_source", *READING_FIELDS}
)

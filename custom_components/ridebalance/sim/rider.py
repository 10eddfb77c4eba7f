"""The simulated rider's sensors: byte-exact ANT+ pages at each 4 Hz instant.

Simulated pedals, a trainer and a heart-rate strap broadcast a generated ride,
lap after lap, with a rest between laps long enough for a session to end (the
heart rate recovers meanwhile). Used by the simulator source in Home Assistant
and by the gateway's ``--simulate``; no Home Assistant imports.
"""

from __future__ import annotations

import math
from typing import Final

from ..analysis.session import END_AFTER_S
from ..ant.pages import RawPage
from ..model import Sample
from .emulators import HeartRateEncoder, PedalEncoder, TrainerEncoder
from .movement import RiderMovement, average_torque_nm
from .script import RideArrays

SAMPLE_HZ: Final = 4.0
# Between two laps the rider rests long enough for the session to end, so the
# next lap is a session of its own.
REST_S: Final = END_AFTER_S + 60.0
# Device numbers of the simulated sensors (any 16-bit number would do).
SIM_PEDALS: Final = 24680
SIM_TRAINER: Final = 13579
SIM_HEART_RATE: Final = 4242
# While resting, the heart rate falls towards this with this time constant.
RESTING_HR_BPM: Final = 75.0
HR_RECOVERY_S: Final = 60.0


def virtual_speed_mps(power_w: float) -> float:
    """A trainer's virtual road speed: air drag makes power grow with speed³."""
    return float((max(0.0, power_w) / 0.25) ** (1.0 / 3.0))


class SimulatedRider:
    """Plays ride laps through simulated sensors, one 4 Hz instant at a time.

    The caller supplies laps (generating one takes a moment: off the event loop in
    Home Assistant) through :attr:`next_lap`; while none is ready the rider keeps
    resting.
    """

    def __init__(self, first_lap: RideArrays, *, dynamics: bool = False) -> None:
        """Play ``first_lap``; with ``dynamics`` the pedals also send how the
        rider moves, as if a head unit had switched cycling dynamics on."""
        self._arrays = first_lap
        self._dynamics = dynamics
        self._movement = RiderMovement(0) if dynamics else None
        self.next_lap: RideArrays | None = None
        self.lap = 0
        self.emitted = 0  # instants played, counting rest
        self._lap_offset = 0  # instant at which the current lap began
        self._lap_t_s = 0.0
        self._last_hr_bpm: float | None = None
        self._rest_started_s: float | None = None
        self._pedals = PedalEncoder(SIM_PEDALS)
        self._trainer = TrainerEncoder(SIM_TRAINER)
        self._strap = HeartRateEncoder(SIM_HEART_RATE)

    @property
    def ride_time_s(self) -> float:
        """Seconds of ride played, rest included."""
        return self.emitted / SAMPLE_HZ

    def next_pages(self) -> list[RawPage]:
        """The broadcasts of the three sensors at the next 4 Hz instant.

        Each page's timestamp is its ride time in seconds. When a lap ends and
        :attr:`next_lap` is set, it starts after the rest; the caller then supplies
        the one after.
        """
        index = self.emitted - self._lap_offset
        t_s = self.emitted / SAMPLE_HZ
        self._lap_t_s = index / SAMPLE_HZ
        self.emitted += 1
        ride_len = len(self._arrays)
        if index < ride_len:
            self._rest_started_s = None
            return self._broadcast(t_s, self._arrays.sample(index))
        if index >= ride_len + REST_S * SAMPLE_HZ - 1 and self.next_lap is not None:
            self.lap += 1
            self._lap_offset = self.emitted
            self._arrays, self.next_lap = self.next_lap, None
            if self._dynamics:
                self._movement = RiderMovement(self.lap)
        if self._rest_started_s is None:
            self._rest_started_s = t_s
        return self._broadcast(
            t_s, Sample(t_s=t_s, power_w=0.0, cadence_rpm=0.0), resting=True
        )

    def _broadcast(
        self, t_s: float, reading: Sample, *, resting: bool = False
    ) -> list[RawPage]:
        pages: list[RawPage] = []
        power = reading.power_w
        if power is not None:  # a dropout: the pedals' page is not heard
            movement = self._movement
            pages.append(
                self._pedals.page(
                    t_s,
                    power,
                    reading.left_pct,
                    reading.cadence_rpm,
                    te_left_pct=reading.te_left_pct,
                    te_right_pct=reading.te_right_pct,
                    ps_left_pct=reading.ps_left_pct,
                    ps_right_pct=reading.ps_right_pct,
                    dynamics=(
                        None if movement is None else movement.at(self._lap_t_s, power)
                    ),
                    torque_nm=average_torque_nm(power, reading.cadence_rpm),
                )
            )
        trainer_power = power or 0.0
        pages.extend(
            self._trainer.pages(
                t_s,
                trainer_power,
                reading.cadence_rpm,
                speed_mps=virtual_speed_mps(trainer_power),
            )
        )
        heart_rate = reading.heart_rate_bpm
        if resting and self._last_hr_bpm is not None:
            assert self._rest_started_s is not None
            rested_s = t_s - self._rest_started_s
            heart_rate = RESTING_HR_BPM + (
                self._last_hr_bpm - RESTING_HR_BPM
            ) * math.exp(-rested_s / HR_RECOVERY_S)
        elif heart_rate is not None:
            self._last_hr_bpm = heart_rate
        if heart_rate is not None:
            pages.append(self._strap.page(t_s, heart_rate))
        return pages

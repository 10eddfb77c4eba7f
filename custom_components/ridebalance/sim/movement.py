"""How the simulated rider moves: seated and standing spells, PCO, power phase.

What dual-sided pedals would report as cycling dynamics while a head unit has
switched them on: standing spells of 15-40 s every few minutes (and on hard
efforts), a one-reading transition each way as the pedals report it, the feet a
little inboard on the left and outboard on the right with the right foot
creeping outwards later in a lap, and a power phase that starts around top dead
centre and starts later out of the saddle. Deterministic for a seed.
"""

from __future__ import annotations

import math
import random
from typing import Final

from ..model import RiderPosition, Sample

SPELL_EVERY_S: Final = (180.0, 420.0)
SPELL_LENGTH_S: Final = (15.0, 40.0)
HARD_EFFORT_FACTOR: Final = 1.4
"""Power this many times the lap's running mean brings the rider out of the saddle."""
RIGHT_PCO_CREEP_AFTER_S: Final = 2400.0
RIGHT_PCO_CREEP_MM: Final = 3.0


class RiderMovement:
    """The rider's dynamics at each instant of a lap (call :meth:`at` in order)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._next_spell_s = self._rng.uniform(*SPELL_EVERY_S)
        self._spell_end_s: float | None = None
        self._mean_w: float | None = None
        self._last_t = 0.0

    def _standing(self, t_s: float, power_w: float) -> tuple[bool, bool]:
        """(standing now, a change of position at this instant)."""
        hard = self._mean_w is not None and power_w > HARD_EFFORT_FACTOR * self._mean_w
        if self._spell_end_s is not None:
            if t_s < self._spell_end_s or hard:
                return True, False
            self._spell_end_s = None
            self._next_spell_s = t_s + self._rng.uniform(*SPELL_EVERY_S)
            return False, True
        if t_s >= self._next_spell_s or hard:
            self._spell_end_s = t_s + self._rng.uniform(*SPELL_LENGTH_S)
            return True, True
        return False, False

    def at(self, t_s: float, power_w: float) -> Sample:
        """What the pedals report at ``t_s`` seconds into the lap (the dynamics)."""
        if power_w > 0:
            alpha = min(1.0, (t_s - self._last_t) / 300.0)
            self._mean_w = (
                power_w
                if self._mean_w is None
                else self._mean_w + alpha * (power_w - self._mean_w)
            )
        self._last_t = t_s
        standing, changed = self._standing(t_s, power_w)
        if changed:
            position = (
                RiderPosition.TRANSITION_TO_STANDING
                if standing
                else RiderPosition.TRANSITION_TO_SEATED
            )
        else:
            position = RiderPosition.STANDING if standing else RiderPosition.SEATED
        if power_w <= 0:
            return Sample(t_s, rider_position=position)
        gauss = self._rng.gauss
        creep = RIGHT_PCO_CREEP_MM if t_s >= RIGHT_PCO_CREEP_AFTER_S else 0.0
        later = 10.0 if standing else 0.0
        return Sample(
            t_s,
            rider_position=position,
            pco_left_mm=float(round(-2.0 + gauss(0, 1.0))),
            pco_right_mm=float(round(1.0 + creep + gauss(0, 1.0))),
            phase_left_start_deg=(352.0 + later + gauss(0, 4)) % 360,
            phase_left_end_deg=(228.0 + later + gauss(0, 4)) % 360,
            phase_right_start_deg=(6.0 + later + gauss(0, 4)) % 360,
            phase_right_end_deg=(233.0 + later + gauss(0, 4)) % 360,
            peak_left_start_deg=(68.0 + gauss(0, 4)) % 360,
            peak_left_end_deg=(148.0 + gauss(0, 4)) % 360,
            peak_right_start_deg=(74.0 + gauss(0, 4)) % 360,
            peak_right_end_deg=(153.0 + gauss(0, 4)) % 360,
            torque_barycentre_deg=round(2 * (96.0 + gauss(0, 3))) / 2,
        )


def average_torque_nm(power_w: float, cadence_rpm: float | None) -> float:
    """One leg's average torque over the stroke (half the crank's)."""
    if not cadence_rpm or power_w <= 0:
        return 0.0
    return power_w / (2 * math.pi * cadence_rpm / 60) / 2

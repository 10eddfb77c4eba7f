"""Angles on the pedal stroke: averages that respect the turn.

A power phase often starts just before top dead centre (350°) on one stroke and
just after it (5°) on the next; their plain mean (177.5°) is the bottom of the
stroke, their mean on the circle is 357.5°. Plain numpy, no Home Assistant.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

type FloatArray = npt.NDArray[np.float64]

# Readings spread evenly round the turn have no direction: below this resultant
# length their mean is noise, not an angle.
MIN_RESULTANT = 1e-6


def circular_mean_deg(values: FloatArray) -> float | None:
    """The mean direction of ``values`` (degrees, NaN skipped) in [0, 360)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    rad = np.deg2rad(finite)
    s, c = float(np.sin(rad).mean()), float(np.cos(rad).mean())
    if s * s + c * c < MIN_RESULTANT**2:
        return None
    return float(np.rad2deg(np.arctan2(s, c)) % 360.0)


def arc_deg(start_deg: float, end_deg: float) -> float:
    """The arc from ``start_deg`` forward (pedalling direction) to ``end_deg``."""
    return (end_deg - start_deg) % 360.0


def angle_change_deg(before_deg: float, after_deg: float) -> float:
    """Signed shortest turn from ``before_deg`` to ``after_deg`` (+ = later)."""
    return (after_deg - before_deg + 180.0) % 360.0 - 180.0

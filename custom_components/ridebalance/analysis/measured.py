"""Figures over columns where NaN means "not measured" (cleaned or read from a file).

The head unit's session figures (``rides/summary.py``), the dynamics and the
live figures average this way, so a figure means the same wherever it is shown.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

type FloatArray = npt.NDArray[np.float64]


def mean(values: FloatArray) -> float | None:
    """The mean of the measured values (None when none is)."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else None


def power_weighted(power_w: FloatArray, values: FloatArray) -> float | None:
    """``values`` weighted by power, over records with power > 0 and a value.

    A balance share is averaged this way: a hard second says more about the
    legs than a soft one (the session balance of the engine and of a head unit).
    """
    use = np.isfinite(values) & np.isfinite(power_w) & (power_w > 0)
    if not use.any():
        return None
    return float(np.sum(values[use] * power_w[use]) / np.sum(power_w[use]))

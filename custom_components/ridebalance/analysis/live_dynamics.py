"""Cycling dynamics live: position, time standing, PCO and power phase now.

Fed sample by sample (plain Python, no Home Assistant). The pedals send these
figures only while a head unit has switched them on; when no sample has carried
them for ``ABSENT_AFTER_S`` they are absent, with the reason, and nothing is
made up in their place. PCO and the power phase are averaged over the last
minute of riding only (the rule and power floor a file's analysis uses,
:func:`.cleaning.is_riding`); position and time standing count every reading.

A *real change of position* is a change between seated and standing that is
held for ``REAL_CHANGE_S``: the pedals' one-reading transitions and a shift of a
second or two out of the saddle are not one. Posture reminders count from it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math

import numpy as np

from ..model import DYNAMICS_FIELDS, Sample
from .dynamics import mean_phase
from .measured import mean
from .settings import AnalysisSettings

ABSENT_AFTER_S = 10.0
REAL_CHANGE_S = 10.0
WINDOW_S = 60.0
NOT_BROADCAST = (
    "the pedals do not broadcast cycling dynamics: a head unit must switch them "
    "on (RideBalance only listens)"
)
NO_SENSOR = "no reading from the pedals"


@dataclass(frozen=True, slots=True)
class DynamicsNow:
    """What the pedals say about how the rider moves (None = not measured)."""

    absent_reason: str | None
    """Why there are no dynamics now (None while they arrive)."""
    standing: bool | None
    standing_s: float
    """Time standing since the session started (or since the first reading)."""
    stand_count: int
    pco_left_mm: float | None
    pco_right_mm: float | None
    phase_left: tuple[float, float] | None
    """Start and end of the power phase, degrees, over the last minute."""
    phase_right: tuple[float, float] | None


# Averaged over the last minute of riding: PCO and the power phase (not its peak).
_WINDOW_FIELDS = tuple(n for n in DYNAMICS_FIELDS if n.startswith(("pco_", "phase_")))


class DynamicsTracker:
    """Keeps the latest cycling dynamics and counts standing over a session."""

    def __init__(self, max_gap_s: float = AnalysisSettings().max_gap_s) -> None:
        """``max_gap_s``: a reading counts for at most this long standing."""
        self.max_gap_s = max_gap_s
        self._recent: deque[tuple[float, tuple[float, ...]]] = deque()
        self._last_seen_t: float | None = None
        self._last_t: float | None = None
        self._standing: bool | None = None
        self._pending: tuple[bool, float] | None = None
        self.standing_s = 0.0
        self.stand_count = 0

    def reset_session(self) -> None:
        """A new session: time standing and stands count from zero."""
        self.standing_s = 0.0
        self.stand_count = 0

    def push(self, sample: Sample, riding: bool) -> float | None:
        """Take one reading; returns the time of a real change of position.

        ``riding`` is the engine's riding rule on the reading
        (:func:`.cleaning.is_riding`, the rider's power floor): as in a file's
        analysis (:mod:`.dynamics`), PCO and the power phase count only while
        the rider rides, and the position and time standing count every reading.

        The returned time is when the rider changed position (held since then
        for ``REAL_CHANGE_S``), on the sample clock; None otherwise.
        """
        t = sample.t_s
        if self._last_t is not None and self._standing:
            self.standing_s += min(max(t - self._last_t, 0.0), self.max_gap_s)
        self._last_t = t
        values = tuple(
            math.nan if (v := getattr(sample, name)) is None else float(v)
            for name in _WINDOW_FIELDS
        )
        measured = sample.rider_position is not None or any(
            math.isfinite(v) for v in values
        )
        if measured:
            self._last_seen_t = t
            if riding:
                self._recent.append((t, values))
        while self._recent and self._recent[0][0] < t - WINDOW_S:
            self._recent.popleft()
        if sample.rider_position is None:
            return None
        return self._position(sample.rider_position.standing, t)

    def _position(self, standing: bool, t: float) -> float | None:
        if self._standing is None:
            self._standing = standing
            self.stand_count += standing
            return None
        if standing != self._standing:
            self._standing = standing
            self.stand_count += standing
            # Back before the last change held: neither was a real change.
            self._pending = None if self._pending is not None else (standing, t)
            return None
        pending = self._pending
        if pending is not None and t - pending[1] >= REAL_CHANGE_S:
            self._pending = None
            return pending[1]
        return None

    def now(self, t_s: float | None) -> DynamicsNow:
        """The figures at ``t_s`` (the latest sample's time)."""
        absent: str | None = None
        if t_s is None:
            absent = NO_SENSOR
        elif self._last_seen_t is None or t_s - self._last_seen_t > ABSENT_AFTER_S:
            absent = NOT_BROADCAST
        if absent is not None:
            return DynamicsNow(
                absent, None, self.standing_s, self.stand_count, None, None, None, None
            )
        # No riding in the last minute (coasting): an empty window, none measured.
        rows = np.array(
            [values for _, values in self._recent], dtype=np.float64
        ).reshape(-1, len(_WINDOW_FIELDS))
        column = {name: rows[:, i] for i, name in enumerate(_WINDOW_FIELDS)}

        def phase(side: str) -> tuple[float, float] | None:
            found = mean_phase(
                column[f"phase_{side}_start_deg"], column[f"phase_{side}_end_deg"]
            )
            return None if found is None else (found.start_deg, found.end_deg)

        return DynamicsNow(
            absent_reason=None,
            standing=self._standing,
            standing_s=self.standing_s,
            stand_count=self.stand_count,
            pco_left_mm=mean(column["pco_left_mm"]),
            pco_right_mm=mean(column["pco_right_mm"]),
            phase_left=phase("left"),
            phase_right=phase("right"),
        )

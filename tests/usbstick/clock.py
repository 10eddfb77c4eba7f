"""Simulated time shared by the air, the stick and the code under test.

Time moves only when a test calls :meth:`SimClock.advance` (or something sleeps
on it), so a ride of minutes runs in milliseconds and every run sees the same
instants. :class:`SleepOnClock` stands in for the ``time`` module inside openant
only, where its one ``time.sleep`` is the wait after a reset.
"""

from __future__ import annotations

import threading
import time
from typing import Any


class SimClock:
    """A monotonic clock in seconds that advances on request only."""

    def __init__(self, start_s: float = 1000.0) -> None:
        self._now = start_s
        self._cond = threading.Condition()

    def __call__(self) -> float:
        """The current simulated time (usable wherever a ``monotonic`` is)."""
        with self._cond:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward and wake every waiter; returns the new time."""
        if seconds < 0:
            raise ValueError("time does not go backwards")
        with self._cond:
            self._now += seconds
            self._cond.notify_all()
            return self._now

    def wait_until(self, deadline_s: float, real_cap_s: float) -> bool:
        """Block until simulated ``deadline_s`` or ``real_cap_s`` of real time.

        Returns whether the simulated deadline was reached.
        """
        real_deadline = time.monotonic() + real_cap_s
        with self._cond:
            while self._now < deadline_s:
                remaining = real_deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True


class SleepOnClock:
    """A ``time`` module whose ``sleep`` advances a :class:`SimClock` at once."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        """Let simulated time pass instead of real time."""
        self.slept.append(seconds)
        self._clock.advance(max(0.0, seconds))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

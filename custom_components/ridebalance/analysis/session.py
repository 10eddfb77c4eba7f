"""Sessions, alerts and posture reminders on top of the balance engine.

Plain Python (no Home Assistant imports) so the rules a rider alerts are tested
directly: when a session starts and ends, which episode changes become alerts, and
when a posture reminder is due.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
import math
from typing import Any

from ..model import Sample
from .baseline import Baselines
from .cleaning import is_riding
from .live_dynamics import DynamicsNow, DynamicsTracker
from .results import (
    EpisodeChange,
    EpisodeEdge,
    EpisodeKind,
    LiveMetrics,
    SessionSummary,
)
from .settings import RIDER_KNOBS, AnalysisSettings
from .streaming import StreamingAnalyzer

# Pedalling this long starts a session; stopping this long ends it.
START_AFTER_S = 10.0
END_AFTER_S = 180.0
# A pause this long counts as a posture break.
BREAK_AFTER_S = 30.0
# No reminder in the first minutes of a ride.
NO_REMINDER_BEFORE_S = 300.0
# "Mid-sprint": 3 s power this much above the session's average.
SPRINT_FACTOR = 1.5
# Where a restarted source's first reading is placed after the last one.
SOURCE_RESTART_GAP_S = 0.25

POSTURE_CUES: tuple[str, ...] = (
    "Change hand position: hoods, tops, then drops.",
    "Stand up and pedal for 30 seconds.",
    "Relax your shoulders and drop them away from your ears.",
    "Check your hips are level on the saddle; slide back if you have crept forward.",
    "Unclench your grip and bend your elbows a little.",
    "Take three slow breaths and let your lower back soften.",
)


class AlertType(StrEnum):
    """What the event entity reports."""

    ASYMMETRY_STARTED = "asymmetry_started"
    ASYMMETRY_ENDED = "asymmetry_ended"
    CADENCE_DRIFT_STARTED = "cadence_drift_started"
    CADENCE_DRIFT_ENDED = "cadence_drift_ended"
    BALANCE_DRIFT = "balance_drift"
    POSTURE_REMINDER = "posture_reminder"
    SESSION_STARTED = "session_started"
    SESSION_ENDED = "session_ended"


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert for the rider, with the data an automation needs."""

    type: AlertType
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RiderSettings:
    """The rider's settings: the engine's, plus how alerts reach the rider."""

    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    posture_interval_min: float = 20.0
    alerts_enabled: bool = True
    posture_reminders_enabled: bool = True

    def with_analysis(self, **changes: Any) -> RiderSettings:
        """The same settings with some of the engine's changed."""
        return replace(self, analysis=replace(self.analysis, **changes))

    def to_dict(self) -> dict[str, Any]:
        """For the Store: the rider's knobs, flat (engineering defaults stay code)."""
        knobs = {name: getattr(self.analysis, name) for name in RIDER_KNOBS}
        session = {f.name: getattr(self, f.name) for f in fields(self)}
        del session["analysis"]
        return knobs | session

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RiderSettings:
        """From the Store; unknown keys ignored, missing ones default."""
        known = {f.name for f in fields(cls)} - {"analysis"}
        return cls(
            AnalysisSettings.from_dict({k: data[k] for k in RIDER_KNOBS if k in data}),
            **{k: v for k, v in data.items() if k in known},
        )


_STARTED = {
    EpisodeKind.ASYMMETRY: AlertType.ASYMMETRY_STARTED,
    EpisodeKind.CADENCE_DRIFT: AlertType.CADENCE_DRIFT_STARTED,
    EpisodeKind.CADENCE_OUT_OF_BAND: AlertType.CADENCE_DRIFT_STARTED,
    EpisodeKind.BALANCE_DRIFT: AlertType.BALANCE_DRIFT,
}
_ENDED = {
    EpisodeKind.ASYMMETRY: AlertType.ASYMMETRY_ENDED,
    EpisodeKind.CADENCE_DRIFT: AlertType.CADENCE_DRIFT_ENDED,
    EpisodeKind.CADENCE_OUT_OF_BAND: AlertType.CADENCE_DRIFT_ENDED,
}
# Both cadence episodes are one "cadence drift" to the rider: it starts with the
# first of them and ends with the last.
_CADENCE_KINDS = frozenset({EpisodeKind.CADENCE_DRIFT, EpisodeKind.CADENCE_OUT_OF_BAND})


def _riding(sample: Sample, settings: AnalysisSettings) -> bool:
    """The engine's riding rule on one raw reading (None = not measured)."""
    power = math.nan if sample.power_w is None else sample.power_w
    cadence = math.nan if sample.cadence_rpm is None else sample.cadence_rpm
    return is_riding(power, cadence, settings)


@dataclass(slots=True)
class _Active:
    analyzer: StreamingAnalyzer
    start_t_s: float
    samples: list[Sample] = field(default_factory=list)
    last_pedal_t_s: float = 0.0
    last_break_riding_s: float = 0.0
    pause_started_t_s: float | None = None
    reminder_due_reason: str | None = None
    cadence_open: set[EpisodeKind] = field(default_factory=set)
    # Kept here because the engine's snapshot is too costly to take per sample.
    riding_s: float = 0.0
    energy_j: float = 0.0
    last_t_s: float | None = None

    def count(self, sample: Sample, riding: bool, max_gap_s: float) -> None:
        """Accumulate riding time and work, pause-aware."""
        if self.last_t_s is not None and riding:
            dt = min(max(sample.t_s - self.last_t_s, 0.0), max_gap_s)
            self.riding_s += dt
            self.energy_j += dt * (sample.power_w or 0.0)
        self.last_t_s = sample.t_s

    @property
    def avg_power_w(self) -> float | None:
        """Average power while riding."""
        return self.energy_j / self.riding_s if self.riding_s > 0 else None


class SessionTracker:
    """Turns the sample stream into sessions, alerts and posture reminders.

    Sessions start by themselves after ``START_AFTER_S`` of pedalling and end
    after ``END_AFTER_S`` without; ``start``/``stop`` do it by hand.
    """

    def __init__(
        self,
        settings: RiderSettings,
        baselines: Baselines,
        context: str = "indoor",
    ) -> None:
        self.settings = settings
        self.baselines = baselines
        self.context = context
        self._active: _Active | None = None
        self._pedal_since_t_s: float | None = None
        self._wait_for_pause = False
        self._cue_index = 0
        self._recent: deque[Sample] = deque(maxlen=16)
        self.last_sample: Sample | None = None
        self.last_session_samples: list[Sample] = []
        self._offset = 0.0
        self._rebase_to: float | None = None
        self.dynamics = DynamicsTracker(settings.analysis.max_gap_s)

    # --- state ---------------------------------------------------------------

    @property
    def active(self) -> bool:
        """A session is under way."""
        return self._active is not None

    @property
    def samples(self) -> list[Sample]:
        """The current session's samples (empty when idle)."""
        return self._active.samples if self._active else []

    def live(self) -> LiveMetrics | None:
        """The engine's view of the current session."""
        return self._active.analyzer.snapshot() if self._active else None

    def power_3s_w(self) -> float | None:
        """Mean power over the last 3 seconds of readings."""
        if self.last_sample is None:
            return None
        cutoff = self.last_sample.t_s - 3.0
        values = [
            s.power_w for s in self._recent if s.t_s > cutoff and s.power_w is not None
        ]
        return sum(values) / len(values) if values else None

    def dynamics_now(self) -> DynamicsNow:
        """Position, time standing this session, PCO and power phase now."""
        return self.dynamics.now(self.last_sample.t_s if self.last_sample else None)

    def minutes_since_break(self) -> float | None:
        """Riding minutes since the last posture break.

        A break is a reminder, a pause, or a real change of position (seated
        to standing or back, held for ``live_dynamics.REAL_CHANGE_S``).
        """
        if self._active is None:
            return None
        return (self._active.riding_s - self._active.last_break_riding_s) / 60.0

    # --- control -------------------------------------------------------------

    def update_settings(self, settings: RiderSettings) -> None:
        """New knobs; the engine applies them from its next 10 s block on."""
        self.settings = settings
        self.dynamics.max_gap_s = settings.analysis.max_gap_s
        if self._active is not None:
            self._active.analyzer.update_settings(settings.analysis)

    def baseline_changed(self) -> None:
        """The baseline was reset or taught: the running session uses it at once."""
        if self._active is not None:
            self._active.analyzer.baseline_changed()

    def start(self, t_s: float | None = None) -> list[Alert]:
        """Start a session by hand (no-op when one is running)."""
        if self._active is not None:
            return []
        now = (
            t_s
            if t_s is not None
            else (self.last_sample.t_s if self.last_sample else 0.0)
        )
        return self._start(now)

    def stop(self) -> list[Alert]:
        """End the session by hand; riding detection waits for a pause first."""
        if self._active is None:
            return []
        self._wait_for_pause = True
        return self._end()

    def push(self, samples: Iterable[Sample]) -> list[Alert]:
        """Feed readings; returns the alerts they raise, in order."""
        alerts: list[Alert] = []
        for sample in samples:
            alerts.extend(self._push_one(self._on_our_clock(sample)))
        return alerts

    def _on_our_clock(self, sample: Sample) -> Sample:
        """Keep time running forward when a source's clock starts again.

        A restarted source (Home Assistant restart, a rebuilt receiver) counts
        from zero again; the session goes on from where it was.
        """
        if self._rebase_to is not None:
            self._offset = self._rebase_to - sample.t_s
            self._rebase_to = None
        t_s = sample.t_s + self._offset
        if self.last_sample is not None and t_s < self.last_sample.t_s:
            self._offset += self.last_sample.t_s + SOURCE_RESTART_GAP_S - t_s
            t_s = self.last_sample.t_s + SOURCE_RESTART_GAP_S
        return sample if self._offset == 0 else replace(sample, t_s=t_s)

    def resume(self, samples: list[Sample], gap_s: float = 0.0) -> None:
        """Rebuild a session from stored samples after a restart, silently.

        ``gap_s`` is how long the restart took: the next reading is placed that
        long after the last stored one, whatever the source's clock says.
        """
        if not samples:
            return
        self._rebase_to = samples[-1].t_s + max(gap_s, SOURCE_RESTART_GAP_S)
        self._start(samples[0].t_s)
        assert self._active is not None
        for sample in samples:
            riding = _riding(sample, self.settings.analysis)
            self._active.analyzer.push(sample)
            self.dynamics.push(sample, riding)
            self._active.samples.append(sample)
            self._active.count(sample, riding, self.settings.analysis.max_gap_s)
            if riding:
                self._active.last_pedal_t_s = sample.t_s
        self.last_sample = samples[-1]

    def close(self) -> list[Alert]:
        """End any running session (unload, restart)."""
        return self._end() if self._active is not None else []

    # --- internals -----------------------------------------------------------

    def _new_analyzer(self) -> StreamingAnalyzer:
        return StreamingAnalyzer(
            self.settings.analysis, baseline=self.baselines.get(self.context)
        )

    def _start(self, t_s: float) -> list[Alert]:
        self._active = _Active(self._new_analyzer(), start_t_s=t_s, last_pedal_t_s=t_s)
        self.dynamics.reset_session()
        self._wait_for_pause = False
        return [Alert(AlertType.SESSION_STARTED, {"reason": "Session started."})]

    def _end(self) -> list[Alert]:
        active = self._active
        assert active is not None
        self._active = None
        self._pedal_since_t_s = None
        self.last_session_samples = active.samples
        summary: SessionSummary = active.analyzer.finish()
        summary.context = self.context
        if summary.riding_s > 0:
            self.baselines.learn(self.context, summary)
        minutes = summary.riding_s / 60.0
        balance = summary.balance_left_pct
        reason = f"Session ended after {minutes:.0f} min of riding" + (
            f", average left balance {balance:.1f} %." if balance is not None else "."
        )
        return [
            Alert(
                AlertType.SESSION_ENDED,
                {
                    "reason": reason,
                    "elapsed_min": round(minutes, 1),
                    "summary": summary,
                },
            )
        ]

    def _push_one(self, sample: Sample) -> list[Alert]:
        self.last_sample = sample
        self._recent.append(sample)
        riding = _riding(sample, self.settings.analysis)
        changed_at = self.dynamics.push(sample, riding)
        alerts: list[Alert] = []
        if self._active is None:
            if not riding:
                self._pedal_since_t_s = None
                self._wait_for_pause = False
                return alerts
            if self._wait_for_pause:
                return alerts
            if self._pedal_since_t_s is None:
                self._pedal_since_t_s = sample.t_s
            if sample.t_s - self._pedal_since_t_s < START_AFTER_S:
                return alerts
            alerts.extend(self._start(self._pedal_since_t_s))
        active = self._active
        assert active is not None
        active.samples.append(sample)
        active.count(sample, riding, self.settings.analysis.max_gap_s)
        if changed_at is not None:
            # The rider moved: the reminder counts from when the change began.
            since = active.riding_s - (sample.t_s - changed_at)
            active.last_break_riding_s = max(active.last_break_riding_s, since)
        for change in active.analyzer.push(sample):
            alerts.extend(self._alert(change))
        if riding:
            if (
                active.pause_started_t_s is not None
                and sample.t_s - active.pause_started_t_s >= BREAK_AFTER_S
            ):
                active.last_break_riding_s = active.riding_s
            active.pause_started_t_s = None
            active.last_pedal_t_s = sample.t_s
            alerts.extend(self._posture(active))
        else:
            if active.pause_started_t_s is None:
                active.pause_started_t_s = sample.t_s
            if sample.t_s - active.last_pedal_t_s >= END_AFTER_S:
                alerts.extend(self._end())
        return alerts

    def _alert(self, change: EpisodeChange) -> list[Alert]:
        episode = change.episode
        table = _STARTED if change.type is EpisodeEdge.STARTED else _ENDED
        kind = table.get(episode.kind)
        if kind is None:
            return []
        active = self._active
        assert active is not None
        if episode.kind in _CADENCE_KINDS:
            was_open = bool(active.cadence_open)
            if change.type is EpisodeEdge.STARTED:
                active.cadence_open.add(episode.kind)
            else:
                active.cadence_open.discard(episode.kind)
            if was_open == bool(active.cadence_open):
                return []  # the other cadence episode already said it
        if change.type is EpisodeEdge.STARTED and episode.kind in (
            EpisodeKind.ASYMMETRY,
            EpisodeKind.BALANCE_DRIFT,
        ):
            active.reminder_due_reason = episode.reason
        if not self.settings.alerts_enabled:
            return []
        return [
            Alert(
                kind,
                {
                    "magnitude": round(episode.magnitude, 1),
                    "unit": episode.unit,
                    "power_band": episode.power_band,
                    "elapsed_min": round(change.t_s / 60.0, 1),
                    "reason": episode.reason,
                },
            )
        ]

    def _posture(self, active: _Active) -> list[Alert]:
        if not self.settings.posture_reminders_enabled:
            active.reminder_due_reason = None
            return []
        riding = active.riding_s
        if riding < NO_REMINDER_BEFORE_S:
            return []
        # The latest reading counts too: a surge's first second has not moved
        # the 3 s mean yet.
        power = max(
            self.power_3s_w() or 0.0,
            (self.last_sample.power_w if self.last_sample else None) or 0.0,
        )
        average = active.avg_power_w
        if average and power > SPRINT_FACTOR * average:
            return []  # mid-sprint: wait until it is over
        interval_s = self.settings.posture_interval_min * 60.0
        due_by_time = riding - active.last_break_riding_s >= interval_s
        if not due_by_time and active.reminder_due_reason is None:
            return []
        live = active.analyzer.snapshot()
        if average and live.power_w and live.power_w > SPRINT_FACTOR * average:
            return []  # the sprint is still in the last 10 s: let it settle
        reason = (
            f"Reminder after {interval_s / 60:.0f} min of riding without a break."
            if due_by_time
            else f"Reminder because: {active.reminder_due_reason}"
        )
        cue = POSTURE_CUES[self._cue_index % len(POSTURE_CUES)]
        self._cue_index += 1
        active.last_break_riding_s = riding
        active.reminder_due_reason = None
        return [
            Alert(
                AlertType.POSTURE_REMINDER,
                {
                    "cue": cue,
                    "reason": reason,
                    "elapsed_min": round(riding / 60.0, 1),
                    "power_band": live.power_band,
                },
            )
        ]

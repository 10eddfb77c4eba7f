"""Sessions, alerts and posture reminders, on scripted rides."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pytest

from custom_components.ridebalance.analysis import AnalysisSettings, Baselines
from custom_components.ridebalance.analysis.session import (
    POSTURE_CUES,
    Alert,
    AlertType,
    RiderSettings,
    SessionTracker,
)
from custom_components.ridebalance.model import RiderPosition, Sample
from custom_components.ridebalance.sim import (
    Rider,
    RideScript,
    Segment,
    Shift,
    generate,
)


def steady(
    seconds: float, power: float = 200, cadence: float = 90, start: float = 0.0
) -> list[Sample]:
    """Readings at 4 Hz of a steady effort with a 50/50 balance."""
    return [
        Sample(t_s=start + i / 4, power_w=power, cadence_rpm=cadence, left_pct=50.0)
        for i in range(int(seconds * 4))
    ]


def types(alerts: Iterable[Alert]) -> list[AlertType]:
    """Just the kinds of alert, in order."""
    return [n.type for n in alerts]


def tracker(**settings: float | bool) -> SessionTracker:
    """A tracker with a fresh baseline."""
    return SessionTracker(RiderSettings(**settings), Baselines())  # type: ignore[arg-type]


def test_session_starts_after_ten_seconds_of_pedalling() -> None:
    """A pedal stroke is not a ride; ten seconds of it is."""
    t = tracker()
    assert types(t.push(steady(9))) == []
    assert not t.active
    assert types(t.push(steady(2, start=9))) == [AlertType.SESSION_STARTED]
    assert t.active


def test_a_meter_stuck_on_a_glitch_starts_no_session() -> None:
    """4000 W is a counter glitch to the engine, so it is no ride to the session
    either: the same rule says who rides."""
    t = tracker()
    assert types(t.push(steady(60, power=4000))) == []
    assert not t.active


def test_session_ends_after_three_minutes_without_pedalling() -> None:
    """Stopping for a drink is a pause; three minutes off the bike ends it."""
    t = tracker(posture_reminders_enabled=False)
    t.push(steady(120))
    alerts = t.push(steady(179, power=0, cadence=0, start=120))
    assert AlertType.SESSION_ENDED not in types(alerts)
    alerts = t.push(steady(2, power=0, cadence=0, start=299))
    assert types(alerts) == [AlertType.SESSION_ENDED]
    assert not t.active
    summary = alerts[0].data
    assert "Session ended after 2 min" in summary["reason"]
    assert t.baselines.get("indoor").sessions == 1


def test_stop_by_hand_waits_for_a_pause_before_restarting() -> None:
    """Pressing stop while still pedalling does not start a new session at once."""
    t = tracker()
    t.push(steady(60))
    assert types(t.stop()) == [AlertType.SESSION_ENDED]
    assert types(t.push(steady(30, start=60))) == []
    t.push(steady(5, power=0, cadence=0, start=90))
    assert types(t.push(steady(12, start=95))) == [AlertType.SESSION_STARTED]


def test_posture_reminders_follow_the_interval_and_pauses() -> None:
    """Every 10 riding minutes; a long pause counts as a break."""
    t = tracker(posture_interval_min=10)
    alerts = t.push(steady(25 * 60))
    reminders = [n for n in alerts if n.type is AlertType.POSTURE_REMINDER]
    assert [round(n.data["elapsed_min"]) for n in reminders] == [10, 20]
    assert reminders[0].data["cue"] != reminders[1].data["cue"]
    assert {n.data["cue"] for n in reminders} <= set(POSTURE_CUES)
    # A one-minute pause at minute 25 is a break: the next reminder is at 35.
    t.push(steady(60, power=0, cadence=0, start=25 * 60))
    alerts = t.push(steady(12 * 60, start=26 * 60))
    reminders = [n for n in alerts if n.type is AlertType.POSTURE_REMINDER]
    assert [round(n.data["elapsed_min"]) for n in reminders] == [35]


def test_no_reminder_mid_sprint() -> None:
    """A reminder due during a sprint waits until the sprint is over."""
    t = tracker(posture_interval_min=10)
    t.push(steady(9 * 60 + 50))
    sprint = t.push(steady(30, power=600, cadence=110, start=9 * 60 + 50))
    assert AlertType.POSTURE_REMINDER not in types(sprint)
    after = t.push(steady(10, start=10 * 60 + 20))
    assert AlertType.POSTURE_REMINDER in types(after)


def test_posture_reminders_can_be_switched_off() -> None:
    """With the switch off, an hour passes without a reminder."""
    t = tracker(posture_interval_min=10, posture_reminders_enabled=False)
    assert AlertType.POSTURE_REMINDER not in types(t.push(steady(3600)))


def _shifted_ride(points: float = 6.0) -> list[Sample]:
    script = RideScript(
        segments=(Segment(40 * 60, 220, 90),),
        rider=Rider(),
        shifts=(Shift(start_s=20 * 60, points=points, end_s=30 * 60),),
    )
    return list(generate(script, seed=5).samples())


def test_asymmetry_raises_once_and_clears_with_a_reminder() -> None:
    """A 6-point shift is flagged once, ends, and prompts a posture cue."""
    t = tracker(posture_interval_min=60)
    alerts = t.push(_shifted_ride())
    kinds = types(alerts)
    assert kinds.count(AlertType.ASYMMETRY_STARTED) == 1
    assert kinds.count(AlertType.ASYMMETRY_ENDED) == 1
    started = alerts[kinds.index(AlertType.ASYMMETRY_STARTED)]
    assert 20 <= started.data["elapsed_min"] <= 24
    assert started.data["magnitude"] > 3
    assert started.data["power_band"] == "200-250 W"
    assert "above your usual" in started.data["reason"]
    after = kinds[kinds.index(AlertType.ASYMMETRY_STARTED) :]
    assert AlertType.POSTURE_REMINDER in after


def test_alerts_switched_off_keep_the_state_but_say_nothing() -> None:
    """The binary sensor still sees the episode; no change goes out."""
    t = tracker(alerts_enabled=False, posture_reminders_enabled=False)
    ride = _shifted_ride()
    alerts = t.push(ride[: 25 * 60 * 4])
    assert AlertType.ASYMMETRY_STARTED not in types(alerts)
    live = t.live()
    assert live is not None
    assert live.asymmetry_active


def _asymmetry_minute(alerts: list[Alert]) -> float | None:
    for alert in alerts:
        if alert.type is AlertType.ASYMMETRY_STARTED:
            return float(alert.data["elapsed_min"])
    return None


def test_raising_the_threshold_mid_ride_applies_to_the_session() -> None:
    """A higher threshold, set mid-ride, makes the engine slower to flag."""
    ride = _shifted_ride()
    default = tracker(posture_reminders_enabled=False)
    flagged_at = _asymmetry_minute(default.push(ride))
    assert flagged_at is not None

    t = tracker(posture_reminders_enabled=False)
    t.push(ride[: 10 * 60 * 4])
    t.update_settings(
        RiderSettings(
            AnalysisSettings(asymmetry_threshold_pts=10.0),
            posture_reminders_enabled=False,
        )
    )
    later = _asymmetry_minute(t.push(ride[10 * 60 * 4 :]))
    assert later is None or later > flagged_at + 2


def test_resume_continues_where_the_ride_was() -> None:
    """Samples stored before a restart rebuild the session without alerts."""
    first = tracker()
    ride = steady(20 * 60)
    first.push(ride)
    stored = first.samples
    again = tracker()
    again.resume(stored)
    assert again.active
    minutes = again.minutes_since_break()
    assert minutes is not None
    live = again.live()
    assert live is not None
    assert live.riding_s / 60 > 19
    # Closing hands the summary over, as at a restart too long after the ride.
    assert types(again.close()) == [AlertType.SESSION_ENDED]
    assert again.close() == []


def test_power_3s_is_the_recent_mean() -> None:
    """3 s power averages the last three seconds of readings."""
    t = tracker()
    assert t.power_3s_w() is None
    t.push(steady(5, power=100))
    t.push(steady(3, power=300, start=5))
    assert t.power_3s_w() == 300


def test_a_restarted_source_clock_continues_the_session() -> None:
    """After a restart the source counts from zero; the ride goes on regardless."""
    first = tracker(posture_reminders_enabled=False)
    first.push(steady(20 * 60))
    again = tracker(posture_reminders_enabled=False)
    again.resume(first.samples, gap_s=120)
    again.push(steady(5 * 60))  # the restarted source's clock: 0 s again
    live = again.live()
    assert live is not None
    assert 24.5 <= live.riding_s / 60 <= 25.5
    assert live.elapsed_s / 60 == pytest.approx(27, abs=0.25)
    assert live.dropped.out_of_order == 0


def test_reset_baseline_mid_ride_applies_at_once() -> None:
    """After a reset the running session compares with 50/50 again."""
    t = tracker(posture_reminders_enabled=False)
    leaning = [
        Sample(t_s=s.t_s, power_w=s.power_w, cadence_rpm=s.cadence_rpm, left_pct=54.0)
        for s in steady(30 * 60)
    ]
    t.push(leaning)
    t.stop()
    t.push(steady(5, power=0, cadence=0, start=30 * 60))
    t.push(steady(15 * 60, start=30 * 60 + 5))
    live = t.live()
    assert live is not None
    assert live.baseline_left_pct is not None
    assert live.baseline_left_pct > 52
    t.baselines.reset()
    t.baseline_changed()
    t.push(steady(30, start=45 * 60 + 5))
    live = t.live()
    assert live is not None
    assert live.baseline_left_pct == 50.0


def test_one_cadence_alert_per_sag() -> None:
    """A sag that is both a drift and out of the target band alerts once."""
    t = tracker(posture_reminders_enabled=False)
    fresh = steady(20 * 60, cadence=92)
    sag = steady(10 * 60, cadence=74, start=20 * 60)
    back = steady(10 * 60, cadence=92, start=30 * 60)
    kinds = types(t.push(fresh + sag + back))
    assert kinds.count(AlertType.CADENCE_DRIFT_STARTED) == 1
    assert kinds.count(AlertType.CADENCE_DRIFT_ENDED) == 1
    assert kinds.index(AlertType.CADENCE_DRIFT_STARTED) < kinds.index(
        AlertType.CADENCE_DRIFT_ENDED
    )


def test_settings_keep_the_riders_knobs_and_take_the_rest_from_the_code() -> None:
    """What is stored is what the rider set; engineering defaults stay in the code,
    so an update that improves them reaches riders with stored settings."""
    settings = RiderSettings(
        AnalysisSettings(power_floor_w=80.0, block_s=5.0), alerts_enabled=False
    )
    stored = settings.to_dict()
    assert stored["power_floor_w"] == 80.0
    assert stored["alerts_enabled"] is False
    assert "block_s" not in stored
    back = RiderSettings.from_dict({**stored, "block_s": 5.0, "retired_knob": 1})
    assert back == RiderSettings(
        AnalysisSettings(power_floor_w=80.0), alerts_enabled=False
    )


def _with_position(samples: list[Sample], position: RiderPosition) -> list[Sample]:
    return [replace(s, rider_position=position) for s in samples]


def test_a_real_change_of_position_counts_as_a_posture_break() -> None:
    """Standing up for a minute at minute 8 moves the next reminder to minute 18;
    a two-second shift out of the saddle does not."""
    t = tracker(posture_interval_min=10)
    seated, standing = RiderPosition.SEATED, RiderPosition.STANDING
    t.push(_with_position(steady(6 * 60), seated))
    t.push(_with_position(steady(2, start=6 * 60, power=320), standing))
    t.push(_with_position(steady(2 * 60 - 2, start=6 * 60 + 2), seated))
    t.push(_with_position(steady(60, start=8 * 60, power=320), standing))
    alerts = t.push(_with_position(steady(15 * 60, start=9 * 60), seated))
    reminders = [n for n in alerts if n.type is AlertType.POSTURE_REMINDER]
    # Sitting down again at minute 9 is a change too: it counts from there.
    assert [round(n.data["elapsed_min"]) for n in reminders] == [19]
    now = t.dynamics_now()
    assert now.absent_reason is None
    assert now.standing is False
    assert now.stand_count == 2
    assert now.standing_s == pytest.approx(62.0, abs=0.5)


def test_without_dynamics_reminders_keep_the_interval() -> None:
    t = tracker(posture_interval_min=10)
    alerts = t.push(steady(21 * 60))
    reminders = [n for n in alerts if n.type is AlertType.POSTURE_REMINDER]
    assert [round(n.data["elapsed_min"]) for n in reminders] == [10, 20]
    assert t.dynamics_now().absent_reason is not None

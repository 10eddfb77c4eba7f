"""What a rider notices, played through the simulated rider at 60x.

At 60x one second of Home Assistant's clock is one minute of ride, so "minute"
below is both. The demo ride holds a temporary left shift at ride minutes 25-29,
a slow balance drift from minute 40 and a cadence sag at minutes 42-52.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    ATTR_ENTITY_ID,
    EVENT_STATE_CHANGED,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_fire_time_changed_exact,
)

ALERT = "event.simulated_rider_alert"
RIDING = "binary_sensor.simulated_rider_riding"
ASYMMETRY = "binary_sensor.simulated_rider_asymmetry"
CADENCE_DRIFT = "binary_sensor.simulated_rider_cadence_drift"
POWER = "sensor.simulated_rider_power"
RIDING_TIME = "sensor.simulated_rider_riding_time"
VS_BASELINE = "sensor.simulated_rider_balance_vs_baseline"
LAST_SESSION = "sensor.simulated_rider_last_session_balance"


@dataclass
class Alert:
    """One event of the alert entity, at the ride minute it was seen."""

    minute: float
    type: str
    data: dict[str, Any]


@dataclass
class Ride:
    """Plays the simulated ride on Home Assistant's clock and notes what changes."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    clock_s: float = 0.0
    alerts: list[Alert] = field(default_factory=list)
    changes: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    _last_alert_state: str | None = None

    @property
    def minute(self) -> float:
        """Ride minutes played (one per second of clock at 60x)."""
        return self.clock_s

    def listen(self) -> None:
        """Record every state change; alerts only when the entity really fired."""

        @callback
        def _on_change(event: Event[EventStateChangedData]) -> None:
            new = event.data["new_state"]
            if new is None:
                return
            entity_id = event.data["entity_id"]
            self.changes.setdefault(entity_id, []).append((self.minute, new.state))
            # A restored event entity shows its last event again; only a new
            # timestamp is a new alert.
            event_type = new.attributes.get("event_type")
            if (
                entity_id == ALERT
                and event_type
                and new.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)
                and new.state != self._last_alert_state
            ):
                self._last_alert_state = new.state
                self.alerts.append(Alert(self.minute, event_type, dict(new.attributes)))

        self.hass.bus.async_listen(EVENT_STATE_CHANGED, _on_change)

    async def to(self, minute: float, step_s: float = 1.0) -> None:
        """Ride on until ``minute``, moving the clock in ``step_s`` steps.

        Whole seconds use the usual test clock, which fires timers up to half a
        second early; shorter steps fire them exactly when due, or a 1 s timer
        would run every half second.
        """
        while self.clock_s < minute - 1e-9:
            self.clock_s += step_s
            self.freezer.tick(timedelta(seconds=step_s))
            if step_s >= 1.0:
                async_fire_time_changed(self.hass)
            else:
                async_fire_time_changed_exact(self.hass)
            await self.hass.async_block_till_done()

    def of(self, *types: str) -> list[Alert]:
        """The alerts of these types, in order."""
        return [a for a in self.alerts if a.type in types]

    def on_minutes(self, entity_id: str) -> list[float]:
        """The minutes at which an entity turned on."""
        return [m for m, s in self.changes.get(entity_id, []) if s == STATE_ON]

    def state(self, entity_id: str) -> str:
        """The entity's state now."""
        state = self.hass.states.get(entity_id)
        assert state is not None, f"{entity_id} does not exist"
        return state.state

    def number(self, entity_id: str) -> float:
        """The entity's numeric state now."""
        return float(self.state(entity_id))

    def attribute(self, entity_id: str, name: str) -> Any:
        """One attribute of the entity now."""
        state = self.hass.states.get(entity_id)
        assert state is not None, f"{entity_id} does not exist"
        return state.attributes.get(name)


async def _start(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> Ride:
    entry.add_to_hass(hass)
    ride = Ride(hass, freezer)
    ride.listen()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return ride


async def _press(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        "button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True
    )


async def _set_number(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: entity_id, "value": value},
        blocking=True,
    )


async def _restart(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    away: timedelta,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unload the entry, let ``away`` of clock pass, set it up again."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    freezer.tick(away)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_asymmetry_episode_is_flagged_once_and_clears(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The left shift at minutes 25-29 turns the flag on, alerts once, then clears."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(24)
    assert ride.state(ASYMMETRY) == STATE_OFF
    assert not ride.of("asymmetry_started")

    await ride.to(33)
    turned_on = ride.on_minutes(ASYMMETRY)
    assert len(turned_on) == 1
    assert 25 <= turned_on[0] <= 31
    assert ride.state(ASYMMETRY) == STATE_OFF

    started = ride.of("asymmetry_started")
    assert len(started) == 1
    assert 25 <= started[0].minute <= 31
    data = started[0].data
    # The shift is 6 points; the threshold is 3.
    assert 3.0 <= data["magnitude"] <= 10.0
    assert data["unit"] == "points"
    assert data["power_band"] == "200-250 W"
    assert "Left share" in data["reason"]
    ended = ride.of("asymmetry_ended")
    assert len(ended) == 1
    assert started[0].minute <= ended[0].minute <= 32
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_asymmetry_alerts_pair_with_the_flag_over_the_ride(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Over the whole hour: one "started" per time the flag turns on, then "ended"."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(64)
    types = [a.type for a in ride.of("asymmetry_started", "asymmetry_ended")]
    if ride.state(ASYMMETRY) == STATE_ON:  # an episode still open at the end
        assert types[-1] == "asymmetry_started"
        types.append("asymmetry_ended")
    assert types
    assert types == ["asymmetry_started", "asymmetry_ended"] * (len(types) // 2)
    assert len(ride.on_minutes(ASYMMETRY)) == len(types) // 2
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_cadence_drift_during_the_sag(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Cadence sags from minute 42 and recovers at 52: the flag follows."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(41)
    assert ride.state(CADENCE_DRIFT) == STATE_OFF
    await ride.to(56)
    turned_on = ride.on_minutes(CADENCE_DRIFT)
    assert turned_on
    assert 42 <= turned_on[0] <= 47
    assert ride.state(CADENCE_DRIFT) == STATE_OFF
    started = ride.of("cadence_drift_started")
    assert started
    assert started[0].data["unit"] == "rpm"
    assert started[0].data["magnitude"] < 0  # slower than the rider's early ride
    assert ride.of("cadence_drift_ended")
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_cadence_alerts_once_per_flag(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """One sag, one "cadence drift started" and one "ended" for the rider."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(56)
    assert len(ride.on_minutes(CADENCE_DRIFT)) == 1
    assert len(ride.of("cadence_drift_started")) == 1
    assert len(ride.of("cadence_drift_ended")) == 1
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_posture_reminders_at_the_chosen_interval(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Every 10 riding minutes without a break, sooner when a flag asks, never early."""
    ride = await _start(hass, sim_entry, freezer)
    await _set_number(hass, "number.simulated_rider_posture_reminder_interval", 10)
    assert ride.number("number.simulated_rider_posture_reminder_interval") == 10
    await ride.to(60)

    reminders = ride.of("posture_reminder")
    assert all(r.minute >= 5 and r.data["elapsed_min"] >= 5 for r in reminders)
    timed = [r for r in reminders if "after 10 min" in r.data["reason"]]
    assert len(timed) >= 3
    previous = 0.0
    for reminder in reminders:
        gap = reminder.data["elapsed_min"] - previous
        assert gap <= 10.5, f"reminder late: {reminder}"
        if reminder in timed:
            assert gap >= 9.5, f"reminder early: {reminder}"
        assert reminder.data["cue"]
        previous = reminder.data["elapsed_min"]
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_no_posture_reminder_during_a_surge(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The 20 s surges (420-430 W) are left alone; the reminder waits for after."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(34)
    reminders = ride.of("posture_reminder")
    assert reminders
    assert all(r.data["power_band"] != "300+ W" for r in reminders)
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_posture_reminders_switch_off(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """No reminders at all, neither timed nor prompted by a flag."""
    ride = await _start(hass, sim_entry, freezer)
    await hass.services.async_call(
        "switch",
        "turn_off",
        {ATTR_ENTITY_ID: "switch.simulated_rider_posture_reminders"},
        blocking=True,
    )
    await ride.to(64)
    assert not ride.of("posture_reminder")
    assert ride.of("asymmetry_started")  # the flags themselves still alert
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_alerts_switch_silences_asymmetry_events_until_back_on(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """With alerts off the event stays quiet while the flag still shows; on again,
    the later episodes are announced."""
    ride = await _start(hass, sim_entry, freezer)
    alerts = "switch.simulated_rider_alerts"
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: alerts}, blocking=True
    )
    assert ride.state(alerts) == STATE_OFF
    await ride.to(33)
    assert not ride.of("asymmetry_started", "asymmetry_ended")
    assert ride.on_minutes(ASYMMETRY)

    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: alerts}, blocking=True
    )
    assert ride.state(alerts) == STATE_ON
    await ride.to(64)
    later = [m for m in ride.on_minutes(ASYMMETRY) if m > 33]
    assert later  # the drift late in the ride shifts the balance again
    assert [a.minute for a in ride.of("asymmetry_started")] == later
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_highest_threshold_means_no_asymmetry_alert(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """At a 10-point threshold the 6-point shift and the drift go unflagged."""
    ride = await _start(hass, sim_entry, freezer)
    threshold = "number.simulated_rider_asymmetry_threshold"
    await _set_number(hass, threshold, 10)
    assert ride.number(threshold) == 10
    await ride.to(64)
    assert not ride.of("asymmetry_started")
    assert not ride.on_minutes(ASYMMETRY)
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_stop_and_start_buttons(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Stop ends the session at once; riding on does not restart it; Start does."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(5)
    assert ride.state(RIDING) == STATE_ON
    assert [a.type for a in ride.alerts] == ["session_started"]

    await _press(hass, "button.simulated_rider_stop_session")
    assert ride.state(RIDING) == STATE_OFF
    ended = ride.of("session_ended")
    assert len(ended) == 1
    assert 4 <= ended[0].data["elapsed_min"] <= 5
    assert ride.state(RIDING_TIME) == STATE_UNKNOWN
    assert len(ride.attribute(LAST_SESSION, "sessions")) == 1

    await ride.to(7)  # still pedalling: no new session by itself
    assert ride.state(RIDING) == STATE_OFF
    await _press(hass, "button.simulated_rider_start_session")
    assert ride.state(RIDING) == STATE_ON
    assert len(ride.of("session_started")) == 2
    await ride.to(9)
    assert 1.0 <= ride.number(RIDING_TIME) <= 3.0  # counted from the press
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_reset_baseline_forgets_the_learnt_balance(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The easy warm-up teaches a left lean at 100-150 W; Reset forgets it."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(3)  # 110 W, leaning left as this rider does when spinning easy
    await _press(hass, "button.simulated_rider_stop_session")
    await _press(hass, "button.simulated_rider_start_session")
    await ride.to(19)  # easy spinning at 120 W between the surges
    assert ride.attribute(VS_BASELINE, "power_band") == "100-150 W"
    learnt = ride.attribute(VS_BASELINE, "usual_left_pct")
    assert learnt > 51.0

    await _press(hass, "button.simulated_rider_stop_session")
    await _press(hass, "button.simulated_rider_reset_baseline")
    await _press(hass, "button.simulated_rider_start_session")
    await ride.to(21)  # easy spinning again
    assert ride.attribute(VS_BASELINE, "power_band") == "100-150 W"
    assert ride.attribute(VS_BASELINE, "usual_left_pct") == 50.0  # assumed again
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_session_ends_after_the_ride(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The ride's cool-down ends at minute 63.5; the session ends while resting."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(70)
    assert len(ride.of("session_ended")) == 1
    assert 63 <= ride.of("session_ended")[0].minute <= 68
    assert len(ride.attribute(LAST_SESSION, "sessions")) == 1
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_restart_within_five_minutes_resumes_the_session(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A restart mid-ride keeps the session: no new start, riding time kept."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(20)
    before = ride.number(RIDING_TIME)
    assert 18 <= before <= 21

    await _restart(hass, sim_entry, timedelta(minutes=2), freezer)
    assert ride.state(RIDING) == STATE_ON
    assert ride.number(RIDING_TIME) >= before
    assert len(ride.of("session_started")) == 1
    assert not ride.of("session_ended")
    assert ride.attribute(LAST_SESSION, "sessions") == []
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_resumed_session_keeps_counting(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """After the restart the riding time goes on from about 20 minutes."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(20)
    before = ride.number(RIDING_TIME)
    await _restart(hass, sim_entry, timedelta(minutes=2), freezer)
    await ride.to(25)
    assert before + 4 <= ride.number(RIDING_TIME) <= before + 6
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_restart_after_five_minutes_closes_the_session(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Back after more than five minutes: the old session is kept as finished."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(20)
    await _restart(hass, sim_entry, timedelta(minutes=6), freezer)
    sessions = ride.attribute(LAST_SESSION, "sessions")
    assert len(sessions) == 1
    assert 18 <= sessions[0]["duration_min"] <= 21
    assert 45 <= ride.number(LAST_SESSION) <= 55
    assert sessions[0]["balance_left_pct"] == ride.number(LAST_SESSION)
    await ride.to(23)
    assert ride.number(RIDING_TIME) <= 3  # a new session from the new readings
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_settings_survive_a_restart(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Numbers and switches the rider set are there again after a restart."""
    ride = await _start(hass, sim_entry, freezer)
    threshold = "number.simulated_rider_asymmetry_threshold"
    await _set_number(hass, threshold, 4.5)
    await hass.services.async_call(
        "switch",
        "turn_off",
        {ATTR_ENTITY_ID: "switch.simulated_rider_alerts"},
        blocking=True,
    )
    await ride.to(3)
    await _restart(hass, sim_entry, timedelta(minutes=10), freezer)
    assert ride.number(threshold) == 4.5
    assert ride.state("switch.simulated_rider_alerts") == STATE_OFF
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_power_is_written_at_most_once_a_second(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Readings arrive four times a second; the power state changes once at most."""
    ride = await _start(hass, sim_entry, freezer)
    await ride.to(60, step_s=0.25)
    writes = [m for m, _ in ride.changes.get(POWER, []) if m > 0]
    per_second: dict[int, int] = {}
    for minute in writes:
        second = int(minute - 1e-9)
        per_second[second] = per_second.get(second, 0) + 1
    assert len(writes) >= 40  # the power does move
    assert max(per_second.values()) == 1
    await hass.config_entries.async_unload(sim_entry.entry_id)

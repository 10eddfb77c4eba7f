"""The simulated rider plays its ride through byte-exact ANT+ pages and the trackers."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

import custom_components.ridebalance as integration
from custom_components.ridebalance.const import (
    CONF_DYNAMICS,
    CONF_SOURCE,
    CONF_SPEED,
    DOMAIN,
    SourceKind,
)
from custom_components.ridebalance.sim import RideScript, Segment
from custom_components.ridebalance.sources.simulator import SimulatorSource

from .helpers import set_up


async def _ride(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Advance the clock in one-second steps, then publish what arrived."""
    for _ in range(int(seconds)):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
    async_fire_time_changed(hass, fire_all=True)
    await hass.async_block_till_done()


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} does not exist"
    return state.state


async def test_sensors_are_devices_described_by_their_pages(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Pedals, trainer and strap appear with the identity and battery they send."""
    await set_up(hass, sim_entry)
    await _ride(hass, freezer, 2)  # two ride minutes: every identity page sent

    devices = sim_entry.runtime_data.data.devices
    assert {key: d.manufacturer for key, d in devices.items()} == {
        "pedals": "Favero Electronics",
        "trainer": "Tacx",
        "hr": "Garmin",
    }
    pedals = devices["pedals"]
    assert pedals.name == "Simulated pedals"
    assert pedals.model == "12"
    assert pedals.serial == "123456789"
    assert pedals.battery_status == "good"
    assert pedals.connected
    assert pedals.counters["pages"] >= 400
    assert pedals.counters["malformed"] == 0
    await _ride(hass, freezer, 1)
    assert _state(hass, "binary_sensor.simulated_pedals_connectivity") == "on"
    assert _state(hass, "sensor.simulated_pedals_battery_status") == "good"
    assert _state(hass, "sensor.simulated_heart_rate_strap_battery") == "80"
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_readings_come_at_the_pedals_event_rate(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """4 Hz of broadcasts, of which torque and identity pages carry no power event."""
    await set_up(hass, sim_entry)
    await _ride(hass, freezer, 5)  # five ride minutes at 60x

    diagnostics = sim_entry.runtime_data.source.diagnostics()
    ride_s = diagnostics["readings"] / 4.0
    assert ride_s == pytest.approx(300, abs=1)
    rate = diagnostics["samples"] / ride_s
    assert 3.0 < rate < 3.3  # about 3.15 power events a second
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_coasting_artefacts_never_reach_the_analysis(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The 30 s coast at minute 34 reads 0 W with no balance, not 100/0."""
    await set_up(hass, sim_entry)
    await _ride(hass, freezer, 36)

    session = sim_entry.runtime_data.session_for_export()
    assert session is not None
    samples, _start = session
    coast = [s for s in samples if 2044 <= s.t_s < 2070]
    assert coast, "the session should hold the coast"
    assert all(s.power_w == 0 and s.left_pct is None for s in coast)
    shares = [s.left_pct for s in samples if s.left_pct is not None]
    assert shares
    assert all(20 < share < 80 for share in shares)
    await hass.config_entries.async_unload(sim_entry.entry_id)


SHORT_RIDE = RideScript(
    segments=(Segment(120, 200, 90, label="steady"),),
    coasting_artefacts=False,
)


async def test_rest_between_laps_ends_and_restarts_riding(
    hass: HomeAssistant,
    sim_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the ride the rider rests long enough to end the session (4 min)."""
    monkeypatch.setattr(
        integration, "SimulatorSource", partial(SimulatorSource, script=SHORT_RIDE)
    )
    await set_up(hass, sim_entry)
    await _ride(hass, freezer, 1)  # ride minute 1
    assert float(_state(hass, "sensor.simulated_rider_power")) == pytest.approx(
        200, abs=30
    )
    hr_riding = float(_state(hass, "sensor.simulated_rider_heart_rate"))

    await _ride(hass, freezer, 2)  # ride minute 3: a minute into the rest
    assert float(_state(hass, "sensor.simulated_rider_power")) == 0
    assert float(_state(hass, "sensor.simulated_rider_cadence")) == 0
    assert float(_state(hass, "sensor.simulated_rider_heart_rate")) < hr_riding - 5
    source = sim_entry.runtime_data.source
    assert source.diagnostics()["lap"] == 0

    await _ride(hass, freezer, 2)  # ride minute 5: still resting, session over
    assert source.diagnostics()["lap"] == 0
    assert _state(hass, "binary_sensor.simulated_rider_riding") == "off"

    await _ride(hass, freezer, 2)  # ride minute 7: the second lap has begun
    assert source.diagnostics()["lap"] == 1
    assert float(_state(hass, "sensor.simulated_rider_power")) > 150
    await hass.config_entries.async_unload(sim_entry.entry_id)


@pytest.mark.usefixtures("enable_all_entities")
async def test_cycling_dynamics_live_when_the_pedals_send_them(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Position, time standing, PCO and power phase, through pages and trackers."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Simulated rider",
        unique_id=SourceKind.SIMULATOR.value,
        data={CONF_SOURCE: SourceKind.SIMULATOR.value},
        options={CONF_SPEED: 60.0, CONF_DYNAMICS: True},
    )
    await set_up(hass, entry)
    await _ride(hass, freezer, 30)

    positions = set()
    for _ in range(20):  # another 20 minutes of riding, a look each minute
        await _ride(hass, freezer, 1)
        positions.add(_state(hass, "sensor.simulated_rider_riding_position"))
    assert positions <= {"seated", "standing"}
    assert "seated" in positions
    standing_min = float(_state(hass, "sensor.simulated_rider_time_standing"))
    assert 0.5 < standing_min < 15
    pco_left = float(_state(hass, "sensor.simulated_rider_left_platform_centre_offset"))
    assert -4 < pco_left < 0
    start = float(_state(hass, "sensor.simulated_rider_right_power_phase_start"))
    assert start < 30 or start > 330  # around top dead centre
    session = entry.runtime_data.session_for_export()
    assert session is not None
    samples, _start = session
    assert any(s.rider_position is not None for s in samples)
    assert caplog.text.count("Cycling dynamics received from the pedals") == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_cycling_dynamics_unavailable_when_not_sent(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Pedals that do not send them: unavailable, never a made-up "seated"."""
    await set_up(hass, sim_entry)
    await _ride(hass, freezer, 5)
    assert _state(hass, "sensor.simulated_rider_power") not in (
        "unavailable",
        "unknown",
    )
    assert _state(hass, "sensor.simulated_rider_riding_position") == "unavailable"
    assert _state(hass, "sensor.simulated_rider_time_standing") == "unavailable"
    await hass.config_entries.async_unload(sim_entry.entry_id)

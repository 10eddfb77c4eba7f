"""Setting up, riding and unloading a simulated rider."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import (
    EVENT_HOMEASSISTANT_FINAL_WRITE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ridebalance.analysis import (
    AnalysisSettings,
    Baselines,
    StreamingAnalyzer,
)
from custom_components.ridebalance.const import DOMAIN
from custom_components.ridebalance.sim import demo_ride, generate
from custom_components.ridebalance.store import (
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
    RiderData,
    RunningSession,
    SessionRecord,
    encode,
)
from tests.usbstick.backend import SimulatedStick

from .helpers import SETUP_FAILURES, break_setup, set_up


def _state_of(entry: ConfigEntry) -> ConfigEntryState:
    return entry.state


def value(hass: HomeAssistant, entity_id: str) -> float:
    """The numeric state of an entity, failing clearly when it has none."""
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} does not exist"
    return float(state.state)


async def _ride(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Advance Home Assistant's clock in one-second steps, as a live ride would."""
    for _ in range(int(seconds)):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_setup_and_unload_leave_nothing_behind(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Unloading stops the simulator and the publishing clock."""
    await set_up(hass, sim_entry)
    assert sim_entry.state is ConfigEntryState.LOADED
    await _ride(hass, freezer, 3)
    before = hass.states.get("sensor.simulated_rider_power")
    assert before is not None
    assert before.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)

    source = sim_entry.runtime_data.source
    assert await hass.config_entries.async_unload(sim_entry.entry_id)
    await hass.async_block_till_done()
    assert _state_of(sim_entry) is ConfigEntryState.NOT_LOADED
    # No timer of ours is left: moving the clock changes nothing.
    emitted = source.diagnostics()["samples"]
    await _ride(hass, freezer, 3)
    assert source.diagnostics()["samples"] == emitted


async def test_sensors_follow_the_ride(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """At 60x, a minute of clock is an hour of ride: warm-up, then effort."""
    sim_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(sim_entry.entry_id)
    await hass.async_block_till_done()

    await _ride(hass, freezer, 2)  # 2 ride minutes: warm-up at about 110 W
    warm = value(hass, "sensor.simulated_rider_power")
    assert 60 < warm < 160
    await _ride(hass, freezer, 10)  # minute 12: the first steady block, ~210 W
    steady = value(hass, "sensor.simulated_rider_power")
    assert 170 < steady < 250
    cadence = value(hass, "sensor.simulated_rider_cadence")
    assert 80 < cadence < 100
    left = value(hass, "sensor.simulated_rider_left_balance")
    assert 35 < left < 65
    hr = value(hass, "sensor.simulated_rider_heart_rate")
    assert hr > 100  # the heart has caught up with ten minutes of effort
    await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_removing_the_rider_deletes_its_history(
    hass: HomeAssistant,
    sim_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """The stored baseline and sessions go with the entry."""
    sim_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(sim_entry.entry_id)
    await hass.async_block_till_done()
    await _ride(hass, freezer, 15)
    await hass.config_entries.async_unload(sim_entry.entry_id)
    key = f"ridebalance.{sim_entry.entry_id}"
    assert hass_storage[key]["data"]["running"]["columns"]["power_w"]
    await hass.config_entries.async_remove(sim_entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


async def _remove_device(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    device_id: str,
    entry_id: str,
) -> bool:
    """Ask, as the device page's Delete button does, to remove a device."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "device_id": device_id,
            "config_entry_id": entry_id,
        }
    )
    response = await client.receive_json()
    return bool(response["success"])


async def test_only_silent_sensor_devices_can_be_deleted(
    hass: HomeAssistant,
    sim_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Heard sensors and the rider stay; an old, silent pairing can go."""
    sim_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(sim_entry.entry_id)
    await hass.async_block_till_done()
    await _ride(hass, freezer, 2)
    rider = device_registry.async_get_device_by_identifier(
        ("ridebalance", "sim_entry_id"), sim_entry.entry_id
    )
    pedals = device_registry.async_get_device_by_identifier(
        ("ridebalance", "sim_entry_id_pedals"), sim_entry.entry_id
    )
    assert rider is not None
    assert pedals is not None
    old = device_registry.async_get_or_create(
        config_entry_id=sim_entry.entry_id,
        identifiers={("ridebalance", "sim_entry_id_pedals_4321")},
        name="Old pedals",
    )
    assert not await _remove_device(hass, hass_ws_client, rider.id, sim_entry.entry_id)
    assert not await _remove_device(hass, hass_ws_client, pedals.id, sim_entry.entry_id)
    assert await _remove_device(hass, hass_ws_client, old.id, sim_entry.entry_id)
    assert device_registry.async_get(old.id) is None
    await hass.config_entries.async_unload(sim_entry.entry_id)


def _stored(
    storage_dir: Path, entry: MockConfigEntry, data: Any, version: int, minor: int = 1
) -> Path:
    """Write the rider's file as Home Assistant's Store lays it out."""
    storage_dir.mkdir(parents=True, exist_ok=True)
    path = storage_dir / f"ridebalance.{entry.entry_id}"
    doc = {"version": version, "minor_version": minor, "key": path.name, "data": data}
    path.write_text(json.dumps(doc))
    return path


def _damaged_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".damaged-*"))


def _session(started: str) -> dict[str, Any]:
    arrays = generate(demo_ride(), seed=5)
    analyzer = StreamingAnalyzer(AnalysisSettings(), context="indoor")
    for i in range(2400):
        analyzer.push(arrays.sample(i))
    record = SessionRecord(started=started, ended=started, summary=analyzer.finish())
    return record.to_dict()


async def test_a_store_from_a_newer_version_survives_the_failed_setup(
    hass: HomeAssistant, sim_entry: MockConfigEntry, real_storage: Path
) -> None:
    """Not read, not written: setup stops and a repair issue says why."""
    path = _stored(real_storage, sim_entry, {"rides": ["a newer layout"]}, version=2)
    before = path.read_bytes()
    sim_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(sim_entry.entry_id)
    await hass.async_block_till_done()
    assert sim_entry.state is ConfigEntryState.SETUP_ERROR
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"store_too_new_{sim_entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders == {"title": "Simulated rider", "found": "2"}
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert path.read_bytes() == before


async def test_a_damaged_store_loads_what_it_can_and_loses_nothing(
    hass: HomeAssistant, sim_entry: MockConfigEntry, real_storage: Path
) -> None:
    """Setup goes on; the sound session stays stored, the damaged part kept aside."""
    session = _session("2026-11-30T18:00:00+00:00")
    path = _stored(
        real_storage,
        sim_entry,
        {"settings": ["not", "a", "mapping"], "sessions": [session], "running": None},
        version=1,
    )
    await set_up(hass, sim_entry)
    assert sim_entry.state is ConfigEntryState.LOADED
    assert await hass.config_entries.async_unload(sim_entry.entry_id)
    await hass.async_block_till_done()

    stored = json.loads(path.read_text())["data"]
    assert [s["started"] for s in stored["sessions"]] == [session["started"]]
    (kept,) = _damaged_files(path)
    assert json.loads(kept.read_text()) == {"settings": ["not", "a", "mapping"]}


def _rider_file(storage_dir: Path, entry: MockConfigEntry) -> tuple[Path, Path]:
    """A rider's store as RideBalance keeps it, and its previous copy (``.bak``).

    Two sessions, both baselines, learnt rides, and a ride interrupted two
    days ago that the next start closes with what it had.
    """
    arrays = generate(demo_ride(), seed=5)
    records = []
    for started, span in (
        ("2026-11-29T18:00:00+00:00", range(1200)),
        ("2026-11-30T18:00:00+00:00", range(1200, 2400)),
    ):
        analyzer = StreamingAnalyzer(AnalysisSettings(), context="indoor")
        for i in span:
            analyzer.push(arrays.sample(i))
        records.append(SessionRecord(started, started, analyzer.finish()))
    baselines = Baselines()
    baselines.learn("indoor", records[0].summary)
    baselines.learn("outdoor", records[1].summary)
    saved = dt_util.utcnow().replace(microsecond=0) - timedelta(days=2)
    running = RunningSession(
        started=saved - timedelta(minutes=10),
        saved=saved,
        samples=tuple(replace(arrays.sample(i), power_source=None) for i in range(600)),
    )
    full = RiderData(
        baselines=baselines,
        sessions=tuple(records),
        running=running,
        ride_ids=frozenset({"fit:3301972258:973710835"}),
    )
    current = (STORAGE_VERSION, STORAGE_MINOR_VERSION)
    older = encode(replace(full, sessions=tuple(records[:1]), running=None))
    first = _stored(storage_dir, entry, older, *current)
    backup = first.rename(first.with_name(first.name + ".bak"))
    return _stored(storage_dir, entry, encode(full), *current), backup


@pytest.mark.parametrize("failure", SETUP_FAILURES)
async def test_a_setup_that_fails_after_the_load_writes_nothing(
    hass: HomeAssistant,
    *,
    stick: SimulatedStick,
    ant_entry: MockConfigEntry,
    real_storage: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    """The store was read, then setup failed: Home Assistant runs the unload
    callbacks and stops, and the rider's file and its backup are as they were."""
    path, backup = _rider_file(real_storage, ant_entry)
    before, backup_before = path.read_bytes(), backup.read_bytes()
    expected = break_setup(hass, stick, monkeypatch, failure)
    ant_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(ant_entry.entry_id)
    await hass.async_block_till_done()
    assert ant_entry.state is expected
    await hass.async_stop(force=True)

    assert path.read_bytes() == before
    assert backup.read_bytes() == backup_before
    stored = json.loads(path.read_text())["data"]
    assert len(stored["sessions"]) == 2
    assert stored["running"] is not None


async def test_a_ride_closed_at_the_load_is_saved_once_set_up(
    hass: HomeAssistant,
    stick: SimulatedStick,
    ant_entry: MockConfigEntry,
    real_storage: Path,
) -> None:
    """The same file, and setup succeeds: the interrupted ride is kept as a
    session, and the file as it was becomes the backup."""
    path, backup = _rider_file(real_storage, ant_entry)
    before = path.read_bytes()
    await set_up(hass, ant_entry)
    assert await hass.config_entries.async_unload(ant_entry.entry_id)
    await hass.async_block_till_done()

    stored = json.loads(path.read_text())["data"]
    assert len(stored["sessions"]) == 3
    assert stored["running"] is None
    assert backup.read_bytes() == before

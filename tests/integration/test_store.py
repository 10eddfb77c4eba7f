"""What is kept of a rider between restarts, in Home Assistant's real Store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
import json
import logging
from pathlib import Path
import threading
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ridebalance import store as store_module
from custom_components.ridebalance.analysis import (
    AnalysisSettings,
    Baselines,
    StreamingAnalyzer,
)
from custom_components.ridebalance.analysis.results import Episode, EpisodeKind
from custom_components.ridebalance.analysis.session import RiderSettings
from custom_components.ridebalance.const import DOMAIN
from custom_components.ridebalance.model import RiderPosition, Sample
from custom_components.ridebalance.sim import demo_ride, generate
from custom_components.ridebalance.store import (
    RECENT_SESSIONS,
    STORAGE_VERSION,
    STORED_EPISODES,
    RiderData,
    RiderStore,
    RunningSession,
    SessionRecord,
    StoreTooNewError,
    columns_to_samples,
    encode,
    samples_to_columns,
    storage_key,
)
from tests.usbstick.backend import SimulatedStick

from .helpers import SETUP_FAILURES, break_setup, set_up

ENTRY_ID = "rider_one"


@pytest.fixture(scope="module")
def ride() -> list[Sample]:
    """Twenty minutes of the demo ride, with a pedal dropout and no strap at first."""
    arrays = generate(demo_ride(), seed=3)
    out = []
    for i in range(20 * 240):
        # The store keeps the readings, not where their power came from.
        sample = replace(arrays.sample(i), power_source=None)
        if i < 600:  # the strap was put on after two and a half minutes
            sample = replace(sample, heart_rate_bpm=None)
        if 2000 <= i < 2040:  # ten seconds the pedals were not heard
            sample = Sample(t_s=sample.t_s, heart_rate_bpm=sample.heart_rate_bpm)
        out.append(sample)
    return out


def _record(samples: list[Sample], started: str) -> SessionRecord:
    analyzer = StreamingAnalyzer(AnalysisSettings(), context="indoor")
    for sample in samples:
        analyzer.push(sample)
    return SessionRecord(started=started, ended=started, summary=analyzer.finish())


def test_readings_survive_the_columns_and_json(ride: list[Sample]) -> None:
    """A running session comes back reading for reading, gaps still gaps."""
    columns = json.loads(json.dumps(samples_to_columns(ride)))
    assert columns_to_samples(columns) == ride


def test_cycling_dynamics_are_kept_only_when_measured(ride: list[Sample]) -> None:
    """Pedals without dynamics add no columns; with them, position and PCO survive."""
    assert "rider_position" not in samples_to_columns(ride)
    moving = [
        replace(
            sample,
            rider_position=RiderPosition.STANDING
            if i % 40 < 8
            else RiderPosition.SEATED,
            pco_left_mm=-2.0,
            phase_right_start_deg=355.8,
        )
        for i, sample in enumerate(ride[:400])
    ]
    back = columns_to_samples(json.loads(json.dumps(samples_to_columns(moving))))
    assert back == moving
    assert back[0].rider_position is RiderPosition.STANDING


def test_a_reading_without_time_is_refused() -> None:
    """A damaged column is said, never turned into a reading at some other time."""
    with pytest.raises(ValueError, match="reading 1 has no time"):
        columns_to_samples({"t_s": [0.0, None], "power_w": [200.0, 210.0]})


def _file(storage_dir: Path, entry_id: str = ENTRY_ID) -> Path:
    return storage_dir / storage_key(entry_id)


def _beside(storage_dir: Path, ending: str, entry_id: str = ENTRY_ID) -> list[Path]:
    """The files kept beside the rider's file, e.g. ``.damaged-*``."""
    return sorted(storage_dir.glob(storage_key(entry_id) + ending))


def _write(
    storage_dir: Path,
    data: Any,
    version: int = STORAGE_VERSION,
    minor: int = 2,
    entry_id: str = ENTRY_ID,
) -> Path:
    """A rider's file as Home Assistant's Store lays it out."""
    storage_dir.mkdir(parents=True, exist_ok=True)
    doc = {
        "version": version,
        "minor_version": minor,
        "key": storage_key(entry_id),
        "data": data,
    }
    _file(storage_dir, entry_id).write_text(json.dumps(doc))
    return _file(storage_dir, entry_id)


def _write_backup(storage_dir: Path, data: Any, entry_id: str = ENTRY_ID) -> bytes:
    """A ``.bak`` beside the rider's file (the previous good file); its bytes."""
    backup = _file(storage_dir, entry_id).with_name(storage_key(entry_id) + ".bak")
    doc = {"version": STORAGE_VERSION, "minor_version": 2, "data": data}
    backup.write_text(json.dumps(doc))
    return backup.read_bytes()


async def _loaded(hass: HomeAssistant) -> tuple[RiderStore, RiderData]:
    store = RiderStore(hass, ENTRY_ID)
    return store, await store.async_load()


async def test_a_rider_comes_back_whole(
    hass: HomeAssistant, ride: list[Sample], real_storage: Path
) -> None:
    """Settings, baselines, sessions, the running session and learnt rides."""
    record = _record(ride[:2400], "2026-11-30T18:00:00+00:00")
    baselines = Baselines()
    baselines.learn("indoor", record.summary)
    now = dt_util.utcnow().replace(microsecond=0)
    rider = RiderData(
        settings=RiderSettings(
            AnalysisSettings(power_floor_w=80.0), alerts_enabled=False
        ),
        baselines=baselines,
        sessions=(record,),
        running=RunningSession(
            started=now - timedelta(minutes=20), saved=now, samples=tuple(ride)
        ),
        ride_ids=frozenset({"fit:3301972258:973710835"}),
    )
    store, _ = await _loaded(hass)
    await store.async_save(rider)
    assert _file(real_storage).is_file()

    _, back = await _loaded(hass)
    assert back.settings == rider.settings
    assert back.baselines.to_dict() == baselines.to_dict()
    assert [s.to_dict() for s in back.sessions] == [record.to_dict()]
    assert back.running == rider.running
    assert back.ride_ids == rider.ride_ids


async def test_a_new_rider_starts_from_the_defaults(
    hass: HomeAssistant, real_storage: Path
) -> None:
    """Nothing stored yet: the default settings and an empty baseline."""
    _, rider = await _loaded(hass)
    assert rider == RiderData(baselines=rider.baselines)
    assert rider.baselines.to_dict() == Baselines().to_dict()


async def test_every_session_is_kept(
    hass: HomeAssistant, ride: list[Sample], real_storage: Path
) -> None:
    """Sessions are not dropped after twenty: months of trends stay answerable."""
    record = _record(ride[:1200], "2026-11-01T07:00:00+00:00")
    starts = [f"2026-11-{day:02d}T07:00:00+00:00" for day in range(1, 26)]
    sessions = tuple(replace(record, started=s) for s in starts)
    store, _ = await _loaded(hass)
    await store.async_save(RiderData(sessions=sessions))
    _, back = await _loaded(hass)
    assert [s.started for s in back.sessions] == starts
    assert len(starts) > RECENT_SESSIONS


async def test_a_session_that_flags_all_afternoon_stays_small(
    hass: HomeAssistant, ride: list[Sample], real_storage: Path
) -> None:
    """A loose cleat flagging every minute for five hours keeps its file small.

    The first episodes are kept whole, the rest only counted, and the session's
    card still says how many there were.
    """
    record = _record(ride[:1200], "2026-11-01T07:00:00+00:00")
    flags = [
        Episode(
            kind=EpisodeKind.ASYMMETRY,
            onset_s=60.0 * minute,
            detected_s=60.0 * minute + 40.0,
            magnitude=4.5,
            unit="pts",
            reference=50.5,
            power_band="150-200",
            reason="left share 4.5 points above your usual at this effort",
            end_s=60.0 * minute + 55.0,
        )
        for minute in range(300)
    ]
    flagged = replace(record, summary=replace(record.summary, episodes=flags))
    assert len(flagged.summary.episodes) == STORED_EPISODES
    store, _ = await _loaded(hass)
    await store.async_save(RiderData(sessions=(flagged,)))
    _, back = await _loaded(hass)

    (session,) = back.sessions
    assert session.card().episodes == 300
    assert session.summary.episodes == flags[:STORED_EPISODES]
    small = len(json.dumps(record.to_dict()))
    assert len(json.dumps(session.to_dict())) < small + 250 * STORED_EPISODES


async def test_a_running_session_without_readings_is_not_resumed(
    hass: HomeAssistant, real_storage: Path
) -> None:
    """Stopped before the first reading was kept: nothing to resume."""
    now = dt_util.utcnow().isoformat()
    _write(
        real_storage,
        {
            "settings": {},
            "baselines": Baselines().to_dict(),
            "sessions": [],
            "running": {"started": now, "saved": now, "columns": {"t_s": []}},
        },
    )
    _, rider = await _loaded(hass)
    assert rider.running is None


def _sound(ride: list[Sample]) -> dict[str, Any]:
    """A rider's stored data with every part present: two sessions, two baselines."""
    first = _record(ride[:1200], "2026-11-29T18:00:00+00:00")
    second = _record(ride[1200:2400], "2026-11-30T18:00:00+00:00")
    baselines = Baselines()
    baselines.learn("indoor", first.summary)
    baselines.learn("outdoor", second.summary)
    now = dt_util.utcnow().replace(microsecond=0)
    running = RunningSession(
        started=now - timedelta(minutes=5), saved=now, samples=tuple(ride[:600])
    )
    return encode(
        RiderData(
            settings=RiderSettings(AnalysisSettings(cadence_low_rpm=70.0)),
            baselines=baselines,
            sessions=(first, second),
            running=running,
            ride_ids=frozenset({"sha256:0123", "fit:1:2"}),
        )
    )


def _damage(kind: str, data: dict[str, Any]) -> tuple[str, Any]:
    """Damage one part of ``data`` in place; the part's key and its damaged value."""
    match kind:
        case "settings_list":
            data["settings"] = [70.0, 100.0]
            return "settings", data["settings"]
        case "session_missing_key":
            del data["sessions"][0]["started"]
            return "sessions", [data["sessions"][0]]
        case "session_nan_string":
            data["sessions"][1]["avg_power_w"] = "NaN"
            return "sessions", [data["sessions"][1]]
        case "running_none_time":
            data["running"]["columns"]["t_s"][3] = None
            return "running", data["running"]
        case "running_ragged_columns":
            del data["running"]["columns"]["power_w"][-10:]
            return "running", data["running"]
        case "baseline_wrong_type":
            data["baselines"]["contexts"]["outdoor"]["sessions"] = "twelve"
            return "baselines", {
                **data["baselines"],
                "contexts": {"outdoor": data["baselines"]["contexts"]["outdoor"]},
            }
        case "baselines_list":
            data["baselines"] = [data["baselines"]]
            return "baselines", data["baselines"]
        case "sessions_mapping":
            data["sessions"] = {"first": data["sessions"][0]}
            return "sessions", data["sessions"]
        case "ride_ids_numbers":
            data["ride_ids"] = [1, 2]
            return "ride_ids", data["ride_ids"]
        case "baseline_unknown_version":
            data["baselines"] = {"version": 99}
            return "baselines", data["baselines"]
    raise AssertionError(kind)


DAMAGE = (
    "settings_list",
    "session_missing_key",
    "session_nan_string",
    "running_none_time",
    "running_ragged_columns",
    "baseline_wrong_type",
    "baselines_list",
    "sessions_mapping",
    "ride_ids_numbers",
    "baseline_unknown_version",
)


@pytest.mark.parametrize("kind", DAMAGE)
async def test_a_damaged_part_is_kept_aside_and_the_rest_loads(
    hass: HomeAssistant, ride: list[Sample], real_storage: Path, kind: str
) -> None:
    """What is sound loads; the damaged part is kept as stored, and reported."""
    sound = _sound(ride)
    data = json.loads(json.dumps(sound))
    key, damaged = _damage(kind, data)
    _write(real_storage, data)
    previous = _write_backup(real_storage, sound)

    store, rider = await _loaded(hass)

    (kept,) = _beside(real_storage, ".damaged-*")
    assert json.loads(kept.read_text())[key] == damaged
    assert store.needs_rewrite
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"store_damaged_{ENTRY_ID}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["count"] == "1"
    assert issue.translation_placeholders["path"] == str(kept)
    # Every other part came back as it was.
    back = encode(rider)
    for part in ("settings", "baselines", "running", "ride_ids"):
        if part != key:
            assert back[part] == sound[part], part
    if key != "sessions":
        assert back["sessions"] == sound["sessions"]
    elif kind.startswith("session_"):
        assert len(rider.sessions) == 1  # the other session loaded
    # The next save writes the sound parts (the damaged file is not kept as the
    # backup: its damaged parts are in ``kept``); the one after keeps the file
    # it replaced as ``.bak``. The backup found at the load stays kept aside.
    await store.async_save(rider)
    written = _file(real_storage).read_bytes()
    assert json.loads(written)["data"] == back
    await store.async_save(rider)
    assert _beside(real_storage, ".bak")[0].read_bytes() == written
    (aside,) = _beside(real_storage, ".bak-*")
    assert aside.read_bytes() == previous
    assert json.loads(kept.read_text())[key] == damaged


async def test_the_backup_found_at_a_damaged_load_outlives_the_saves(
    hass: HomeAssistant,
    sim_entry: MockConfigEntry,
    ride: list[Sample],
    real_storage: Path,
) -> None:
    """The rewrite, the saves of the ride and the save at stop replace ``.bak``:
    the previous good file found beside a damaged one is kept as ``.bak-<hash>``."""
    sound = _sound(ride)
    data = json.loads(json.dumps(sound))
    _damage("session_missing_key", data)
    _write(real_storage, data, entry_id=sim_entry.entry_id)
    previous = _write_backup(real_storage, sound, sim_entry.entry_id)
    await set_up(hass, sim_entry)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5))
    await hass.async_block_till_done()  # the rewrite
    await hass.async_stop(force=True)  # and the save at stop

    (backup,) = _beside(real_storage, ".bak", sim_entry.entry_id)
    assert backup.read_bytes() != previous  # replaced by the saves since
    (aside,) = _beside(real_storage, ".bak-*", sim_entry.entry_id)
    assert aside.read_bytes() == previous


async def test_a_cut_copy_of_the_damaged_parts_is_written_again(
    hass: HomeAssistant,
    sim_entry: MockConfigEntry,
    ride: list[Sample],
    real_storage: Path,
) -> None:
    """A copy of the damaged parts cut short (a full disk, a crash) is not trusted:
    it is written whole before the rider's file is written without those parts."""
    data = _sound(ride)
    key, damaged = _damage("session_missing_key", data)
    path = _write(real_storage, data, entry_id=sim_entry.entry_id)
    await RiderStore(hass, sim_entry.entry_id).async_load()
    (kept,) = _beside(real_storage, ".damaged-*", sim_entry.entry_id)
    whole = kept.read_text()
    kept.write_text(whole[: len(whole) // 2])

    await set_up(hass, sim_entry)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5))
    await hass.async_block_till_done()

    assert len(json.loads(path.read_text())["data"]["sessions"]) == 1  # rewritten
    assert _beside(real_storage, ".damaged-*", sim_entry.entry_id) == [kept]
    assert kept.read_text() == whole
    assert json.loads(whole) == {key: damaged}
    assert await hass.config_entries.async_unload(sim_entry.entry_id)


async def test_the_whole_file_of_the_wrong_shape_is_kept(
    hass: HomeAssistant, real_storage: Path
) -> None:
    _write(real_storage, [{"settings": {}}])
    _, rider = await _loaded(hass)
    assert rider.sessions == ()
    (kept,) = _beside(real_storage, ".damaged-*")
    assert json.loads(kept.read_text()) == {"data": [{"settings": {}}]}


async def test_every_save_keeps_the_previous_file(
    hass: HomeAssistant, ride: list[Sample], real_storage: Path
) -> None:
    store, _ = await _loaded(hass)
    first = RiderData(sessions=(_record(ride[:1200], "2026-11-29T18:00:00+00:00"),))
    await store.async_save(first)
    written = _file(real_storage).read_bytes()
    await store.async_save(RiderData())
    backup = real_storage / (storage_key(ENTRY_ID) + ".bak")
    assert backup.read_bytes() == written


async def test_a_cut_file_is_moved_aside_and_the_backup_loaded(
    hass: HomeAssistant, ride: list[Sample], real_storage: Path
) -> None:
    """Home Assistant keeps the unreadable file; the previous good copy loads."""
    store, _ = await _loaded(hass)
    record = _record(ride[:1200], "2026-11-29T18:00:00+00:00")
    await store.async_save(RiderData(sessions=(record,)))
    await store.async_save(RiderData(sessions=(record, record)))
    text = _file(real_storage).read_text()
    _file(real_storage).write_text(text[: len(text) // 2])  # a cut write

    restored, rider = await _loaded(hass)

    assert len(rider.sessions) == 1  # from the .bak
    assert restored.needs_rewrite
    (corrupt,) = _beside(real_storage, ".corrupt.*")
    assert corrupt.read_text() == text[: len(text) // 2]


@pytest.mark.parametrize(("version", "minor"), [(2, 1), (STORAGE_VERSION, 9)])
async def test_a_file_from_a_newer_version_is_left_untouched(
    hass: HomeAssistant,
    ride: list[Sample],
    real_storage: Path,
    version: int,
    minor: int,
) -> None:
    _write(
        real_storage,
        {"sessions": "a layout this version does not know"},
        version,
        minor,
    )
    before = _file(real_storage).read_bytes()
    store = RiderStore(hass, ENTRY_ID)
    with pytest.raises(StoreTooNewError, match=f"{version}"):
        await store.async_load()
    await store.async_save(RiderData())
    store.async_delay_save(RiderData)
    await hass.async_block_till_done()
    assert _file(real_storage).read_bytes() == before
    assert not _beside(real_storage, ".bak")


async def test_nothing_is_saved_before_a_load(
    hass: HomeAssistant,
    ride: list[Sample],
    real_storage: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A store that was not read is never written over (logged once)."""
    _write(real_storage, _sound(ride))
    before = _file(real_storage).read_bytes()
    store = RiderStore(hass, ENTRY_ID)
    with caplog.at_level(logging.WARNING):
        await store.async_save(RiderData())
        await store.async_save(RiderData())
    assert _file(real_storage).read_bytes() == before
    assert caplog.text.count("Not saving") == 1


async def test_loading_and_saving_run_off_the_event_loop(
    hass: HomeAssistant,
    ride: list[Sample],
    real_storage: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checking and encoding an hour of readings takes a while: never on the loop.

    The rider's data is taken on the loop (where it changes), and only there.
    """
    threads: dict[str, set[int]] = {"decode": set(), "encode": set(), "take": set()}

    def watched[**P, R](name: str, run: Callable[P, R]) -> Callable[P, R]:
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            threads[name].add(threading.get_ident())
            return run(*args, **kwargs)

        return call

    monkeypatch.setattr(store_module, "decode", watched("decode", store_module.decode))
    monkeypatch.setattr(store_module, "encode", watched("encode", store_module.encode))
    _write(real_storage, _sound(ride))
    store, rider = await _loaded(hass)
    await store.async_save(rider)
    store.async_delay_save(watched("take", lambda: rider))
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5))
    await hass.async_block_till_done()

    loop_thread = threading.get_ident()
    assert threads["decode"]
    assert threads["encode"]
    assert threads["take"] == {loop_thread}
    assert loop_thread not in threads["decode"] | threads["encode"]
    back = json.loads(_file(real_storage).read_text())["data"]
    assert back == encode(rider)


async def test_the_same_damage_is_kept_and_said_once_and_then_written_over(
    hass: HomeAssistant,
    *,
    stick: SimulatedStick,
    ant_entry: MockConfigEntry,
    ride: list[Sample],
    real_storage: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A setup retried finds the same damage: one copy of it, one warning.

    Once setup succeeds the sound parts are written (Home Assistant's stop does
    not unload, so nothing else would), and the next start finds nothing wrong.
    """
    entry_id = ant_entry.entry_id
    data = _sound(ride)
    key, damaged = _damage("settings_list", data)
    path = _write(real_storage, data, entry_id=entry_id)
    before = path.read_bytes()
    stick.set_open_error(16)  # another program holds the stick: setup is retried
    ant_entry.add_to_hass(hass)
    with caplog.at_level(logging.WARNING):
        assert not await hass.config_entries.async_setup(entry_id)
        assert not await hass.config_entries.async_reload(entry_id)
        assert ant_entry.state is ConfigEntryState.SETUP_RETRY

        (kept,) = _beside(real_storage, ".damaged-*", entry_id)
        assert json.loads(kept.read_text()) == {key: damaged}
        assert caplog.text.count("could not be read") == 1
        assert path.read_bytes() == before  # not set up: not written

        stick.set_open_error(None)
        assert await hass.config_entries.async_reload(entry_id)  # set up
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5))
        await hass.async_block_till_done()
        stored = json.loads(path.read_text())["data"]
        assert stored["settings"] == encode(RiderData())["settings"]
        assert stored["sessions"] == data["sessions"]

        rider = await RiderStore(hass, entry_id).async_load()  # the next start
    assert _beside(real_storage, ".damaged-*", entry_id) == [kept]
    assert caplog.text.count("could not be read") == 1
    assert len(rider.sessions) == 2
    await hass.config_entries.async_unload(entry_id)


async def test_removing_the_rider_removes_the_damage_issue(
    hass: HomeAssistant, sim_entry: MockConfigEntry, real_storage: Path
) -> None:
    """The repair issue about its damaged file goes with the rider."""
    _write(
        real_storage,
        {"settings": ["not", "a", "mapping"]},
        entry_id=sim_entry.entry_id,
    )
    await set_up(hass, sim_entry)
    issue_id = f"store_damaged_{sim_entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None
    await hass.config_entries.async_remove(sim_entry.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


def _older_layout(ride: list[Sample]) -> dict[str, Any]:
    """A rider as store 1.1 kept it: before the learnt rides were remembered."""
    data = _sound(ride)
    del data["ride_ids"]
    data["running"] = None
    return data


@pytest.mark.parametrize("failure", SETUP_FAILURES)
async def test_an_older_layout_is_not_written_by_a_setup_that_fails(
    hass: HomeAssistant,
    *,
    stick: SimulatedStick,
    ant_entry: MockConfigEntry,
    ride: list[Sample],
    real_storage: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    """A 1.1 file is read as it is; setup fails and the file stays byte for byte.

    (Home Assistant's Store writes a file it migrated during the load.)
    """
    path = _write(real_storage, _older_layout(ride), minor=1, entry_id="ant_entry_id")
    before = path.read_bytes()
    break_setup(hass, stick, monkeypatch, failure)
    ant_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(ant_entry.entry_id)
    await hass.async_block_till_done()
    await hass.async_stop(force=True)

    assert path.read_bytes() == before
    assert not _beside(real_storage, ".bak", "ant_entry_id")


async def test_an_older_layout_becomes_the_backup_once_set_up(
    hass: HomeAssistant,
    stick: SimulatedStick,
    ant_entry: MockConfigEntry,
    ride: list[Sample],
    real_storage: Path,
) -> None:
    """Setup succeeds: the file is written in this layout, the 1.1 one kept."""
    path = _write(real_storage, _older_layout(ride), minor=1, entry_id="ant_entry_id")
    before = path.read_bytes()
    await set_up(hass, ant_entry)
    assert await hass.config_entries.async_unload(ant_entry.entry_id)
    await hass.async_block_till_done()

    (backup,) = _beside(real_storage, ".bak", "ant_entry_id")
    assert backup.read_bytes() == before
    assert json.loads(path.read_text())["minor_version"] == 2


async def test_a_ride_under_way_is_kept_when_home_assistant_stops(
    hass: HomeAssistant,
    sim_entry: MockConfigEntry,
    real_storage: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant stops mid-ride without unloading the rider (as it does): the
    session so far is in the file, to be resumed, not the last periodic save's."""
    await set_up(hass, sim_entry)
    for _ in range(20):  # 20 minutes of ride at 60x, well inside one periodic save
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert sim_entry.runtime_data.data.riding

    await hass.async_stop(force=True)

    path = real_storage / storage_key(sim_entry.entry_id)
    stored = json.loads(path.read_text())["data"]
    assert stored["running"] is not None
    times = stored["running"]["columns"]["t_s"]
    assert max(times) - min(times) > 15 * 60

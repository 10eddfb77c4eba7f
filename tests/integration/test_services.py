"""Actions: import rides into baselines, export a session, sessions by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import io
import json
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ridebalance.cli import main as cli_main
from custom_components.ridebalance.const import DOMAIN
from custom_components.ridebalance.rides import Ride, read_ride
from custom_components.ridebalance.rides.csv_writer import write_csv
from custom_components.ridebalance.rides.fit_writer import write_fit
from custom_components.ridebalance.sim import Rider, RideScript, Segment, generate

from .helpers import import_rides, set_up


def _json(response: object) -> dict[str, Any]:
    """An action's response as a dict, failing clearly when it is not one."""
    assert isinstance(response, dict)
    return response


async def _ride(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int
) -> None:
    for _ in range(seconds):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
    await hass.async_block_till_done()


@pytest.fixture
async def loaded(
    hass: HomeAssistant,
    sim_entry: MockConfigEntry,
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> MockConfigEntry:
    """The simulator entry, set up, with a config folder of its own for exports.

    The clock is frozen before the simulator starts: at 60x, the few tenths of a
    second a busy machine spends between setup and the test would otherwise be
    half a minute of ride, enough to start a session.
    """
    hass.config.config_dir = str(tmp_path / "config")
    return await set_up(hass, sim_entry)


async def test_import_outdoor_rides_fills_indoor_vs_outdoor(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    shared_fit: Path,
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Outdoor rides teach the outdoor baseline; bad files are skipped, not lost."""
    folder = tmp_path / "rides"
    folder.mkdir()
    for name in (
        "edge810-vector-pedals.fit",
        "wahoo-elemnt-no-side-bit.fit",
        "corrupt-header.fit",
    ):
        shutil.copy(shared_fit / name, folder / name)
    hass.config.allowlist_external_dirs = {str(tmp_path)}

    response = await import_rides(hass, folder, context="outdoor")
    imported = response["imported"]
    assert [r["file"] for r in imported] == ["edge810-vector-pedals.fit"]
    # The head unit said right 49.84 %: left is 50.16 %.
    assert imported[0]["balance_left_pct"] == pytest.approx(50.2, abs=0.3)
    skipped = {s["file"]: s["reason"] for s in response["skipped"]}
    assert "no side" in skipped["wahoo-elemnt-no-side-bit.fit"]
    assert "corrupt-header.fit" in skipped

    notes = persistent_notification._async_get_or_create_notifications(hass)
    assert "Skipped 2" in notes[f"{DOMAIN}_import"]["message"]

    coordinator = loaded.runtime_data
    assert coordinator.baseline("outdoor").sessions == 1
    # An indoor session to compare with: ride 20 simulated minutes, then stop.
    await _ride(hass, freezer, 20)
    await hass.services.async_call(DOMAIN, "stop_session", {}, blocking=True)
    await _ride(hass, freezer, 2)
    bands = hass.states.get("sensor.simulated_rider_indoor_vs_outdoor")
    assert bands is not None
    assert bands.attributes["bands"], "an indoor and an outdoor band side by side"
    row = bands.attributes["bands"][0]
    assert {"band", "indoor_left_pct", "outdoor_left_pct", "difference_pts"} <= set(row)


async def test_import_refuses_paths_outside_the_allowlist(
    hass: HomeAssistant, loaded: MockConfigEntry, tmp_path: Path
) -> None:
    """A path Home Assistant may not read is refused with the fix in the message."""
    hass.config.allowlist_external_dirs = set()
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "import_rides", {"paths": [str(tmp_path)]}, blocking=True
        )
    assert err.value.translation_key == "path_not_allowed"


async def test_import_names_missing_files(
    hass: HomeAssistant, loaded: MockConfigEntry, tmp_path: Path
) -> None:
    """A typo in a path is named, not silently ignored."""
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "import_rides",
            {"paths": [str(tmp_path / "nope.fit")]},
            blocking=True,
        )
    assert err.value.translation_key == "path_missing"


async def test_export_round_trip(
    hass: HomeAssistant, loaded: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """An exported session reads back with the same power and balance."""
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "export_session", {}, blocking=True, return_response=True
        )
    await _ride(hass, freezer, 15)  # 15 ride minutes at 60x
    session = loaded.runtime_data.session_for_export()
    assert session is not None
    samples, _start = session
    response = _json(
        await hass.services.async_call(
            DOMAIN, "export_session", {}, blocking=True, return_response=True
        )
    )
    path = Path(str(response["path"]))
    assert path.is_relative_to(hass.config.path("ridebalance"))
    ride = await hass.async_add_executor_job(read_ride, path)
    assert ride.balance_side == "right"
    assert ride.duration_s == pytest.approx(samples[-1].t_s - samples[0].t_s, abs=5)
    power = ride.power_w[np.isfinite(ride.power_w)]
    watts = [s.power_w for s in samples if s.power_w is not None]
    assert float(power.mean()) == pytest.approx(sum(watts) / len(watts), rel=0.05)


async def test_sessions_by_hand_and_baseline_reset(
    hass: HomeAssistant, loaded: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Stop ends the session and stores it; reset forgets the baseline."""
    await _ride(hass, freezer, 12)
    riding = hass.states.get("binary_sensor.simulated_rider_riding")
    assert riding is not None
    assert riding.state == "on"
    await hass.services.async_call(DOMAIN, "stop_session", {}, blocking=True)
    await hass.async_block_till_done()
    riding = hass.states.get("binary_sensor.simulated_rider_riding")
    assert riding is not None
    assert riding.state == "off"
    last = hass.states.get("sensor.simulated_rider_last_session_balance")
    assert last is not None
    assert 40 < float(last.state) < 60
    assert len(last.attributes["sessions"]) == 1
    coordinator = loaded.runtime_data
    assert coordinator.baseline("indoor").sessions == 1

    await hass.services.async_call(DOMAIN, "reset_baseline", {}, blocking=True)
    assert coordinator.baseline("indoor").sessions == 0
    await hass.services.async_call(DOMAIN, "start_session", {}, blocking=True)
    assert coordinator.data.riding


async def test_export_names_a_write_failure(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """A full disk or a read-only folder is named, not a stack trace."""
    await _ride(hass, freezer, 12)
    blocker = Path(hass.config.path("ridebalance"))
    await hass.async_add_executor_job(blocker.parent.mkdir)
    await hass.async_add_executor_job(blocker.write_text, "not a folder")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN, "export_session", {}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "export_failed"


async def test_actions_need_a_loaded_rider(hass: HomeAssistant) -> None:
    """Without a rider the actions say so instead of failing obscurely."""
    assert await async_setup_component(hass, DOMAIN, {})
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "start_session", {}, blocking=True)
    assert err.value.translation_key == "no_rider"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "stop_session", {"config_entry_id": "nope"}, blocking=True
        )
    assert err.value.translation_key == "entry_not_loaded"


async def test_import_a_csv_needs_to_know_where_it_was_ridden(
    hass: HomeAssistant, loaded: MockConfigEntry, tmp_path: Path
) -> None:
    """A CSV says nothing of indoor or outdoor: auto asks, a context imports it."""
    ride = tmp_path / "trainer.csv"
    arrays = generate(
        RideScript(segments=(Segment(20 * 60, 200, 90),), rider=Rider(53.0, 53.0)),
        seed=2,
        hz=1.0,
    )
    with ride.open("w", encoding="utf-8", newline="") as handle:
        write_csv(handle, arrays)
    hass.config.allowlist_external_dirs = {str(tmp_path)}

    auto = await import_rides(hass, ride)
    assert auto["imported"] == []
    assert "context indoor or outdoor" in auto["skipped"][0]["reason"]

    indoor = await import_rides(hass, ride, context="indoor")
    assert indoor["imported"][0]["balance_left_pct"] == pytest.approx(53.0, abs=0.5)
    baseline = loaded.runtime_data.baseline("indoor")
    assert baseline.sessions == 1
    assert baseline.expected_left_pct(200) > 51


async def test_export_after_the_session_uses_its_start(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
) -> None:
    """The last session, once ended, is exported under its own start time, even
    when a ride imported since started later; once deleted, it is not exported."""
    await _ride(hass, freezer, 12)
    await hass.services.async_call(DOMAIN, "stop_session", {}, blocking=True)
    started = dt_util.parse_datetime(loaded.runtime_data.data.sessions[-1].start)
    assert started is not None
    t = np.arange(600, dtype=float)
    road = Ride.from_columns(
        t,
        power_w=np.full(t.size, 200.0),
        left_pct=np.full(t.size, 52.0),
        cadence_rpm=np.full(t.size, 85.0),
    )
    write_fit(tmp_path / "road.fit", road, start_time=started + timedelta(hours=1))
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    assert (await import_rides(hass, tmp_path / "road.fit", context="outdoor"))[
        "imported"
    ]

    response = _json(
        await hass.services.async_call(
            DOMAIN, "export_session", {}, blocking=True, return_response=True
        )
    )
    stamp = dt_util.as_local(started).strftime("%Y%m%d-%H%M%S")
    assert Path(str(response["path"])).name == f"session-{stamp}.fit"

    await hass.services.async_call(
        DOMAIN, "delete_session", {"started": started.isoformat()}, blocking=True
    )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "export_session", {}, blocking=True, return_response=True
        )
    assert err.value.translation_key == "no_session"


# --- the same figures as the command line, on the same ride file ---------------


def _cli_json(*argv: str) -> dict[str, Any]:
    out = io.StringIO()
    assert cli_main(list(argv), out=out) == 0
    doc = json.loads(out.getvalue())
    assert isinstance(doc, dict)
    return doc


def _paused_ride_fit(path: Path, rider: Rider, seed: int) -> Path:
    """40 riding minutes around a 5-minute pause in which the rider soft-pedals
    leaning left (the head unit records but its timer stands still)."""
    m = 60.0
    script = RideScript(
        segments=(
            Segment(20 * m, 180, 90),
            Segment(5 * m, 120, 70),
            Segment(20 * m, 230, 90),
        ),
        rider=rider,
        coasting_artefacts=False,
    )
    arrays = generate(script, seed=seed, hz=1.0)
    paused = (arrays.t_s >= 20 * m) & (arrays.t_s < 25 * m)
    left = np.where(paused, 62.0, arrays.left_pct)
    ride = Ride.from_columns(
        arrays.t_s,
        power_w=arrays.power_w,
        left_pct=left,
        cadence_rpm=arrays.cadence_rpm,
        timer_running=~paused,
        indoor=rider.left_above_pct == rider.left_below_pct,
    )
    # Rides of other days: a file's identity is its device and start time.
    write_fit(path, ride, start_time=datetime(2026, 11, seed, 7, 0, tzinfo=UTC))
    return path


async def _import(hass: HomeAssistant, path: Path, context: str) -> dict[str, Any]:
    response = await import_rides(hass, path, context=context)
    assert not response["skipped"]
    (imported,) = response["imported"]
    assert isinstance(imported, dict)
    return imported


@pytest.mark.parametrize("power_floor_w", [40.0, 150.0])
async def test_import_analyses_a_ride_as_the_cli_does(
    hass: HomeAssistant, loaded: MockConfigEntry, tmp_path: Path, power_floor_w: float
) -> None:
    """Riding time and balance of an import match ``ridebalance analyze``: pauses
    left out, the rider's power floor applied."""
    ride = _paused_ride_fit(tmp_path / "paused.fit", Rider(), seed=5)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.simulated_rider_power_floor", "value": power_floor_w},
        blocking=True,
    )

    imported = await _import(hass, ride, "indoor")
    cli = _cli_json(
        "analyze", str(ride), "--json", "--power-floor", str(power_floor_w)
    )["analysis"]

    assert imported["minutes"] == pytest.approx(cli["riding_s"] / 60.0, abs=0.05)
    assert imported["balance_left_pct"] == pytest.approx(
        cli["balance_left_pct"], abs=0.05
    )
    # The soft-pedalled pause (62 % left) is not riding: 40 minutes near 50/50.
    assert imported["minutes"] <= 40.0
    assert imported["balance_left_pct"] == pytest.approx(50.0, abs=0.5)


async def test_indoor_vs_outdoor_matches_cli_compare(
    hass: HomeAssistant, loaded: MockConfigEntry, tmp_path: Path
) -> None:
    """The sensor's bands and verdicts are those of ``ridebalance compare``."""
    indoor = _paused_ride_fit(tmp_path / "trainer.fit", Rider(), seed=3)
    outdoor = _paused_ride_fit(
        tmp_path / "road.fit",
        Rider(left_below_pct=50.0, left_above_pct=53.0, split_w=200.0),
        seed=4,
    )
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    await _import(hass, indoor, "indoor")
    await _import(hass, outdoor, "outdoor")
    await hass.async_block_till_done()

    state = hass.states.get("sensor.simulated_rider_indoor_vs_outdoor")
    assert state is not None
    ha_rows = {row["band"]: row for row in state.attributes["bands"]}
    cli = _cli_json(
        "compare", "--indoor", str(indoor), "--outdoor", str(outdoor), "--json"
    )
    cli_rows = {
        row["band"]: row for row in cli["bands"] if row["difference_pts"] is not None
    }
    assert set(ha_rows) == set(cli_rows) == {"150-200 W", "200-250 W"}
    for band, row in cli_rows.items():
        for key in ("indoor_left_pct", "outdoor_left_pct", "difference_pts"):
            assert ha_rows[band][key] == pytest.approx(row[key], abs=0.05)
        assert ha_rows[band]["exceeds_noise"] is row["exceeds_noise"]
    # The road's lean above 200 W is found, the equal band below is not.
    assert cli_rows["200-250 W"]["exceeds_noise"] is True
    assert cli_rows["150-200 W"]["exceeds_noise"] is False


async def test_import_skips_a_ride_with_balance_but_no_power(
    hass: HomeAssistant, loaded: MockConfigEntry, tmp_path: Path
) -> None:
    """Balance without power cannot be weighted: the file is named and skipped."""
    t = np.arange(600.0)
    path = tmp_path / "no-power.fit"
    write_fit(
        path,
        Ride.from_columns(
            t, left_pct=np.full(t.size, 50.0), cadence_rpm=np.full(t.size, 90.0)
        ),
    )
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    response = await import_rides(hass, path, context="indoor")
    assert response["imported"] == []
    assert response["skipped"] == [
        {
            "file": "no-power.fit",
            "reason": "no-power.fit: the ride has no power readings",
        }
    ]


async def test_delete_session_without_the_recorder(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    shared_fit: Path,
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A minimal install (no recorder): imported rides are sessions, deletable."""
    for name in ("edge810-vector-pedals.fit", "edge530-powertap-p1-pedals.fit"):
        shutil.copy(shared_fit / name, tmp_path / name)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    await hass.services.async_call(
        DOMAIN,
        "import_rides",
        {"paths": [str(tmp_path)], "context": "outdoor"},
        blocking=True,
    )
    await _ride(hass, freezer, 2)
    state = hass.states.get("sensor.simulated_rider_last_session_balance")
    assert state is not None
    newest, oldest = state.attributes["sessions"]
    assert newest["start"] > oldest["start"]
    await hass.services.async_call(
        DOMAIN, "delete_session", {"started": oldest["start"]}, blocking=True
    )
    await _ride(hass, freezer, 2)
    assert loaded.runtime_data.baseline("outdoor").sessions == 1
    state = hass.states.get("sensor.simulated_rider_last_session_balance")
    assert state is not None
    assert state.attributes["sessions"] == [newest]

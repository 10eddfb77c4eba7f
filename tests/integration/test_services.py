"""Actions: import rides into baselines, export a session, sessions by hand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.ridebalance.const import DOMAIN
from custom_components.ridebalance.rides import read_ride
from custom_components.ridebalance.rides.csv_writer import write_csv
from custom_components.ridebalance.sim import Rider, RideScript, Segment, generate


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
    hass: HomeAssistant, sim_entry: MockConfigEntry, tmp_path: Path
) -> MockConfigEntry:
    """The simulator entry, set up, with a config folder of its own for exports."""
    hass.config.config_dir = str(tmp_path / "config")
    sim_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(sim_entry.entry_id)
    await hass.async_block_till_done()
    return sim_entry


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

    response = _json(
        await hass.services.async_call(
            DOMAIN,
            "import_rides",
            {"paths": [str(folder)], "context": "outdoor"},
            blocking=True,
            return_response=True,
        )
    )
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
    assert coordinator.baselines.get("outdoor").sessions == 1
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
    coordinator = loaded.runtime_data
    live = coordinator.tracker.live()
    assert live is not None
    response = _json(
        await hass.services.async_call(
            DOMAIN, "export_session", {}, blocking=True, return_response=True
        )
    )
    path = Path(str(response["path"]))
    assert path.is_relative_to(hass.config.path("ridebalance"))
    ride = await hass.async_add_executor_job(read_ride, path)
    assert ride.balance_side == "right"
    assert ride.duration_s == pytest.approx(live.elapsed_s, abs=5)
    import numpy as np

    power = ride.power_w[np.isfinite(ride.power_w)]
    assert float(power.mean()) == pytest.approx(live.avg_power_w, rel=0.05)


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
    assert coordinator.baselines.get("indoor").sessions == 1

    await hass.services.async_call(DOMAIN, "reset_baseline", {}, blocking=True)
    assert coordinator.baselines.get("indoor").sessions == 0
    await hass.services.async_call(DOMAIN, "start_session", {}, blocking=True)
    assert coordinator.tracker.active


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

    auto = _json(
        await hass.services.async_call(
            DOMAIN,
            "import_rides",
            {"paths": [str(ride)]},
            blocking=True,
            return_response=True,
        )
    )
    assert auto["imported"] == []
    assert "context indoor or outdoor" in auto["skipped"][0]["reason"]

    indoor = _json(
        await hass.services.async_call(
            DOMAIN,
            "import_rides",
            {"paths": [str(ride)], "context": "indoor"},
            blocking=True,
            return_response=True,
        )
    )
    assert indoor["imported"][0]["balance_left_pct"] == pytest.approx(53.0, abs=0.5)
    baseline = loaded.runtime_data.baselines.get("indoor")
    assert baseline.sessions == 1
    assert baseline.expected_left_pct(200) > 51


async def test_export_after_the_session_uses_its_start(
    hass: HomeAssistant, loaded: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The last session, once ended, is exported under its own start time."""
    await _ride(hass, freezer, 12)
    await hass.services.async_call(DOMAIN, "stop_session", {}, blocking=True)
    started = dt_util.parse_datetime(loaded.runtime_data.sessions[-1].started)
    assert started is not None
    response = _json(
        await hass.services.async_call(
            DOMAIN, "export_session", {}, blocking=True, return_response=True
        )
    )
    stamp = dt_util.as_local(started).strftime("%Y%m%d-%H%M%S")
    assert Path(str(response["path"])).name == f"session-{stamp}.fit"

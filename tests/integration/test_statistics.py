"""Sessions in long-term statistics, with Home Assistant's real recorder.

Real outdoor rides from ../shared/fit are imported through the action, a live
session is ridden by the simulator; the rows are read back from the recorder's
database the way a statistics-graph card asks for them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
import re
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.core import Recorder
from homeassistant.components.recorder.statistics import (
    StatisticsRow,
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ridebalance.const import DOMAIN
from custom_components.ridebalance.statistics import band_key, statistic_id
from tests.integration.frontend_view import cards, frontend_view, run_strategy

from .helpers import import_rides

RIDES = ("edge810-vector-pedals.fit", "edge530-powertap-p1-pedals.fit")
ENTRY = "sim_entry_id"
OUTDOOR_LEFT = statistic_id(ENTRY, "outdoor", "left_share")
INDOOR_LEFT = statistic_id(ENTRY, "indoor", "left_share")
SESSIONS = "sensor.simulated_rider_last_session_balance"


@pytest.fixture(autouse=True)
def _custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The real recorder (set up before Home Assistant), and this integration."""


async def _listed(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> list[Any]:
    """The sessions the dashboard lists, oldest first (once the sensor wrote)."""
    freezer.tick(timedelta(seconds=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    sessions = hass.states.get(SESSIONS)
    assert sessions is not None
    return sorted(sessions.attributes["sessions"], key=lambda s: s["start"])


async def _import(
    hass: HomeAssistant, shared_fit: Path, tmp_path: Path
) -> dict[str, Any]:
    for name in RIDES:
        shutil.copy(shared_fit / name, tmp_path / name)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    response = await import_rides(hass, tmp_path, context="outdoor")
    if "recorder" in hass.config.components:
        await async_wait_recording_done(hass)
    return dict(response)


async def _rows(hass: HomeAssistant, *ids: str) -> dict[str, list[StatisticsRow]]:
    def read() -> dict[str, list[StatisticsRow]]:
        return statistics_during_period(
            hass,
            datetime(2000, 1, 1, tzinfo=dt_util.UTC),
            None,
            set(ids),
            "hour",
            None,
            {"mean", "min", "max"},
        )

    return await hass.async_add_executor_job(read)


async def _ids(hass: HomeAssistant) -> dict[str, dict[str, Any]]:
    found = await hass.async_add_executor_job(list_statistic_ids, hass)
    return {m["statistic_id"]: m for m in found if m["source"] == DOMAIN}


def _hour(start: str) -> float:
    when = dt_util.parse_datetime(start)
    assert when is not None
    return when.replace(minute=0, second=0, microsecond=0).timestamp()


async def test_imported_rides_are_trends_at_their_own_dates(
    hass: HomeAssistant,
    rider: MockConfigEntry,
    shared_fit: Path,
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Each ride is one outdoor row at the hour it was ridden, years ago."""
    await _import(hass, shared_fit, tmp_path)
    listed = await _listed(hass, freezer)
    assert [s["context"] for s in listed] == ["outdoor", "outdoor"]
    rows = (await _rows(hass, OUTDOOR_LEFT))[OUTDOOR_LEFT]
    assert [r["start"] for r in rows] == [_hour(s["start"]) for s in listed]
    assert [s["start"][:4] for s in listed] == ["2013", "2020"]
    for row, session in zip(rows, listed, strict=True):
        assert row["mean"] == pytest.approx(session["balance_left_pct"], abs=0.06)

    ids = await _ids(hass)
    assert ids[OUTDOOR_LEFT]["statistics_unit_of_measurement"] == "%"
    assert ids[OUTDOOR_LEFT]["name"] == "Simulated rider outdoor left share"
    bands = [i for i in ids if i.startswith(f"{OUTDOOR_LEFT}_")]
    assert len(bands) >= 3, ids
    assert statistic_id(ENTRY, "outdoor", f"left_share_{band_key('150-200 W')}") in ids
    assert not any("_indoor_" in i for i in ids)


async def test_a_live_session_is_an_indoor_row_when_it_ends(
    hass: HomeAssistant,
    rider: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The simulated ride, stopped after twelve minutes, is this hour's row."""
    for _ in range(12):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    await hass.services.async_call(DOMAIN, "stop_session", {}, blocking=True)
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    (session,) = await _listed(hass, freezer)
    (row,) = (await _rows(hass, INDOOR_LEFT))[INDOOR_LEFT]
    assert row["start"] == _hour(session["start"])
    assert row["mean"] == pytest.approx(session["balance_left_pct"], abs=0.06)
    assert OUTDOOR_LEFT not in await _ids(hass)


async def test_deleting_a_session_takes_it_out_of_trends_and_baseline(
    hass: HomeAssistant,
    rider: MockConfigEntry,
    shared_fit: Path,
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The 2013 ride is deleted: its row goes, the 2020 ride alone is learnt."""
    await _import(hass, shared_fit, tmp_path)
    coordinator = rider.runtime_data
    assert coordinator.baseline("outdoor").sessions == 2
    old, kept = await _listed(hass, freezer)

    response = await hass.services.async_call(
        DOMAIN,
        "delete_session",
        {"started": old["start"]},
        blocking=True,
        return_response=True,
    )
    assert response == {"deleted": old}
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    rows = (await _rows(hass, OUTDOOR_LEFT))[OUTDOOR_LEFT]
    assert [r["start"] for r in rows] == [_hour(kept["start"])]
    assert coordinator.baseline("outdoor").sessions == 1
    assert await _listed(hass, freezer) == [kept]

    with pytest.raises(ServiceValidationError, match="No session started at"):
        await hass.services.async_call(
            DOMAIN, "delete_session", {"started": old["start"]}, blocking=True
        )


async def test_a_reset_baseline_stays_reset_when_a_session_is_deleted(
    hass: HomeAssistant,
    rider: MockConfigEntry,
    shared_fit: Path,
    tmp_path: Path,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Sessions forgotten by a reset are not learnt again by a later deletion."""
    await _import(hass, shared_fit, tmp_path)
    coordinator = rider.runtime_data
    await hass.services.async_call(
        DOMAIN, "reset_baseline", {"context": "outdoor"}, blocking=True
    )
    assert coordinator.baseline("outdoor").sessions == 0
    first = (await _listed(hass, freezer))[0]
    await hass.services.async_call(
        DOMAIN, "delete_session", {"started": first["start"]}, blocking=True
    )
    assert coordinator.baseline("outdoor").sessions == 0
    # The trends keep the remaining ride: a reset forgets the baseline, not rides.
    await async_wait_recording_done(hass)
    assert len((await _rows(hass, OUTDOOR_LEFT))[OUTDOOR_LEFT]) == 1


async def test_the_trends_view_graphs_every_series(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    rider: MockConfigEntry,
    shared_fit: Path,
    tmp_path: Path,
) -> None:
    """The strategy's trends view graphs the rider's series, bands in order."""
    await _import(hass, shared_fit, tmp_path)
    out = run_strategy(await frontend_view(hass, hass_ws_client), {})
    trends = out["dashboard"]["views"][1]
    assert trends["title"] == "Trends"
    graphs = {c["title"]: c for c in cards(trends) if c["type"] == "statistics-graph"}
    overall = graphs["Left share per session, indoor and outdoor"]
    assert overall["entities"] == [{"entity": OUTDOOR_LEFT, "name": "Outdoor"}]
    bands = [e["name"] for e in graphs["Outdoor left share per power band"]["entities"]]
    watts = [float(re.findall(r"\d+", name)[0]) for name in bands]
    assert bands[0].startswith("<")
    assert watts == sorted(watts)
    assert "Indoor left share per power band" not in graphs
    shown = {e["entity"] for g in graphs.values() for e in g["entities"]}
    assert shown == set(await _ids(hass))


async def test_stored_sessions_reach_the_trends_when_the_rider_starts(
    hass: HomeAssistant,
    rider: MockConfigEntry,
    shared_fit: Path,
    tmp_path: Path,
) -> None:
    """Sessions kept before the statistics were (here: cleared) come back."""
    await _import(hass, shared_fit, tmp_path)
    await hass.config_entries.async_unload(rider.entry_id)
    get_instance(hass).async_clear_statistics(sorted(await _ids(hass)))
    await async_wait_recording_done(hass)
    assert await _ids(hass) == {}

    assert await hass.config_entries.async_setup(rider.entry_id)
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    assert len((await _rows(hass, OUTDOOR_LEFT))[OUTDOOR_LEFT]) == 2

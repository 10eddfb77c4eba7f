"""What is kept of a rider between restarts, in Home Assistant's real Store."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
import json
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from custom_components.ridebalance.analysis import (
    AnalysisSettings,
    Baselines,
    StreamingAnalyzer,
)
from custom_components.ridebalance.analysis.session import RiderSettings
from custom_components.ridebalance.model import Sample
from custom_components.ridebalance.sim import demo_ride, generate
from custom_components.ridebalance.store import (
    RECENT_SESSIONS,
    STORAGE_VERSION,
    RiderData,
    RiderStore,
    RunningSession,
    SessionRecord,
    columns_to_samples,
    samples_to_columns,
    storage_key,
)

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


def test_a_reading_without_time_is_refused() -> None:
    """A damaged column is said, never turned into a reading at some other time."""
    with pytest.raises(ValueError, match="reading 1 has no time"):
        columns_to_samples({"t_s": [0.0, None], "power_w": [200.0, 210.0]})


async def test_a_rider_comes_back_whole(
    hass: HomeAssistant, ride: list[Sample], hass_storage: dict[str, Any]
) -> None:
    """Settings, baselines, sessions and the running session, as they were."""
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
    )
    await RiderStore(hass, ENTRY_ID).async_save(rider)
    assert storage_key(ENTRY_ID) in hass_storage

    back = await RiderStore(hass, ENTRY_ID).async_load()
    assert back.settings == rider.settings
    assert back.baselines.to_dict() == baselines.to_dict()
    assert [s.to_dict() for s in back.sessions] == [record.to_dict()]
    assert back.running == rider.running


async def test_a_new_rider_starts_from_the_defaults(hass: HomeAssistant) -> None:
    """Nothing stored yet: the default settings and an empty baseline."""
    rider = await RiderStore(hass, ENTRY_ID).async_load()
    assert rider == RiderData(baselines=rider.baselines)
    assert rider.baselines.to_dict() == Baselines().to_dict()


async def test_only_the_latest_sessions_are_kept(
    hass: HomeAssistant, ride: list[Sample]
) -> None:
    """A year of rides does not grow the file: the last twenty stay."""
    record = _record(ride[:1200], "2026-11-01T07:00:00+00:00")
    starts = [f"2026-11-{day:02d}T07:00:00+00:00" for day in range(1, 26)]
    sessions = tuple(replace(record, started=s) for s in starts)
    await RiderStore(hass, ENTRY_ID).async_save(RiderData(sessions=sessions))
    back = await RiderStore(hass, ENTRY_ID).async_load()
    assert [s.started for s in back.sessions] == starts[-RECENT_SESSIONS:]


async def test_an_unusable_baseline_starts_afresh_and_keeps_the_rest(
    hass: HomeAssistant,
    ride: list[Sample],
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A baseline from a newer version is not guessed at; the settings stay."""
    record = _record(ride[:1200], "2026-11-30T18:00:00+00:00")
    hass_storage[storage_key(ENTRY_ID)] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "key": storage_key(ENTRY_ID),
        "data": {
            "settings": {"cadence_low_rpm": 70.0},
            "baselines": {"version": 99},
            "sessions": [record.to_dict()],
            "running": None,
        },
    }
    with caplog.at_level(logging.WARNING):
        rider = await RiderStore(hass, ENTRY_ID).async_load()
    assert "Stored baseline not usable (unknown baselines version 99)" in caplog.text
    assert rider.baselines.to_dict() == Baselines().to_dict()
    assert rider.settings == RiderSettings(AnalysisSettings(cadence_low_rpm=70.0))
    assert [s.started for s in rider.sessions] == [record.started]
    assert rider.running is None


async def test_a_running_session_without_readings_is_not_resumed(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Stopped before the first reading was kept: nothing to resume."""
    now = dt_util.utcnow().isoformat()
    hass_storage[storage_key(ENTRY_ID)] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "key": storage_key(ENTRY_ID),
        "data": {
            "settings": {},
            "baselines": Baselines().to_dict(),
            "sessions": [],
            "running": {"started": now, "saved": now, "columns": {"t_s": []}},
        },
    }
    rider = await RiderStore(hass, ENTRY_ID).async_load()
    assert rider.running is None

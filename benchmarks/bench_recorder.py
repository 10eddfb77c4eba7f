"""Recorder load of a riding hour: state writes per minute and database growth.

Run: ``.venv/bin/python -m pytest benchmarks/bench_recorder.py -s -p no:logging``
(about a minute; ``BENCH_RIDE_MIN=10`` plays a shorter ride and scales it up;
``BENCH_PUBLISH_S=5`` tries another publication interval than the shipped one).

It runs as a pytest module because the recorder test fixtures of
pytest-homeassistant-custom-component (``recorder_mock`` on a file database,
``persistent_database``) set up a real recorder, SQLite file and all, in front of
a test Home Assistant; they need pytest's fixture machinery. The normal test run
does not collect it (``testpaths = ["tests"]``) and it asserts nothing about time
or size: it prints.

The simulated rider plays at 1x speed on a fast-forwarded clock: one second of
clock is one second of ride, so the coordinator publishes as often as in a real
session (at most once a second) and the figures are those of a real riding hour.
Short-term statistics are compiled every five minutes as in a real installation.

Reference, in the same database and process: one ordinary sensor whose number
changes every second for ten minutes, the worst case of a chatty integration.
The ride's growth is also given as "equivalent 1 Hz sensors".
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
import logging
import os
from pathlib import Path
import sqlite3
import time
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.core import Recorder
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.ridebalance.const import (
    CONF_SOURCE,
    CONF_SPEED,
    DOMAIN,
    PUBLISH_INTERVAL,
    SourceKind,
)

RIDE_MIN = int(os.environ.get("BENCH_RIDE_MIN", "60"))
PUBLISH_S = os.environ.get("BENCH_PUBLISH_S")
REFERENCE_S = 600
TARGET_MB_PER_HOUR = 1.0


@pytest.fixture
def persistent_database() -> bool:
    """A database file on disk, so its size can be measured."""
    return True


@pytest.fixture
def enable_statistics() -> bool:
    """Compile statistics as a real installation does."""
    return True


def _db_path(url: str) -> Path:
    assert url.startswith("sqlite:///"), url
    return Path(url.removeprefix("sqlite:///"))


def _used_bytes(path: Path) -> int:
    """Bytes of the database in use (WAL included, free pages not)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


def _rows(path: Path) -> dict[str, int]:
    tables = (
        "states",
        "state_attributes",
        "states_meta",
        "events",
        "event_data",
        "statistics_short_term",
        "statistics",
    )
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return {
            t: int(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
            for t in tables
        }


async def _advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int
) -> None:
    for second in range(seconds):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        if second % 60 == 59:
            await async_wait_recording_done(hass)
    await async_wait_recording_done(hass)


async def test_recorder_load_of_a_riding_hour(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    recorder_db_url: str,
    enable_custom_integrations: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Print state writes per minute and database growth per riding hour."""
    # The test recorder echoes every SQL statement, up to its teardown; the
    # figures are what matter here.
    logging.disable(logging.INFO)
    path = _db_path(recorder_db_url)
    await async_wait_recording_done(hass)

    # Reference: one plain sensor changing every second.
    start = _used_bytes(path)
    for second in range(REFERENCE_S):
        hass.states.async_set(
            "sensor.reference_power",
            str(150 + second % 97),
            {"unit_of_measurement": "W", "state_class": "measurement"},
        )
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    ref_bytes_per_hour = (_used_bytes(path) - start) * 3600 / REFERENCE_S
    hass.states.async_remove("sensor.reference_power")

    # The ride.
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Simulated rider",
        unique_id=SourceKind.SIMULATOR.value,
        data={CONF_SOURCE: SourceKind.SIMULATOR.value},
        options={CONF_SPEED: 1.0},
    )
    entry.add_to_hass(hass)
    writes: Counter[str] = Counter()
    clock = {"s": 0}
    per_minute: Counter[int] = Counter()

    @callback
    def _count(event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        if entity_id.startswith("sensor.reference"):
            return
        writes[entity_id] += 1
        per_minute[clock["s"] // 60] += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, _count)
    interval = (
        PUBLISH_INTERVAL if PUBLISH_S is None else timedelta(seconds=float(PUBLISH_S))
    )
    with patch("custom_components.ridebalance.coordinator.PUBLISH_INTERVAL", interval):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    writes.clear()
    per_minute.clear()
    rows_before = _rows(path)
    before = _used_bytes(path)
    cpu = time.process_time()
    for _minute in range(RIDE_MIN):
        await _advance(hass, freezer, 60)
        clock["s"] += 60
    cpu = time.process_time() - cpu
    grown = _used_bytes(path) - before
    rows_after = _rows(path)
    scale = 60.0 / RIDE_MIN
    per_hour = grown * scale
    total = sum(writes.values())
    by_entity = writes.most_common()
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    minutes = sorted(per_minute.values())
    print()
    print(
        f"Riding {RIDE_MIN} min at 1x on a fast-forwarded clock ({cpu:.1f} s of CPU),"
        f" publishing every {interval.total_seconds():g} s"
    )
    print(
        f"state_changed per minute: {total / RIDE_MIN:.1f} on average, "
        f"median {minutes[len(minutes) // 2]}, max {minutes[-1]} "
        f"(<= {60 / interval.total_seconds():g} per entity)"
    )
    print("per entity (entities that changed): writes in the ride, per minute")
    for entity_id, count in by_entity:
        print(f"  {count:6d} {count / RIDE_MIN:6.2f}  {entity_id}")
    print("rows added per riding hour:")
    for table, n in rows_after.items():
        print(f"  {(n - rows_before[table]) * scale:8.0f}  {table}")
    print(
        f"database growth: {per_hour / 1e6:.2f} MB per riding hour "
        f"(target <= {TARGET_MB_PER_HOUR:.1f} MB: "
        f"{'met' if per_hour <= TARGET_MB_PER_HOUR * 1e6 else 'NOT met'})"
    )
    print(
        f"reference, one sensor changing every second: "
        f"{ref_bytes_per_hour / 1e6:.2f} MB per hour; the ride is "
        f"{per_hour / ref_bytes_per_hour:.1f} such sensors"
    )

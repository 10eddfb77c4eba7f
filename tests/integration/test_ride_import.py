"""The import action: every file checked by its real path, each ride learnt once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import os
from pathlib import Path
import shutil
import threading
from typing import Any
from unittest.mock import patch

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ridebalance.const import DOMAIN
from custom_components.ridebalance.rides import Ride
from custom_components.ridebalance.rides.files import MAX_FILE_BYTES
from custom_components.ridebalance.rides.fit_writer import encode_fit
from tests.rides.fit_files import triathlon

from .helpers import import_rides

START = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


def _ride_fit(minutes: float, *, left: float = 48.0, start: datetime = START) -> bytes:
    """An indoor ride with power and a sided balance, as a FIT file."""
    n = int(minutes * 60)
    rng = np.random.default_rng(n)
    t = np.arange(n, dtype=float)
    ride = Ride.from_columns(
        t,
        power_w=np.round(200 + 25 * np.sin(t / 90) + rng.normal(0, 8, n)),
        left_pct=np.round(left + rng.normal(0, 1.5, n)),
        cadence_rpm=np.round(88 + rng.normal(0, 2, n)),
        indoor=True,
    )
    return encode_fit(ride, start_time=start)


def _skipped(response: dict[str, Any]) -> dict[str, str]:
    return {s["file"]: s["reason"] for s in response["skipped"]}


def _notification(hass: HomeAssistant) -> str:
    notes = persistent_notification._async_get_or_create_notifications(hass)
    return str(notes[f"{DOMAIN}_import"]["message"])


async def test_links_out_of_the_allowed_folder_are_not_followed(
    hass: HomeAssistant, rider: MockConfigEntry, tmp_path: Path
) -> None:
    """A link inside the folder to a secret outside it: refused, never echoed."""
    allowed, outside = tmp_path / "rides", tmp_path / "private"
    allowed.mkdir()
    outside.mkdir()
    secret = outside / "token.csv"
    secret.write_text("time_s,power_w\nSECRET-TOKEN-1234,1\n")
    (allowed / "ride.csv").symlink_to(secret)
    (allowed / "passwd.fit").symlink_to("/etc/passwd")
    (allowed / "good.fit").write_bytes(_ride_fit(20))
    hass.config.allowlist_external_dirs = {str(allowed)}

    response = await import_rides(hass, allowed, context="indoor")

    assert [r["file"] for r in response["imported"]] == ["good.fit"]
    skipped = _skipped(response)
    assert "outside the allowed folders" in skipped["ride.csv"]
    assert "outside the allowed folders" in skipped["passwd.fit"]
    for text in (str(response), _notification(hass)):
        assert "SECRET" not in text
        assert "root" not in text
    # Named directly, the link is refused before anything is read.
    with pytest.raises(ServiceValidationError) as err:
        await import_rides(hass, allowed / "ride.csv")
    assert err.value.translation_key == "path_not_allowed"


async def test_a_fifo_and_a_device_are_refused_without_reading(
    hass: HomeAssistant, rider: MockConfigEntry, tmp_path: Path
) -> None:
    """A FIFO named ride.fit does not block; a link to /dev/zero is not read;
    a link to nothing is named."""
    os.mkfifo(tmp_path / "ride.fit")
    (tmp_path / "zero.fit").symlink_to("/dev/zero")
    hass.config.allowlist_external_dirs = {str(tmp_path), "/dev"}

    (tmp_path / "gone.fit").symlink_to(tmp_path / "deleted.fit")

    response = await import_rides(hass, tmp_path, context="indoor")

    assert response["imported"] == []
    skipped = _skipped(response)
    assert skipped["ride.fit"] == "not a regular file (a folder, FIFO or device)"
    assert skipped["zero.fit"] == "not a regular file (a folder, FIFO or device)"
    assert skipped["gone.fit"] == "the file or the link's target does not exist"


async def test_a_file_over_the_size_cap_is_refused(
    hass: HomeAssistant, rider: MockConfigEntry, tmp_path: Path
) -> None:
    big = tmp_path / "huge.fit"
    with big.open("wb") as handle:  # sparse: no disk is used
        handle.truncate(MAX_FILE_BYTES + 1)
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    response = await import_rides(hass, big, context="indoor")
    assert _skipped(response) == {
        "huge.fit": "67 MB; ride files over 64 MB are not read"
    }


async def test_a_truncated_file_is_refused_unless_the_rider_keeps_it(
    hass: HomeAssistant, rider: MockConfigEntry, tmp_path: Path
) -> None:
    """Damaged bytes and the last byte cut: never learnt silently."""
    ride_bytes = _ride_fit(30)
    damaged = bytearray(ride_bytes)
    for i in range(200, len(damaged) - 200, 7):
        damaged[i] ^= 0x40
    cut = tmp_path / "cut.fit"
    cut.write_bytes(bytes(damaged[:-1]))
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    coordinator = rider.runtime_data

    refused = await import_rides(hass, cut, context="indoor")
    assert refused["imported"] == []
    reason = _skipped(refused)["cut.fit"]
    assert "truncated" in reason
    assert "keep_truncated" in reason
    assert coordinator.baseline("indoor").sessions == 0

    whole = tmp_path / "whole.fit"
    whole.write_bytes(ride_bytes[:-1])
    kept = await import_rides(hass, whole, context="indoor", keep_truncated=True)
    (ride,) = kept["imported"]
    assert ride["truncated"] is True
    assert ride["notes"] == [
        "truncated: kept what it holds (the records before the cut)"
    ]
    assert "truncated" in _notification(hass)
    assert coordinator.baseline("indoor").sessions == 1


async def test_a_short_fragment_is_reported_not_learnt(
    hass: HomeAssistant, rider: MockConfigEntry, tmp_path: Path
) -> None:
    (tmp_path / "fragment.fit").write_bytes(_ride_fit(0.2))
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    response = await import_rides(hass, tmp_path / "fragment.fit", context="indoor")
    assert response["imported"] == []
    assert "at least 5 min" in _skipped(response)["fragment.fit"]
    assert rider.runtime_data.baseline("indoor").sessions == 0


async def test_a_ride_is_learnt_once(
    hass: HomeAssistant, rider: MockConfigEntry, tmp_path: Path
) -> None:
    """Imported again, or a copy under another name: already imported."""
    (tmp_path / "monday.fit").write_bytes(_ride_fit(20))
    shutil.copy(tmp_path / "monday.fit", tmp_path / "monday-copy.fit")
    (tmp_path / "tuesday.fit").write_bytes(
        _ride_fit(20, start=START + timedelta(days=1))
    )
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    coordinator = rider.runtime_data

    first = await import_rides(hass, tmp_path / "monday.fit", context="indoor")
    assert [r["file"] for r in first["imported"]] == ["monday.fit"]
    again = await import_rides(hass, tmp_path, context="indoor")
    assert [r["file"] for r in again["imported"]] == ["tuesday.fit"]
    assert _skipped(again) == {
        "monday-copy.fit": "already imported",
        "monday.fit": "already imported",
    }
    assert coordinator.baseline("indoor").sessions == 2

    # Remembered across a restart.
    assert await hass.config_entries.async_reload(rider.entry_id)
    await hass.async_block_till_done()
    after = await import_rides(hass, tmp_path / "tuesday.fit", context="indoor")
    assert _skipped(after) == {"tuesday.fit": "already imported"}
    assert rider.runtime_data.baseline("indoor").sessions == 2


async def test_a_triathlon_teaches_its_ride_and_names_the_rest(
    hass: HomeAssistant, rider: MockConfigEntry, tmp_path: Path
) -> None:
    (tmp_path / "tri.fit").write_bytes(triathlon())
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    response = await import_rides(hass, tmp_path / "tri.fit", context="indoor")
    assert [r["file"] for r in response["imported"]] == ["tri.fit"]
    assert [s["reason"] for s in response["skipped"]] == [
        "session 1: a swimming activity, not a ride",
        "session 3: a running activity, not a ride",
    ]


async def test_the_rider_is_read_in_the_event_loop_only(
    hass: HomeAssistant, rider: MockConfigEntry, tmp_path: Path
) -> None:
    """The files are analysed in a worker thread against copies of the rider's
    baselines: the event loop may learn a session into them meanwhile."""
    (tmp_path / "monday.fit").write_bytes(_ride_fit(20))
    hass.config.allowlist_external_dirs = {str(tmp_path)}
    coordinator = rider.runtime_data
    threads: set[int] = set()

    def on_thread(name: str) -> Any:
        method = getattr(coordinator, name)

        def spy(*args: Any) -> Any:
            threads.add(threading.get_ident())
            return method(*args)

        return patch.object(coordinator, name, spy)

    with (
        on_thread("baseline"),
        on_thread("learnt_rides"),
        on_thread("analysis_settings"),
    ):
        response = await import_rides(hass, tmp_path, context="auto")

    assert [r["file"] for r in response["imported"]] == ["monday.fit"]
    assert threads == {threading.get_ident()}
    assert coordinator.baseline("indoor").sessions == 1


@pytest.mark.parametrize("context", ["auto", "indoor"])
async def test_an_indoor_import_adds_no_outdoor_baseline(
    hass: HomeAssistant, rider: MockConfigEntry, tmp_path: Path, context: str
) -> None:
    """Indoor rides teach the indoor baseline only: the rider gains no empty
    outdoor one (in the diagnostics download, nor in what is saved)."""
    (tmp_path / "monday.fit").write_bytes(_ride_fit(20))
    hass.config.allowlist_external_dirs = {str(tmp_path)}

    def contexts() -> set[str]:
        return set(rider.runtime_data.diagnostics()["baselines"]["contexts"])

    assert "outdoor" not in contexts()
    response = await import_rides(hass, tmp_path, context=context)

    assert [(r["file"], r["context"]) for r in response["imported"]] == [
        ("monday.fit", "indoor")
    ]
    assert contexts() == {"indoor"}
    # Nor after a restart, from what was saved.
    assert await hass.config_entries.async_reload(rider.entry_id)
    await hass.async_block_till_done()
    assert contexts() == {"indoor"}

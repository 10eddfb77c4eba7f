"""Rider options: the simulator's speed, and importing rides uploaded in the browser.

Files go through Home Assistant's real upload endpoint (``/api/file_upload``),
as the frontend's file picker sends them, and real rides from ../shared/fit.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path
import shutil
import tempfile
from typing import Any
import zipfile

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ridebalance.const import CONF_DYNAMICS, CONF_SPEED, DOMAIN
from custom_components.ridebalance.rides.fit_writer import encode_fit
from tests.rides import fit_files

VECTOR = "edge810-vector-pedals.fit"
RUN = "fenix5-run-not-cycling.fit"
TRUNCATED = "truncated-eof.fit"


@pytest.fixture(autouse=True)
def _own_upload_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploads wait in <tmp>/home-assistant-file_upload, which Home Assistant
    empties when it stops; this test's own <tmp> keeps other runs out of it."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()


async def _upload(hass_client: ClientSessionGenerator, name: str, data: bytes) -> str:
    client = await hass_client()
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name)
    response = await client.post("/api/file_upload", data=form)
    assert response.status == 200, await response.text()
    file_id: str = (await response.json())["file_id"]
    return file_id


async def _import_form(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "import_rides"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "import_rides"
    flow_id: str = result["flow_id"]
    return flow_id


async def _import(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    entry: MockConfigEntry,
    name: str,
    data: bytes,
    *,
    context: str = "outdoor",
    **choices: bool,
) -> dict[str, Any]:
    flow_id = await _import_form(hass, entry)
    file_id = await _upload(hass_client, name, data)
    result: dict[str, Any] = dict(
        await hass.config_entries.options.async_configure(
            flow_id, {"file": file_id, "context": context, **choices}
        )
    )
    return result


async def test_speed_is_changed_from_the_menu(
    hass: HomeAssistant, rider: MockConfigEntry
) -> None:
    """The simulator's speed can be changed later; the entry reloads with it."""
    result = await hass.config_entries.options.async_init(rider.entry_id)
    assert result["menu_options"] == ["settings", "import_rides"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SPEED: 5}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert rider.options[CONF_SPEED] == 5.0
    assert rider.runtime_data.source.diagnostics()["speed"] == 5.0
    assert rider.runtime_data.source.diagnostics()["cycling_dynamics"] is False


async def test_cycling_dynamics_are_switched_on_for_the_simulated_pedals(
    hass: HomeAssistant, rider: MockConfigEntry
) -> None:
    """Asked for, the simulated pedals send dynamics as a head unit would have them."""
    result = await hass.config_entries.options.async_init(rider.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SPEED: 60, CONF_DYNAMICS: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert rider.options[CONF_DYNAMICS] is True
    assert rider.runtime_data.source.diagnostics()["cycling_dynamics"] is True


async def test_an_uploaded_ride_is_learnt_and_reported(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
    shared_fit: Path,
) -> None:
    """A real outdoor ride teaches the outdoor baseline; the flow says so."""
    coordinator = rider.runtime_data
    before = coordinator.baseline("outdoor").sessions
    result = await _import(
        hass, hass_client, rider, VECTOR, (shared_fit / VECTOR).read_bytes()
    )
    assert result["step_id"] == "import_result"
    shown = result["description_placeholders"]["result"]
    assert shown.startswith("Imported 1 ride(s).")
    assert VECTOR in shown
    assert "outdoor" in shown
    assert coordinator.baseline("outdoor").sessions == before + 1
    assert coordinator.baseline("indoor").sessions == 0

    speed = rider.options[CONF_SPEED]
    done = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert done["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert rider.options == {CONF_SPEED: speed}
    # Finishing the import changes no option, so the rider keeps riding.
    assert rider.runtime_data is coordinator


async def test_a_garmin_export_zip_is_unpacked(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
    shared_fit: Path,
    tmp_path: Path,
) -> None:
    """Garmin Connect's "Export Original" .zip: the FIT inside is imported."""
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(shared_fit / VECTOR, "../../18327346155_ACTIVITY.fit")
    result = await _import(hass, hass_client, rider, "export.zip", archive.read_bytes())
    shown = result["description_placeholders"]["result"]
    assert shown.startswith("Imported 1 ride(s).")
    assert "18327346155_ACTIVITY.fit" in shown
    # Not written anywhere outside the unpacking folder, and that folder is gone.
    escaped = await hass.async_add_executor_job(
        lambda: list(tmp_path.rglob("*ACTIVITY.fit"))
    )
    assert escaped == []
    assert rider.runtime_data.baseline("outdoor").sessions == 1


async def test_a_run_is_skipped_with_the_reason(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
    shared_fit: Path,
) -> None:
    """A running activity is read but not learnt; the flow says why."""
    result = await _import(
        hass, hass_client, rider, RUN, (shared_fit / RUN).read_bytes()
    )
    shown = result["description_placeholders"]["result"]
    assert shown.startswith("Imported 0 ride(s).")
    assert f"- {RUN}: " in shown
    assert rider.runtime_data.baseline("outdoor").sessions == 0


async def test_a_truncated_upload_is_kept_only_when_asked(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
    shared_fit: Path,
) -> None:
    """A file that ends mid-record is refused with the way to keep it; asked
    to, the upload learns what it holds and says it was truncated."""
    data = (shared_fit / TRUNCATED).read_bytes()
    coordinator = rider.runtime_data
    refused = await _import(hass, hass_client, rider, TRUNCATED, data)
    shown = refused["description_placeholders"]["result"]
    assert shown.startswith("Imported 0 ride(s).")
    assert f"- {TRUNCATED}: " in shown
    assert "Keep truncated rides" in shown
    assert coordinator.baseline("outdoor").sessions == 0
    await hass.config_entries.options.async_configure(refused["flow_id"], {})

    # Kept, the file is read up to the cut: it turns out to be a run.
    kept = await _import(hass, hass_client, rider, TRUNCATED, data, keep_truncated=True)
    shown = kept["description_placeholders"]["result"]
    assert f"- {TRUNCATED}: {TRUNCATED} is a running activity, not a ride" in shown
    await hass.config_entries.options.async_configure(kept["flow_id"], {})

    # A ride whose head unit lost power before the last byte: learnt when kept.
    cut = encode_fit(fit_files.ride(1200))[:-1]
    refused = await _import(hass, hass_client, rider, "cut.fit", cut)
    assert "Keep truncated rides" in refused["description_placeholders"]["result"]
    await hass.config_entries.options.async_configure(refused["flow_id"], {})
    assert coordinator.baseline("outdoor").sessions == 0
    kept = await _import(hass, hass_client, rider, "cut.fit", cut, keep_truncated=True)
    shown = kept["description_placeholders"]["result"]
    assert shown.startswith("Imported 1 ride(s).\n- cut.fit: outdoor, 20 min")
    assert shown.endswith(
        "(truncated: kept what it holds (the records before the cut))"
    )
    assert coordinator.baseline("outdoor").sessions == 1


@pytest.mark.parametrize(
    "case",
    [
        ("notes.txt", b"not a ride", "not_a_ride"),
        ("export.zip", b"PK\x03\x04 damaged", "bad_zip"),
    ],
)
async def test_a_file_that_is_not_a_ride_is_refused_on_the_form(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
    case: tuple[str, bytes, str],
) -> None:
    """The form stays open with a specific error on the file field."""
    name, data, error = case
    result = await _import(hass, hass_client, rider, name, data)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"file": error}
    assert rider.runtime_data.baseline("outdoor").sessions == 0


async def test_a_zip_without_rides_is_refused(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """A .zip of something else names what is missing."""
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("photo.jpg", b"\xff\xd8")
    result = await _import(hass, hass_client, rider, "photos.zip", archive.read_bytes())
    assert result["errors"] == {"file": "zip_without_rides"}


async def test_a_zip_with_a_broken_stream_is_refused(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
    shared_fit: Path,
    tmp_path: Path,
) -> None:
    """A .zip whose compressed ride is damaged says so, and nothing is learnt."""
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.write(shared_fit / VECTOR, "ride.fit")
    data = bytearray(archive.read_bytes())
    # Scramble the middle of the deflate stream (the local header is 30 bytes
    # plus the name; the central directory at the end stays readable).
    start = 30 + len("ride.fit") + 200
    data[start : start + 400] = bytes(range(200)) * 2
    result = await _import(hass, hass_client, rider, "export.zip", bytes(data))
    assert result["errors"] == {"file": "bad_zip"}
    assert rider.runtime_data.baseline("outdoor").sessions == 0


async def test_a_zip_of_rides_over_64_mb_in_all_is_refused(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
    tmp_path: Path,
) -> None:
    """Two 40 MB members (each under the cap, 80 MB together) are not unpacked."""
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name in ("a.fit", "b.fit"):
            zipped.writestr(name, bytes(40 * 1024 * 1024))
    result = await _import(hass, hass_client, rider, "bomb.zip", archive.read_bytes())
    assert result["errors"] == {"file": "zip_too_big"}


def _zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "upload",
    [
        ("ride.fit", b"\x0e\x10"),
        ("ride.csv", b"time_s,power_w\n"),
        ("export.zip", _zipped("ride.fit", b"\x0e\x10")),
    ],
    ids=["fit", "csv", "zip"],
)
async def test_a_full_disk_is_a_clear_error_for_any_upload(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
    upload: tuple[str, bytes],
) -> None:
    """No room to copy a ride or unpack a .zip: the form says so, for each."""
    flow_id = await _import_form(hass, rider)
    file_id = await _upload(hass_client, *upload)

    def disk_full(*_args: Any, **_kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    # Every way an upload is written into the unpacking folder.
    monkeypatch.setattr(shutil, "copyfile", disk_full)
    monkeypatch.setattr(shutil, "copyfileobj", disk_full)
    result = await hass.config_entries.options.async_configure(
        flow_id, {"file": file_id, "context": "auto"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"file": "no_space"}


async def test_an_upload_that_is_gone_is_reported(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
) -> None:
    """A file id that no longer exists asks for the file again."""
    await _upload(hass_client, "warm-up.csv", b"")  # file_upload is running
    flow_id = await _import_form(hass, rider)
    result = await hass.config_entries.options.async_configure(
        flow_id, {"file": "0" * 32, "context": "auto"}
    )
    assert result["errors"] == {"file": "upload_missing"}


async def test_a_rider_that_is_not_running_cannot_import(
    hass: HomeAssistant,
) -> None:
    """An entry that is not loaded aborts with the reason."""
    entry = MockConfigEntry(
        domain=DOMAIN, title="Entities rider", data={"source": "entities"}
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"


async def test_an_upload_whose_file_was_cleaned_up_is_reported(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
) -> None:
    """The temporary upload folder emptied meanwhile: choose the file again."""
    flow_id = await _import_form(hass, rider)
    file_id = await _upload(hass_client, "ride.fit", b"\x0e\x10")
    folder = Path(tempfile.gettempdir()) / "home-assistant-file_upload" / file_id
    await hass.async_add_executor_job(shutil.rmtree, folder)
    result = await hass.config_entries.options.async_configure(
        flow_id, {"file": file_id, "context": "auto"}
    )
    assert result["errors"] == {"file": "upload_missing"}


async def test_the_same_ride_uploaded_twice_is_learnt_once(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    rider: MockConfigEntry,
    shared_fit: Path,
) -> None:
    """The second upload of a ride says "already imported" and teaches nothing."""
    data = (shared_fit / VECTOR).read_bytes()
    await _import(hass, hass_client, rider, VECTOR, data)
    coordinator = rider.runtime_data
    assert coordinator.baseline("outdoor").sessions == 1
    result = await _import(hass, hass_client, rider, VECTOR, data)
    shown = result["description_placeholders"]["result"]
    assert shown.startswith("Imported 0 ride(s).")
    assert f"- {VECTOR}: already imported" in shown
    assert coordinator.baseline("outdoor").sessions == 1

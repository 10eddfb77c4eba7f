"""Options of an existing rider: the simulator's speed, and importing rides.

"Import rides" takes a file uploaded in the browser (a FIT or CSV ride, or the
.zip Garmin Connect's "Export Original" gives) and imports it exactly as the
``ridebalance.import_rides`` action does, then shows what was learnt and what was
skipped and why.
"""

from __future__ import annotations

import errno
from pathlib import Path, PurePosixPath
import shutil
import tempfile
from typing import Any
import zipfile
import zlib

from homeassistant.components.file_upload import process_uploaded_file
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    FileSelector,
    FileSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio

from .const import (
    CONF_DYNAMICS,
    CONF_SOURCE,
    CONF_SPEED,
    DEFAULT_SIM_SPEED,
    MAX_SIM_SPEED,
    SourceKind,
)
from .coordinator import RideBalanceConfigEntry
from .ride_import import RIDE_SUFFIXES, ImportReport, async_import_rides

CONF_FILE = "file"
CONF_CONTEXT = "context"
CONF_KEEP_TRUNCATED = "keep_truncated"
SPEED_SELECTOR = NumberSelector(
    NumberSelectorConfig(min=1, max=MAX_SIM_SPEED, step=1, mode=NumberSelectorMode.BOX)
)
IMPORT_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_FILE): FileSelector(
            FileSelectorConfig(accept=".fit,.csv,.zip")
        ),
        probatio.Required(CONF_CONTEXT, default="auto"): SelectSelector(
            SelectSelectorConfig(
                options=["auto", "indoor", "outdoor"],
                mode=SelectSelectorMode.LIST,
                translation_key="import_context",
            )
        ),
        probatio.Optional(CONF_KEEP_TRUNCATED, default=False): BooleanSelector(),
    }
)
# A Garmin export holds one activity; an archive of more members, or of more
# unpacked bytes in all, is not a ride export.
MAX_MEMBERS = 50
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
# What zipfile raises for a damaged archive or stream, beyond BadZipFile: a broken
# deflate stream (zlib.error), a cut one (EOFError), a method it lacks
# (NotImplementedError), an encrypted member (RuntimeError).
_DAMAGED_ZIP = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    NotImplementedError,
    RuntimeError,
)


class UploadError(Exception):
    """The uploaded file is not something RideBalance can import."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _unpack(upload: Path, folder: Path) -> list[Path]:
    """The ride files of an upload, copied into ``folder``.

    A full disk is the same clear error whether a ride or a .zip was uploaded.
    """
    try:
        return _copy_rides(upload, folder)
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise UploadError("no_space") from err
        raise


def _copy_rides(upload: Path, folder: Path) -> list[Path]:
    """Copy a ride, or unpack a .zip's rides, into ``folder``."""
    suffix = upload.suffix.lower()
    if suffix in RIDE_SUFFIXES:
        target = folder / upload.name
        shutil.copyfile(upload, target)
        return [target]
    if suffix != ".zip":
        raise UploadError("not_a_ride")
    return _unzip(upload, folder)


def _unzip(upload: Path, folder: Path) -> list[Path]:
    """Write a .zip's ride members into ``folder``.

    They are written under their base names only, so no name in an archive can
    reach outside the folder.
    """
    try:
        with zipfile.ZipFile(upload) as archive:
            members = [
                m
                for m in archive.infolist()
                if not m.is_dir()
                and PurePosixPath(m.filename).suffix.lower() in RIDE_SUFFIXES
            ]
            if not members:
                raise UploadError("zip_without_rides")
            # The sizes bound what is written: zipfile stops a member at its
            # stated size (and a CRC mismatch is an error).
            if len(members) > MAX_MEMBERS or (
                sum(m.file_size for m in members) > MAX_UNPACKED_BYTES
            ):
                raise UploadError("zip_too_big")
            files = []
            for number, member in enumerate(members):
                name = PurePosixPath(member.filename).name
                target = folder / f"{number:02d}-{name}"
                with archive.open(member) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                files.append(target)
            return files
    except _DAMAGED_ZIP as err:
        raise UploadError("bad_zip") from err


def _receive(hass: HomeAssistant, file_id: str) -> tuple[Path, list[Path]]:
    """Take the upload out of Home Assistant's upload folder (executor).

    Returns a temporary folder (the caller removes it) and the rides in it.
    """
    folder = Path(tempfile.mkdtemp(prefix="ridebalance-import-"))
    try:
        with process_uploaded_file(hass, file_id) as upload:
            return folder, _unpack(upload, folder)
    except (ValueError, FileNotFoundError) as err:  # expired, used, or cleaned up
        shutil.rmtree(folder, ignore_errors=True)
        raise UploadError("upload_missing") from err
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


class RideBalanceOptionsFlow(OptionsFlowWithReload):
    """Change how an existing rider works, or import rides into its baseline."""

    config_entry: RideBalanceConfigEntry
    _report: ImportReport | None = None

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The simulator has a speed to set; every rider can import rides."""
        if self.config_entry.data.get(CONF_SOURCE) == SourceKind.SIMULATOR.value:
            return self.async_show_menu(
                step_id="init", menu_options=["settings", "import_rides"]
            )
        return await self.async_step_import_rides()

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Simulator speed (other sources have their settings as entities)."""
        if user_input is not None:
            return self.async_create_entry(
                data={
                    CONF_SPEED: float(user_input[CONF_SPEED]),
                    CONF_DYNAMICS: bool(user_input.get(CONF_DYNAMICS, False)),
                }
            )
        options = self.config_entry.options
        return self.async_show_form(
            step_id="settings",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {
                        probatio.Required(CONF_SPEED): SPEED_SELECTOR,
                        probatio.Optional(CONF_DYNAMICS): BooleanSelector(),
                    }
                ),
                {
                    CONF_SPEED: options.get(CONF_SPEED, DEFAULT_SIM_SPEED),
                    CONF_DYNAMICS: options.get(CONF_DYNAMICS, False),
                },
            ),
        )

    async def async_step_import_rides(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Upload a ride file (or a Garmin export .zip) and import it."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                self._report = await self._async_import(
                    user_input[CONF_FILE],
                    user_input[CONF_CONTEXT],
                    keep_truncated=bool(user_input.get(CONF_KEEP_TRUNCATED, False)),
                )
            except UploadError as err:
                errors[CONF_FILE] = err.reason
            else:
                return await self.async_step_import_result()
        return self.async_show_form(
            step_id="import_rides",
            data_schema=self.add_suggested_values_to_schema(
                IMPORT_SCHEMA, {CONF_CONTEXT: (user_input or {}).get(CONF_CONTEXT)}
            ),
            errors=errors,
        )

    async def _async_import(
        self, file_id: str, context: str, *, keep_truncated: bool
    ) -> ImportReport:
        hass = self.hass
        folder, files = await hass.async_add_executor_job(_receive, hass, file_id)
        try:
            return await async_import_rides(
                hass,
                self.config_entry.runtime_data,
                files,
                context,
                # Only what was unpacked from the upload, into this folder.
                allowed=lambda real: real.is_relative_to(folder.resolve()),
                keep_truncated=keep_truncated,
            )
        finally:
            await hass.async_add_executor_job(shutil.rmtree, folder, True)

    async def async_step_import_result(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What the import learnt and what it skipped, and why."""
        if user_input is not None or self._report is None:
            # The options stay as they are, so nothing reloads.
            return self.async_create_entry(data=dict(self.config_entry.options))
        return self.async_show_form(
            step_id="import_result",
            data_schema=probatio.Schema({}),
            description_placeholders={"result": self._report.message()},
        )

"""RideBalance actions: sessions, baseline, importing and exporting rides."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio

from .const import DOMAIN
from .coordinator import RideBalanceConfigEntry, RideCoordinator
from .model import Sample
from .ride_import import async_import_rides
from .rides import Ride
from .rides.fit_writer import encode_fit

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_CONTEXT = "context"
ATTR_PATHS = "paths"
ATTR_KEEP_TRUNCATED = "keep_truncated"

SERVICE_START_SESSION = "start_session"
SERVICE_STOP_SESSION = "stop_session"
SERVICE_RESET_BASELINE = "reset_baseline"
SERVICE_IMPORT_RIDES = "import_rides"
SERVICE_EXPORT_SESSION = "export_session"
SERVICE_DELETE_SESSION = "delete_session"
ATTR_STARTED = "started"

EXPORT_DIR = "ridebalance/exports"

_ENTRY = {probatio.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}
ENTRY_SCHEMA = probatio.Schema(_ENTRY)
DELETE_SCHEMA = probatio.Schema({**_ENTRY, probatio.Required(ATTR_STARTED): cv.string})
RESET_SCHEMA = probatio.Schema(
    {**_ENTRY, probatio.Optional(ATTR_CONTEXT): probatio.In(["indoor", "outdoor"])}
)
IMPORT_SCHEMA = probatio.Schema(
    {
        **_ENTRY,
        probatio.Required(ATTR_PATHS): probatio.All(cv.ensure_list, [cv.string]),
        probatio.Optional(ATTR_CONTEXT, default="auto"): probatio.In(
            ["auto", "indoor", "outdoor"]
        ),
        probatio.Optional(ATTR_KEEP_TRUNCATED, default=False): cv.boolean,
    }
)


def _coordinator(hass: HomeAssistant, call: ServiceCall) -> RideCoordinator:
    """The coordinator the call is for: named, or the only loaded one."""
    entry_id = call.data.get(ATTR_CONFIG_ENTRY_ID)
    entries: list[RideBalanceConfigEntry] = [
        e
        for e in hass.config_entries.async_entries(DOMAIN)
        if e.state is ConfigEntryState.LOADED
        and (entry_id is None or e.entry_id == entry_id)
    ]
    if entry_id is not None and not entries:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"entry_id": entry_id},
        )
    if len(entries) != 1:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_required" if entries else "no_rider",
        )
    return entries[0].runtime_data


def _check_paths(hass: HomeAssistant, paths: list[Path]) -> None:
    """Each given path exists and its real path (links followed) is allowed."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="path_missing",
            translation_placeholders={"path": ", ".join(missing)},
        )
    for path in paths:
        if not hass.config.is_allowed_path(str(path.resolve())):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="path_not_allowed",
                translation_placeholders={"path": str(path)},
            )


async def _import_rides(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(hass, call)
    paths = [Path(p) for p in call.data[ATTR_PATHS]]
    # Resolving paths touches the disk: off the event loop.
    await hass.async_add_executor_job(_check_paths, hass, paths)
    report = await async_import_rides(
        hass,
        coordinator,
        paths,
        call.data[ATTR_CONTEXT],
        allowed=lambda real: hass.config.is_allowed_path(str(real)),
        keep_truncated=call.data[ATTR_KEEP_TRUNCATED],
    )
    return report.as_response()


def _write_export(target: Path, samples: Sequence[Sample], start: datetime) -> None:
    data = encode_fit(Ride.from_samples(samples, indoor=True), start_time=start)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


async def _export_session(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(hass, call)
    session = coordinator.session_for_export()
    if session is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_session"
        )
    samples, start = session
    name = f"session-{dt_util.as_local(start).strftime('%Y%m%d-%H%M%S')}.fit"
    target = Path(hass.config.path(EXPORT_DIR, name))
    try:
        await hass.async_add_executor_job(_write_export, target, samples, start)
    except OSError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="export_failed",
            translation_placeholders={"path": str(target), "error": str(err)},
        ) from err
    return {"path": str(target), "samples": len(samples)}


async def _delete_session(hass: HomeAssistant, call: ServiceCall) -> ServiceResponse:
    coordinator = _coordinator(hass, call)
    started = call.data[ATTR_STARTED]
    try:
        record = coordinator.async_delete_session(started)
    except KeyError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="session_not_found",
            translation_placeholders={"started": started},
        ) from err
    return {"deleted": dict(asdict(record.card()))}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, for every entry)."""

    async def start(call: ServiceCall) -> None:
        _coordinator(hass, call).async_start_session()

    async def stop(call: ServiceCall) -> None:
        _coordinator(hass, call).async_stop_session()

    async def reset(call: ServiceCall) -> None:
        _coordinator(hass, call).async_reset_baseline(call.data.get(ATTR_CONTEXT))

    async def import_rides(call: ServiceCall) -> ServiceResponse:
        return await _import_rides(hass, call)

    async def delete_session(call: ServiceCall) -> ServiceResponse:
        return await _delete_session(hass, call)

    async def export_session(call: ServiceCall) -> ServiceResponse:
        return await _export_session(hass, call)

    hass.services.async_register(DOMAIN, SERVICE_START_SESSION, start, ENTRY_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_STOP_SESSION, stop, ENTRY_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_RESET_BASELINE, reset, RESET_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_IMPORT_RIDES,
        import_rides,
        IMPORT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_DELETE_SESSION,
        delete_session,
        DELETE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXPORT_SESSION,
        export_session,
        ENTRY_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )

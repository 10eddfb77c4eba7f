"""RideBalance: left/right pedal balance for indoor cycling."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_DYNAMICS,
    CONF_SEED,
    CONF_SOURCE,
    CONF_SPEED,
    DEFAULT_SIM_SPEED,
    DOMAIN,
    SourceKind,
)
from .coordinator import RideBalanceConfigEntry, RideCoordinator
from .frontend import async_register_frontend
from .registry import key_from_identifier
from .services import async_setup_services
from .sources import Source, SourceNotReadyError
from .sources.ant import AntSource, stick_issue_id
from .sources.entities import EntitiesSource
from .sources.gateway import GatewaySource, gateway_issue_id
from .sources.simulator import SimulatorSource
from .store import RiderStore, StoreTooNewError, damaged_issue_id, store_issue_id

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions and the dashboard; both exist before an entry loads."""
    async_setup_services(hass)
    await async_register_frontend(hass)
    return True


def _build_source(hass: HomeAssistant, entry: RideBalanceConfigEntry) -> Source:
    kind = SourceKind(entry.data[CONF_SOURCE])
    match kind:
        case SourceKind.SIMULATOR:
            return SimulatorSource(
                hass,
                speed=float(entry.options.get(CONF_SPEED, DEFAULT_SIM_SPEED)),
                seed=int(entry.data.get(CONF_SEED, 0)),
                dynamics=bool(entry.options.get(CONF_DYNAMICS, False)),
            )
        case SourceKind.ANT:
            return AntSource(hass, entry)
        case SourceKind.GATEWAY:
            return GatewaySource(hass, entry)
        case SourceKind.ENTITIES:
            return EntitiesSource(hass, entry.data)


async def async_setup_entry(hass: HomeAssistant, entry: RideBalanceConfigEntry) -> bool:
    """Set up RideBalance from a config entry."""
    coordinator = RideCoordinator(hass, entry, _build_source(hass, entry))
    ir.async_delete_issue(hass, DOMAIN, store_issue_id(entry.entry_id))
    try:
        await coordinator.async_start()
    except StoreTooNewError as err:
        ir.async_create_issue(
            hass,
            DOMAIN,
            store_issue_id(entry.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="store_too_new",
            translation_placeholders={"title": entry.title, "found": err.found},
        )
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="store_too_new",
            translation_placeholders={"found": err.found},
        ) from err
    except SourceNotReadyError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="source_not_ready",
            translation_placeholders={"detail": str(err)},
        ) from err
    entry.runtime_data = coordinator
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_set_up()
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: RideBalanceConfigEntry
) -> bool:
    """Unload a config entry and stop its source."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_shutdown()
    return unloaded


async def async_remove_entry(
    hass: HomeAssistant, entry: RideBalanceConfigEntry
) -> None:
    """Delete the rider's stored baseline and sessions, and its repair issues."""
    ir.async_delete_issue(hass, DOMAIN, stick_issue_id(entry.entry_id))
    ir.async_delete_issue(hass, DOMAIN, store_issue_id(entry.entry_id))
    ir.async_delete_issue(hass, DOMAIN, damaged_issue_id(entry.entry_id))
    ir.async_delete_issue(hass, DOMAIN, gateway_issue_id(entry.entry_id))
    await RiderStore(hass, entry.entry_id).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: RideBalanceConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the rider delete a sensor device that is no longer heard.

    A sensor that is not heard may be asleep or gone for good (new pedals, a
    strap that broke); only the rider knows, so a silent one may be removed.
    The rider's own device and sensors heard right now stay.
    """
    keys = {
        key
        for domain, identifier in device.identifiers
        if domain == DOMAIN
        and (key := key_from_identifier(entry.entry_id, identifier)) is not None
    }
    if not keys:
        return False
    heard = entry.runtime_data.data.devices
    return not any(key in heard and heard[key].connected for key in keys)

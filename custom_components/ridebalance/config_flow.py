"""Config flow for RideBalance: a local or gateway ANT+ stick, entities, a simulator."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import logging
import threading
from typing import Any, Final, override

from homeassistant.components import mqtt
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import TextSelector
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
from homeassistant.helpers.service_info.usb import UsbServiceInfo
import probatio

from .ant.identity import describe_heard
from .ant.scan import HeardDevice, probe_stick, scan
from .ant.stick import ReceiverSettings, StickInfo
from .ant.usb_errors import UDEV_RULES, AntStickError
from .const import (
    CONF_DEVICE,
    CONF_GATEWAY,
    CONF_HEART_RATE,
    CONF_PEDALS,
    CONF_POWER_ENTITY,
    CONF_SOURCE,
    CONF_SPEED,
    CONF_TOPIC_PREFIX,
    CONF_TRAINER,
    DEFAULT_SIM_SPEED,
    DOMAIN,
    SourceKind,
)
from .flow_forms import (
    CONF_SCAN_AGAIN,
    entities_data,
    entities_schema,
    parse_number,
    pick_schema,
)
from .gateway.wire import (
    DEFAULT_TOPIC_PREFIX,
    GatewayStatus,
    MalformedBatchError,
    check_gateway_id,
    check_topic_prefix,
    decode_status,
    split_status_topic,
    status_topic,
)
from .options_flow import SPEED_SELECTOR, RideBalanceOptionsFlow
from .sources.gateway import async_gateway_status, async_scan_gateway

_LOGGER = logging.getLogger(__name__)

# How long the setup listens for the rider's devices. Sensors send every 0.25 s
# but their identity pages only every ~16 s, hence a little longer than that.
SCAN_SECONDS: float = 10.0
# Timings for opening the stick from the flow (None: the receiver's defaults).
STICK_SETTINGS: ReceiverSettings | None = None

# openant opens the first stick it finds, so one ANT+ entry is all that can work.
ANT_UNIQUE_ID: Final = "ant"
ANT_TITLE: Final = "ANT+ rider"
ENTITIES_TITLE: Final = "Rider"
# Errors of the stick that the form explains; anything else is "io_error".
STICK_ERRORS: Final = frozenset(
    {"not_found", "busy", "permission_denied", "no_backend", "not_responding"}
)

_PLACEHOLDERS: Final = {"udev_rule": UDEV_RULES}


def _stick_error(err: AntStickError) -> str:
    return err.reason if err.reason in STICK_ERRORS else "io_error"


def _gateway_errors(
    status: GatewayStatus | None, placeholders: dict[str, str]
) -> dict[str, str]:
    """Why the gateway cannot be listened through now; adds its words to the form."""
    if status is None:
        return {"base": "gateway_not_heard"}
    if not status.receiving:
        detail = f"{status.state.value}, stick {status.stick.value}"
        if status.detail:
            detail += f" ({status.detail})"
        placeholders["detail"] = detail
        return {"base": "gateway_not_receiving"}
    return {}


class RideBalanceConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a rider from one source of readings."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Nothing heard yet."""
        self._stick: StickInfo | None = None
        self._usb_serial: str | None = None
        self._heard: list[HeardDevice] = []
        self._scan_task: asyncio.Task[list[HeardDevice]] | None = None
        self._scan_stop = threading.Event()  # a stick scan ends early when set
        self._scan_job: asyncio.Future[list[HeardDevice]] | None = None
        self._scan_error: str | None = None
        self._paused_entry: ConfigEntry | None = None
        self._gateway: tuple[str, str] | None = None  # (topic prefix, gateway id)

    # --- choosing the source ---------------------------------------------------

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the rider choose where the readings come from."""
        return self.async_show_menu(
            step_id="user",
            menu_options=[
                SourceKind.ANT.value,
                SourceKind.GATEWAY.value,
                SourceKind.ENTITIES.value,
                SourceKind.SIMULATOR.value,
            ],
        )

    async def async_step_simulator(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A simulated rider, for trying RideBalance without hardware."""
        await self.async_set_unique_id(SourceKind.SIMULATOR.value)
        self._abort_if_unique_id_configured()
        if user_input is not None:
            return self.async_create_entry(
                title="Simulated rider",
                data={CONF_SOURCE: SourceKind.SIMULATOR.value},
                options={CONF_SPEED: float(user_input[CONF_SPEED])},
            )
        return self.async_show_form(
            step_id="simulator",
            data_schema=probatio.Schema(
                {
                    probatio.Required(
                        CONF_SPEED, default=DEFAULT_SIM_SPEED
                    ): SPEED_SELECTOR
                }
            ),
        )

    # --- the ANT+ stick ----------------------------------------------------------

    @override
    async def async_step_usb(self, discovery_info: UsbServiceInfo) -> ConfigFlowResult:
        """An ANT+ stick was plugged in."""
        await self.async_set_unique_id(ANT_UNIQUE_ID)
        self._abort_if_unique_id_configured()
        self._usb_serial = discovery_info.serial_number
        self.context["title_placeholders"] = {
            "name": discovery_info.description or "ANT+ USB stick"
        }
        return await self.async_step_usb_confirm()

    async def async_step_usb_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm the discovered stick; it is opened once to check it works."""
        errors = None if user_input is None else await self._async_probe()
        placeholders = {**_PLACEHOLDERS, **self.context.get("title_placeholders", {})}
        return await self._async_scan_once_confirmed(
            "usb_confirm", errors, placeholders
        )

    async def async_step_ant(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The first ANT+ stick on this machine; opened once to check it works."""
        await self.async_set_unique_id(ANT_UNIQUE_ID)
        self._abort_if_unique_id_configured()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await self._async_probe()
            if not errors:
                return await self.async_step_scan()
        return self.async_show_form(
            step_id="ant", errors=errors, description_placeholders=_PLACEHOLDERS
        )

    # --- a gateway: the stick near the bike, over MQTT -------------------------------

    @override
    async def async_step_mqtt(
        self, discovery_info: MqttServiceInfo
    ) -> ConfigFlowResult:
        """A gateway announced itself on its retained status topic."""
        try:
            prefix, gateway_id = split_status_topic(discovery_info.topic)
            payload = discovery_info.payload
            status = decode_status(
                payload.encode() if isinstance(payload, str) else bytes(payload)
            )
        except MalformedBatchError as err:
            _LOGGER.debug("Not a gateway status: %s", err)
            return self.async_abort(reason="invalid_discovery_info")
        if status.gateway_id != gateway_id:
            return self.async_abort(reason="invalid_discovery_info")
        await self.async_set_unique_id(f"{prefix}/{gateway_id}")
        self._abort_if_unique_id_configured()
        self._gateway = (prefix, gateway_id)
        self.context["title_placeholders"] = {"name": gateway_id}
        return await self.async_step_gateway_confirm()

    async def async_step_gateway_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set up on the discovered gateway once it is hearing ANT+."""
        assert self._gateway is not None
        prefix, gateway_id = self._gateway
        placeholders = {
            "name": gateway_id,
            "gateway": gateway_id,
            "topic": status_topic(prefix, gateway_id),
            "stick": "unknown",
        }
        status = await async_gateway_status(self.hass, prefix, gateway_id)
        if status is not None:
            placeholders["stick"] = status.stick.value
        errors = None if user_input is None else _gateway_errors(status, placeholders)
        return await self._async_scan_once_confirmed(
            "gateway_confirm", errors, placeholders
        )

    async def _async_scan_once_confirmed(
        self, step_id: str, errors: dict[str, str] | None, placeholders: dict[str, str]
    ) -> ConfigFlowResult:
        """On to the scan once confirmed without errors (``None``: not yet asked)."""
        if errors == {}:
            return await self.async_step_scan()
        self._set_confirm_only()
        return self.async_show_form(
            step_id=step_id, errors=errors or {}, description_placeholders=placeholders
        )

    async def async_step_gateway(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A gateway by its id (and topic prefix), for one not discovered."""
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            return self.async_abort(reason="mqtt_not_set_up")
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            try:
                gateway_id = check_gateway_id(user_input[CONF_GATEWAY].strip())
                prefix = check_topic_prefix(user_input[CONF_TOPIC_PREFIX].strip())
            except ValueError:
                errors["base"] = "invalid_gateway"
            else:
                # A discovery flow for it may be waiting: typing it in goes first.
                await self.async_set_unique_id(
                    f"{prefix}/{gateway_id}", raise_on_progress=False
                )
                self._abort_if_unique_id_configured()
                placeholders = {
                    "gateway": gateway_id,
                    "topic": status_topic(prefix, gateway_id),
                }
                status = await async_gateway_status(self.hass, prefix, gateway_id)
                errors = _gateway_errors(status, placeholders)
                if not errors:
                    self._gateway = (prefix, gateway_id)
                    return await self.async_step_scan()
        return self.async_show_form(
            step_id="gateway",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {
                        probatio.Required(CONF_GATEWAY): TextSelector(),
                        probatio.Required(
                            CONF_TOPIC_PREFIX, default=DEFAULT_TOPIC_PREFIX
                        ): TextSelector(),
                    }
                ),
                user_input or {},
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_probe(self) -> dict[str, str]:
        try:
            self._stick = await self.hass.async_add_executor_job(
                probe_stick, STICK_SETTINGS
            )
        except AntStickError as err:
            _LOGGER.debug("ANT+ stick check failed: %s", err)
            return {"base": _stick_error(err)}
        except Exception:
            _LOGGER.exception("Unexpected error opening the ANT+ stick")
            return {"base": "unknown"}
        return {}

    async def async_step_scan(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Listen for the rider's devices, with a progress indicator."""
        if self._scan_task is None:
            self._scan_error = None
            self._scan_task = self.hass.async_create_task(
                self._async_scan(), "RideBalance ANT+ scan"
            )
        if not self._scan_task.done():
            return self.async_show_progress(
                step_id="scan",
                progress_action="scan",
                progress_task=self._scan_task,
                description_placeholders={"seconds": f"{SCAN_SECONDS:g}"},
            )
        task, self._scan_task = self._scan_task, None
        try:
            self._heard = task.result()
        except AntStickError as err:
            _LOGGER.debug("ANT+ scan failed: %s", err)
            self._scan_error = _stick_error(err)
            return self.async_show_progress_done(next_step_id="scan_failed")
        except Exception:
            _LOGGER.exception("Unexpected error while scanning for ANT+ devices")
            self._scan_error = "unknown"
            return self.async_show_progress_done(next_step_id="scan_failed")
        return self.async_show_progress_done(next_step_id="pick")

    async def _async_scan(self) -> list[HeardDevice]:
        if self._gateway is not None:
            return await async_scan_gateway(self.hass, *self._gateway, SCAN_SECONDS)
        self._scan_job = self.hass.async_add_executor_job(
            lambda: scan(
                SCAN_SECONDS,
                describe=describe_heard,
                settings=STICK_SETTINGS,
                stop=self._scan_stop,
            )
        )
        # Shielded: closing the dialog cancels this task, not the worker thread,
        # and async_remove waits for the thread to let go of the stick.
        return await asyncio.shield(self._scan_job)

    async def async_step_scan_failed(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The stick failed during the scan: say why, and offer to scan again."""
        if user_input is not None:
            return await self.async_step_scan()
        return self.async_show_form(
            step_id="scan_failed",
            errors={"base": self._scan_error or "unknown"},
            description_placeholders=_PLACEHOLDERS,
        )

    async def async_step_pick(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The rider picks their pedals, trainer and heart-rate strap."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input.get(CONF_SCAN_AGAIN):
                return await self.async_step_scan()
            try:
                pedals = parse_number(user_input.get(CONF_PEDALS))
                trainer = parse_number(user_input.get(CONF_TRAINER))
                heart_rate = parse_number(user_input.get(CONF_HEART_RATE))
            except ValueError:
                errors["base"] = "invalid_device_number"
            else:
                if pedals is None:
                    errors[CONF_PEDALS] = "pedals_required"
                elif pedals == trainer:
                    errors["base"] = "pedals_are_trainer"
                else:
                    return self._async_finish_pick(pedals, trainer, heart_rate)
        return self.async_show_form(
            step_id="pick",
            data_schema=self._pick_schema(user_input),
            errors=errors,
            description_placeholders={
                "heard": str(len(self._heard)),
                "seconds": f"{SCAN_SECONDS:g}",
            },
        )

    def _pick_schema(self, user_input: Mapping[str, Any] | None) -> probatio.Schema:
        current: Mapping[str, Any] = {}
        if self.source == SOURCE_RECONFIGURE:
            current = self._get_reconfigure_entry().data
        return pick_schema(self._heard, current, user_input)

    def _async_finish_pick(
        self, pedals: int, trainer: int | None, heart_rate: int | None
    ) -> ConfigFlowResult:
        pairing = {
            CONF_PEDALS: pedals,
            CONF_TRAINER: trainer,
            CONF_HEART_RATE: heart_rate,
        }
        if self._gateway is None:
            return self._async_finish_ant(pairing)
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), data_updates=pairing
            )
        prefix, gateway_id = self._gateway
        return self.async_create_entry(
            title=f"ANT+ rider via {gateway_id}",
            data={
                CONF_SOURCE: SourceKind.GATEWAY.value,
                CONF_GATEWAY: gateway_id,
                CONF_TOPIC_PREFIX: prefix,
                **pairing,
            },
        )

    def _async_finish_ant(self, pairing: dict[str, int | None]) -> ConfigFlowResult:
        stick = self._stick
        device = (
            str(stick.serial_number)
            if stick is not None and stick.serial_number is not None
            else self._usb_serial
        )
        if self.source == SOURCE_RECONFIGURE:
            entry = self._get_reconfigure_entry()
            self._paused_entry = None  # the update below reloads it
            return self.async_update_reload_and_abort(
                entry,
                data_updates={
                    **pairing,
                    CONF_DEVICE: device or entry.data.get(CONF_DEVICE),
                },
            )
        return self.async_create_entry(
            title=ANT_TITLE,
            data={CONF_SOURCE: SourceKind.ANT.value, CONF_DEVICE: device, **pairing},
        )

    # --- Home Assistant entities ----------------------------------------------

    async def async_step_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Readings from sensors another integration already provides."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = entities_data(user_input)
            if not errors:
                await self.async_set_unique_id(data[CONF_POWER_ENTITY])
                self._abort_if_unique_id_configured()
                return self.async_create_entry(title=ENTITIES_TITLE, data=data)
        return self.async_show_form(
            step_id="entities",
            data_schema=self.add_suggested_values_to_schema(
                entities_schema(), user_input or {}
            ),
            errors=errors,
        )

    # --- reconfigure -------------------------------------------------------------

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """ANT+ (stick or gateway): scan again, re-pick. Entities: other sensors."""
        entry = self._get_reconfigure_entry()
        kind = SourceKind(entry.data[CONF_SOURCE])
        if kind is SourceKind.ANT:
            return await self.async_step_reconfigure_ant(user_input)
        if kind is SourceKind.GATEWAY:
            # The gateway's pages reach every subscriber: the entry keeps riding.
            self._gateway = (entry.data[CONF_TOPIC_PREFIX], entry.data[CONF_GATEWAY])
            return await self.async_step_scan()
        if kind is SourceKind.ENTITIES:
            return await self.async_step_reconfigure_entities(user_input)
        # The simulator has nothing to reconfigure (its speed is an option).
        return self.async_abort(reason="simulator_reconfigure")

    async def async_step_reconfigure_ant(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The entry lets go of the stick while the scan runs."""
        if user_input is None:
            return self.async_show_form(step_id="reconfigure_ant")
        entry = self._get_reconfigure_entry()
        if entry.state is ConfigEntryState.LOADED:
            await self.hass.config_entries.async_unload(entry.entry_id)
            self._paused_entry = entry
        return await self.async_step_scan()

    async def async_step_reconfigure_entities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Other sensors for an entities rider."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = entities_data(user_input)
            power = data[CONF_POWER_ENTITY]
            if not errors and any(
                other.unique_id == power and other.entry_id != entry.entry_id
                for other in self._async_current_entries(include_ignore=False)
            ):
                return self.async_abort(reason="already_configured")
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, unique_id=power, data=data
                )
        return self.async_show_form(
            step_id="reconfigure_entities",
            data_schema=self.add_suggested_values_to_schema(
                entities_schema(), user_input or dict(entry.data)
            ),
            errors=errors,
        )

    @callback
    @override
    def async_remove(self) -> None:
        """An abandoned reconfiguration gives the stick back to its entry.

        Home Assistant cancels the scan's progress task; the stick scan's worker
        thread is told to end, and the entry reloads once it has closed the stick.
        """
        self._scan_stop.set()
        entry, self._paused_entry = self._paused_entry, None
        if entry is None:
            return
        job = self._scan_job
        if job is None or job.done():
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return

        job.add_done_callback(
            lambda _job: self.hass.config_entries.async_schedule_reload(entry.entry_id)
        )

    # --- options -----------------------------------------------------------------

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> RideBalanceOptionsFlow:
        """Options of an existing rider."""
        return RideBalanceOptionsFlow()

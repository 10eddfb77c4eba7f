"""Config flow for RideBalance."""

from __future__ import annotations

from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
)
import probatio

from .const import (
    CONF_SOURCE,
    CONF_SPEED,
    DEFAULT_SIM_SPEED,
    DOMAIN,
    MAX_SIM_SPEED,
    SourceKind,
)

SPEED_SELECTOR = NumberSelector(
    NumberSelectorConfig(min=1, max=MAX_SIM_SPEED, step=1, mode=NumberSelectorMode.BOX)
)


class RideBalanceConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a rider from one source of readings."""

    VERSION = 1
    MINOR_VERSION = 1

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the rider choose where the readings come from."""
        return self.async_show_menu(
            step_id="user", menu_options=[SourceKind.SIMULATOR.value]
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

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> RideBalanceOptionsFlow:
        """Options of an existing rider."""
        return RideBalanceOptionsFlow()


class RideBalanceOptionsFlow(OptionsFlowWithReload):
    """Change how an existing source behaves."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Simulator speed (other sources have their settings as entities)."""
        if user_input is not None:
            return self.async_create_entry(
                data={CONF_SPEED: float(user_input[CONF_SPEED])}
            )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema({probatio.Required(CONF_SPEED): SPEED_SELECTOR}),
                {
                    CONF_SPEED: self.config_entry.options.get(
                        CONF_SPEED, DEFAULT_SIM_SPEED
                    )
                },
            ),
        )

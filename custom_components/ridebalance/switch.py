"""Switches: alerts and posture reminders on or off."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RideBalanceConfigEntry
from .entity import RiderSettingEntity, RiderSettingEntityDescription

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class RideSwitchEntityDescription(
    RiderSettingEntityDescription[bool], SwitchEntityDescription
):
    """One of the rider's on/off settings."""


SWITCHES: tuple[RideSwitchEntityDescription, ...] = (
    RideSwitchEntityDescription(
        key="alerts",
        translation_key="alerts",
        value_fn=lambda s: s.alerts_enabled,
        set_fn=lambda s, on: replace(s, alerts_enabled=on),
    ),
    RideSwitchEntityDescription(
        key="posture_reminders",
        translation_key="posture_reminders",
        value_fn=lambda s: s.posture_reminders_enabled,
        set_fn=lambda s, on: replace(s, posture_reminders_enabled=on),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RideBalanceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the switches."""
    async_add_entities(RideSwitch(entry.runtime_data, d) for d in SWITCHES)


class RideSwitch(RiderSettingEntity[bool], SwitchEntity):
    """Turns a kind of alert on or off."""

    entity_description: RideSwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """The current setting."""
        return self.setting

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Enable."""
        self.set_setting(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Disable."""
        self.set_setting(False)

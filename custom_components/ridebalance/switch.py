"""Switches: alerts and posture reminders on or off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RideBalanceConfigEntry
from .entity import RideBalanceControlEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SettingSwitchEntityDescription(SwitchEntityDescription):
    """A switch bound to one boolean of the rider's settings."""

    setting: str


SWITCHES: tuple[SettingSwitchEntityDescription, ...] = (
    SettingSwitchEntityDescription(
        key="alerts",
        translation_key="alerts",
        setting="alerts_enabled",
        entity_category=EntityCategory.CONFIG,
    ),
    SettingSwitchEntityDescription(
        key="posture_reminders",
        translation_key="posture_reminders",
        setting="posture_reminders_enabled",
        entity_category=EntityCategory.CONFIG,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RideBalanceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the switches."""
    async_add_entities(
        SettingSwitch(entry.runtime_data, description) for description in SWITCHES
    )


class SettingSwitch(RideBalanceControlEntity, SwitchEntity):
    """Turns a kind of alert on or off."""

    entity_description: SettingSwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """The current setting."""
        value: bool = getattr(
            self.coordinator.data.settings, self.entity_description.setting
        )
        return value

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Enable."""
        self.coordinator.async_update_settings(
            **{self.entity_description.setting: True}
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Disable."""
        self.coordinator.async_update_settings(
            **{self.entity_description.setting: False}
        )

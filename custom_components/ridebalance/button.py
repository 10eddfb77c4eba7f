"""Buttons: start or stop a session, reset the baseline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import RideBalanceConfigEntry, RideCoordinator
from .entity import RideBalanceControlEntity

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class RideButtonEntityDescription(ButtonEntityDescription):
    """A button and what it does."""

    press_fn: Callable[[RideCoordinator], None]


BUTTONS: tuple[RideButtonEntityDescription, ...] = (
    RideButtonEntityDescription(
        key="start_session",
        translation_key="start_session",
        press_fn=lambda c: c.async_start_session(),
    ),
    RideButtonEntityDescription(
        key="stop_session",
        translation_key="stop_session",
        press_fn=lambda c: c.async_stop_session(),
    ),
    RideButtonEntityDescription(
        key="reset_baseline",
        translation_key="reset_baseline",
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda c: c.async_reset_baseline(),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RideBalanceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the buttons."""
    async_add_entities(RideButton(entry.runtime_data, d) for d in BUTTONS)


class RideButton(RideBalanceControlEntity, ButtonEntity):
    """Does one thing when pressed."""

    entity_description: RideButtonEntityDescription

    async def async_press(self) -> None:
        """Do it."""
        self.entity_description.press_fn(self.coordinator)

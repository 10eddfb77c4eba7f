"""The alert event entity: what automations listen to."""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .analysis.session import Alert, AlertType
from .coordinator import RideBalanceConfigEntry
from .entity import RideBalanceControlEntity

PARALLEL_UPDATES = 0

ALERT = EventEntityDescription(
    key="alert",
    translation_key="alert",
    event_types=[t.value for t in AlertType],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: RideBalanceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the alert entity."""
    async_add_entities([AlertEvent(entry.runtime_data, ALERT)])


class AlertEvent(RideBalanceControlEntity, EventEntity):
    """Fires asymmetry, cadence, drift, posture and session events as they happen."""

    async def async_added_to_hass(self) -> None:
        """Listen for alerts."""
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_alert_listener(self._on_alert))

    @callback
    def _on_alert(self, alert: Alert) -> None:
        self._trigger_event(alert.type.value, alert.data)
        self.async_write_ha_state()

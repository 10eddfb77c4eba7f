"""Other integrations' entities as the source (for a stick another integration owns).

Home Assistant only writes a state when it changes, so a steady 200 W produces no
event at all: the source samples the chosen entities once a second instead of
waiting for changes, and reports itself disconnected while the power entity has
no number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_BALANCE_ENTITY,
    CONF_BALANCE_SIDE,
    CONF_CADENCE_ENTITY,
    CONF_HEART_RATE_ENTITY,
    CONF_POWER_ENTITY,
)
from ..model import PowerSource, Sample
from . import (
    SensorDevice,
    SourceListener,
    SourceState,
    SourceStatus,
)

SAMPLE_EVERY = timedelta(seconds=1)


class EntitiesSource:
    """Samples power, cadence, balance and heart-rate entities once a second."""

    def __init__(self, hass: HomeAssistant, entry_data: Mapping[str, Any]) -> None:
        self._hass = hass
        self._power = str(entry_data[CONF_POWER_ENTITY])
        self._cadence: str | None = entry_data.get(CONF_CADENCE_ENTITY)
        self._balance: str | None = entry_data.get(CONF_BALANCE_ENTITY)
        self._balance_is_right = entry_data.get(CONF_BALANCE_SIDE, "left") == "right"
        self._heart_rate: str | None = entry_data.get(CONF_HEART_RATE_ENTITY)
        self._unsub: CALLBACK_TYPE | None = None
        self._listener: SourceListener | None = None
        self._started: datetime | None = None
        self._state = SourceState.CONNECTING
        self._samples = 0
        # One pseudo-device stands for the chosen entities.
        self._device = SensorDevice(
            key="entities",
            name="Home Assistant entities",
            profile="entities",
            manufacturer="Home Assistant",
            model=self._power,
        )

    async def async_start(self, listener: SourceListener) -> None:
        """Start sampling."""
        self._listener = listener
        listener.devices({self._device.key: self._device})
        self._started = dt_util.utcnow()
        self._unsub = async_track_time_interval(
            self._hass, self._tick, SAMPLE_EVERY, name="RideBalance entities"
        )
        self._tick(self._started)

    async def async_stop(self) -> None:
        """Stop sampling."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    def diagnostics(self) -> dict[str, Any]:
        """The entities used and how much was read."""
        return {
            "power": self._power,
            "cadence": self._cadence,
            "balance": self._balance,
            "balance_side": "right" if self._balance_is_right else "left",
            "heart_rate": self._heart_rate,
            "samples": self._samples,
            "state": self._state,
        }

    def _number(self, entity_id: str | None) -> float | None:
        if entity_id is None:
            return None
        state = self._hass.states.get(entity_id)
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            return None
        try:
            return float(state.state)
        except ValueError:
            return None

    def _set_state(self, state: SourceState, detail: str | None = None) -> None:
        if state is not self._state:
            self._state = state
            self._push(replace(self._device, connected=state is SourceState.CONNECTED))
            assert self._listener is not None
            self._listener.status(SourceStatus(state, detail))

    def _push(self, device: SensorDevice) -> None:
        self._device = device
        assert self._listener is not None
        self._listener.devices({device.key: device})

    @callback
    def _tick(self, now: datetime) -> None:
        assert self._started is not None
        assert self._listener is not None
        power = self._number(self._power)
        if power is None:
            self._set_state(
                SourceState.DISCONNECTED, f"{self._power} has no numeric state"
            )
            return
        self._set_state(SourceState.CONNECTED)
        balance = self._number(self._balance)
        if balance is not None and not 0 <= balance <= 100:
            balance = None  # not a share: refuse rather than guess
        if balance is not None and self._balance_is_right:
            balance = 100.0 - balance
        self._push(replace(self._device, last_seen=now))
        self._samples += 1
        self._listener.samples(
            [
                Sample(
                    t_s=(now - self._started).total_seconds(),
                    power_w=power,
                    left_pct=balance,
                    cadence_rpm=self._number(self._cadence),
                    heart_rate_bpm=self._number(self._heart_rate),
                    power_source=PowerSource.ENTITY,
                )
            ]
        )

"""Raw ANT+ pages of the rider's devices → Samples and devices, in the event loop.

One home for what a source does with pages once they reach Home Assistant, from
the local stick (``sources/ant.py``) or a gateway over MQTT (``sources/gateway.py``):
keep the paired devices' pages, feed the :class:`RiderMerger` and its trackers, and
describe the rider's devices for the registry and the diagnostics.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
import time
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from ..ant.identity import ROLE_LABELS
from ..ant.merger import DeviceState, RiderMerger
from ..ant.pages import (
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
    DEVICE_TYPE_HEART_RATE,
    RawPage,
)
from ..ant.pairing import Pairing
from ..ant.trackers import TrackerConfig
from ..const import CONF_HEART_RATE, CONF_PEDALS, CONF_TRAINER, DOMAIN
from ..model import Sample
from . import SensorDevice, SourceListener, sensor_device

# How often a source looks for devices that went quiet.
QUIET_CHECK: Final = timedelta(seconds=1)

# The rider's own devices get entities; bystanders and the trainer's second
# (power) channel only show in diagnostics.
_OWN_ROLES: Final = frozenset(ROLE_LABELS)


def device_key(state: DeviceState) -> str:
    """A stable key per paired device: its role and device number."""
    return f"{state.role.value}_{state.device_number}"


def pairing_from_entry(data: Mapping[str, Any]) -> Pairing:
    """The rider's devices as the config flow stored them.

    Power is always listened to (any pedals when none is chosen); the trainer and
    the strap only when the rider chose one.
    """

    def number(key: str) -> int | None:
        value = data.get(key)
        return None if value is None else int(value)

    trainer = number(CONF_TRAINER)
    heart_rate = number(CONF_HEART_RATE)
    types = {DEVICE_TYPE_BICYCLE_POWER}
    if trainer is not None:
        types.add(DEVICE_TYPE_FITNESS_EQUIPMENT)
    if heart_rate is not None:
        types.add(DEVICE_TYPE_HEART_RATE)
    return Pairing(number(CONF_PEDALS), trainer, heart_rate, frozenset(types))


class RiderPages:
    """The rider's trackers, fed with pages timed on this host's monotonic clock."""

    def __init__(
        self, pairing: Pairing, tracker_config: TrackerConfig | None = None
    ) -> None:
        self.pairing = pairing
        self._merger = RiderMerger(pairing, tracker_config)
        # Page times are monotonic; this maps them to wall-clock times.
        self._wall_anchor = dt_util.utcnow() - timedelta(seconds=time.monotonic())
        self.filtered = 0  # pages of devices or types the rider did not choose
        self.samples = 0

    def feed(self, batch: list[RawPage]) -> list[Sample]:
        """The Samples a batch of pages completes, in order."""
        accepts = self.pairing.accepts
        wanted = [page for page in batch if accepts(page)]
        self.filtered += len(batch) - len(wanted)
        samples = self._merger.feed(wanted)
        self.samples += len(samples)
        return samples

    def devices(self, receiving: bool) -> dict[str, SensorDevice]:
        """The rider's devices heard so far; none is connected unless ``receiving``."""
        now_s = time.monotonic()
        out: dict[str, SensorDevice] = {}
        for state in self._merger.device_states(now_s):
            if state.role not in _OWN_ROLES:
                continue
            key = device_key(state)
            last_seen = (
                None
                if state.last_seen_s is None
                else (self._wall_anchor + timedelta(seconds=state.last_seen_s)).replace(
                    microsecond=0
                )
            )
            out[key] = sensor_device(
                state, key, last_seen, receiving and state.connected
            )
        return out

    def diagnostics(self) -> dict[str, Any]:
        """The pairing, what was left out, and what each device sent."""
        now_s = time.monotonic()
        return {
            "pairing": {
                "pedals": self.pairing.pedals,
                "trainer": self.pairing.trainer,
                "heart_rate": self.pairing.heart_rate,
            },
            "samples": self.samples,
            "ignored_pages": self._merger.ignored_pages,
            "filtered_pages": self.filtered,
            "devices": [
                {
                    "role": state.role.value,
                    "device_type": state.device_type,
                    "device_number": state.device_number,
                    "transmission_type": state.transmission_type,
                    "connected": state.connected,
                    "seconds_since_seen": (
                        None
                        if state.last_seen_s is None
                        else round(now_s - state.last_seen_s, 1)
                    ),
                    "manufacturer": state.identity.manufacturer,
                    "model_number": state.identity.model_number,
                    "software_version": state.identity.software_version,
                    "pages_received": state.counters.pages,
                    "pages_malformed": state.counters.malformed,
                    "pages_unknown": state.counters.unknown,
                }
                for state in self._merger.device_states(now_s)
            ],
        }


class PagesSource:
    """What the sources of raw pages share (the local stick, a gateway).

    The rider's trackers, the listener they push to (from :meth:`_start_pages` to
    :meth:`_stop_pages`), whether readings are flowing (a subclass sets
    ``_receiving`` and feeds pages with :meth:`_feed`), and the entry's one repair
    issue.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        issue_id: str,
        tracker_config: TrackerConfig | None,
    ) -> None:
        self._hass = hass
        self._issue_id = issue_id
        self._issue: str | None = None  # the raised issue's translation key
        self._pages = RiderPages(pairing_from_entry(entry.data), tracker_config)
        self._listener: SourceListener | None = None
        self._unsub_quiet: CALLBACK_TYPE | None = None
        self._receiving = False

    @callback
    def _start_pages(self, listener: SourceListener, name: str) -> None:
        """Deliver to ``listener`` from now on, and look for devices gone quiet."""
        self._listener = listener
        self._unsub_quiet = async_track_time_interval(
            self._hass, self._quiet_check, QUIET_CHECK, name=name
        )

    @callback
    def _stop_pages(self) -> None:
        """Deliver nothing more: what arrives while stopping is dropped."""
        self._listener = None
        if self._unsub_quiet is not None:
            self._unsub_quiet()
            self._unsub_quiet = None

    @callback
    def _quiet_check(self, _now: datetime) -> None:
        # A device that falls silent sends nothing to say so: look once a second.
        # A callback, so it runs in the event loop, where the trackers are fed.
        self._push_devices()

    @callback
    def _feed(self, batch: list[RawPage]) -> None:
        """Pages in; the rider's devices and the Samples they complete out."""
        samples = self._pages.feed(batch)
        self._push_devices()
        if samples and self._listener is not None:
            self._listener.samples(samples)

    @callback
    def _push_devices(self) -> None:
        if self._listener is not None:
            self._listener.devices(self._pages.devices(self._receiving))

    @callback
    def _create_issue(self, translation_key: str, placeholders: dict[str, str]) -> None:
        """Raise the entry's repair issue (a new one replaces the last)."""
        self._issue = translation_key
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            self._issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=translation_key,
            translation_placeholders=placeholders,
        )

    @callback
    def _delete_issue(self) -> None:
        """Remove the entry's repair issue, also one an earlier setup left."""
        self._issue = None
        ir.async_delete_issue(self._hass, DOMAIN, self._issue_id)

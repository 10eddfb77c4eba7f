"""The automation blueprints shipped in blueprints/automation/ridebalance.

Each test installs a blueprint the way a user does (a file under the config
folder's blueprints/automation/), creates an automation from it and replays
the alert event entity's state changes as RideBalance writes them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from .helpers import set_up

BLUEPRINTS = Path(__file__).parents[2] / "blueprints" / "automation" / "ridebalance"
ALERT = "event.simulated_rider_alert"
EVENT_TYPES = [
    "asymmetry_started",
    "asymmetry_ended",
    "cadence_drift_started",
    "cadence_drift_ended",
    "balance_drift",
    "posture_reminder",
    "session_started",
    "session_ended",
]
SOURCE_URL = "https://github.com/ridebalance/ridebalance/blob/main/blueprints/automation/ridebalance/"


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A throw-away config folder, so blueprints can be installed into it."""
    return hass_tmp_config_dir


def _install(hass: HomeAssistant) -> None:
    target = Path(hass.config.path("blueprints", "automation", "ridebalance"))
    target.mkdir(parents=True, exist_ok=True)
    for path in BLUEPRINTS.glob("*.yaml"):
        shutil.copy(path, target / path.name)


async def _automation(
    hass: HomeAssistant, blueprint: str, inputs: Mapping[str, Any]
) -> None:
    _install(hass)
    config = {
        "automation": {
            "id": "ride_alert",
            "alias": "Ride alert",
            "use_blueprint": {
                "path": f"ridebalance/{blueprint}",
                "input": {"alert_entity": ALERT, **inputs},
            },
        }
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()
    state = hass.states.get("automation.ride_alert")
    assert state is not None, "the automation was not created from the blueprint"
    assert state.state == "on"


def _alert(hass: HomeAssistant, event_type: str, **data: Any) -> None:
    """Write the event entity's state as Home Assistant does for a new event."""
    hass.states.async_set(
        ALERT,
        dt_util.utcnow().isoformat(timespec="milliseconds"),
        {"event_types": EVENT_TYPES, "event_type": event_type, **data},
    )


class FakeLight:
    """A colour light that records the calls it gets and shows them in its state."""

    def __init__(self, hass: HomeAssistant, entity_id: str) -> None:
        self.hass = hass
        self.entity_id = entity_id
        self.calls: list[tuple[str, dict[str, Any]]] = []
        hass.services.async_register("light", "turn_on", self._turn_on)
        hass.services.async_register("light", "turn_off", self._turn_off)

    def set(self, state: str, **attributes: Any) -> None:
        base: dict[str, Any] = {"supported_color_modes": ["rgb"], "color_mode": None}
        if state == "on":
            base["color_mode"] = "rgb"
        self.hass.states.async_set(self.entity_id, state, base | attributes)

    @property
    def attributes(self) -> Mapping[str, Any]:
        state = self.hass.states.get(self.entity_id)
        assert state is not None
        return state.attributes

    @callback
    def _turn_on(self, call: ServiceCall) -> None:
        data = dict(call.data)
        self.calls.append(("turn_on", data))
        attributes = dict(self.attributes) if self.state == "on" else {}
        if "brightness_pct" in data:
            attributes["brightness"] = round(data["brightness_pct"] * 255 / 100)
        if "brightness" in data:
            attributes["brightness"] = data["brightness"]
        if "rgb_color" in data:
            attributes["rgb_color"] = tuple(data["rgb_color"])
        attributes.setdefault("brightness", 255)
        attributes.setdefault("rgb_color", (255, 255, 255))
        attributes.pop("color_mode", None)
        attributes.pop("supported_color_modes", None)
        self.set("on", **attributes)

    @callback
    def _turn_off(self, call: ServiceCall) -> None:
        self.calls.append(("turn_off", dict(call.data)))
        self.set("off")

    @property
    def state(self) -> str:
        state = self.hass.states.get(self.entity_id)
        return "unknown" if state is None else state.state


async def _settle() -> None:
    """Let a running automation take its next steps.

    async_block_till_done would wait for the whole run, which is parked in a
    delay or a wait while the light signals.
    """
    for _ in range(100):
        await asyncio.sleep(0)


async def _tick(freezer: FrozenDateTimeFactory, hass: HomeAssistant, s: float) -> None:
    """Move the clock on in 0.1 s steps, as a running delay sees it."""
    for _ in range(round(s / 0.1)):
        freezer.tick(timedelta(seconds=0.1))
        async_fire_time_changed(hass)
        await _settle()


@pytest.fixture
async def scenes(hass: HomeAssistant) -> None:
    """The scene integration, which provides scene.create (default_config loads it)."""
    assert await async_setup_component(hass, "scene", {})
    await hass.async_block_till_done()


def test_every_blueprint_is_a_valid_automation_blueprint() -> None:
    """Users import by URL: the file must validate and point back at itself."""
    from homeassistant.components.automation.config import (
        AUTOMATION_BLUEPRINT_SCHEMA,
    )
    from homeassistant.components.blueprint.models import Blueprint
    from homeassistant.util.yaml import load_yaml

    names = sorted(p.name for p in BLUEPRINTS.glob("*.yaml"))
    assert names == [
        "asymmetry_light.yaml",
        "posture_reminder_tts.yaml",
        "ride_alert_notification.yaml",
    ]
    for name in names:
        data = load_yaml(BLUEPRINTS / name)
        assert isinstance(data, dict)
        blueprint = Blueprint(
            data, expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
        )
        assert blueprint.metadata["source_url"] == SOURCE_URL + name
        assert "alert_entity" in blueprint.inputs


async def test_light_flashes_on_asymmetry_and_is_restored(
    hass: HomeAssistant, scenes: None, freezer: FrozenDateTimeFactory
) -> None:
    """A warm white desk lamp flashes orange three times, then is warm white again."""
    lamp = FakeLight(hass, "light.desk_lamp")
    lamp.set("on", brightness=120, rgb_color=(255, 200, 150))
    hass.states.async_set(ALERT, "unknown", {"event_types": EVENT_TYPES})
    await _automation(
        hass,
        "asymmetry_light.yaml",
        {
            "lights": ["light.desk_lamp"],
            "color": [255, 80, 0],
            "flashes": 3,
            "flash_seconds": 0.5,
        },
    )

    # Other alerts leave the lamp alone.
    _alert(hass, "session_started")
    _alert(hass, "posture_reminder", cue="Drop your shoulders.")
    await _settle()
    assert lamp.calls == []

    _alert(hass, "asymmetry_started", magnitude=3.4, unit="points", elapsed_min=25.5)
    await _settle()
    assert lamp.calls[0] == (
        "turn_on",
        {
            "entity_id": ["light.desk_lamp"],
            "rgb_color": [255, 80, 0],
            "brightness_pct": 100,
            "transition": 0,
        },
    )
    await _tick(freezer, hass, 4)
    await hass.async_block_till_done()

    kinds = [kind for kind, _ in lamp.calls]
    assert kinds == ["turn_on", "turn_off"] * 3 + ["turn_on"]
    # The last call is the restore: the lamp's own colour and brightness.
    assert lamp.calls[-1][1]["rgb_color"] == (255, 200, 150)
    assert lamp.calls[-1][1]["brightness"] == 120
    assert lamp.state == "on"
    assert lamp.attributes["rgb_color"] == (255, 200, 150)
    # The snapshot scene is removed again.
    assert not hass.states.async_entity_ids("scene")


async def test_light_held_until_asymmetry_ends_then_switched_back_off(
    hass: HomeAssistant, scenes: None
) -> None:
    """In hold style a lamp that was off glows red during the episode, then is off."""
    lamp = FakeLight(hass, "light.trainer_strip")
    lamp.set("off")
    hass.states.async_set(ALERT, "unknown", {"event_types": EVENT_TYPES})
    await _automation(
        hass,
        "asymmetry_light.yaml",
        {
            "lights": ["light.trainer_strip"],
            "color": [255, 0, 0],
            "brightness": 60,
            "style": "hold",
        },
    )
    _alert(hass, "asymmetry_started", magnitude=4.1, unit="points")
    await _settle()
    assert lamp.state == "on"
    assert lamp.attributes["rgb_color"] == (255, 0, 0)

    # Other alerts during the episode leave the signal alone.
    _alert(hass, "posture_reminder", cue="Stand for ten strokes.")
    await _settle()
    assert lamp.state == "on"

    _alert(hass, "asymmetry_ended", magnitude=0.8, unit="points")
    # The run is past its wait now, so it can be waited for to the end.
    await hass.async_block_till_done()
    assert lamp.state == "off"
    assert lamp.calls[-1][0] == "turn_off"


async def test_restart_restoring_the_last_event_does_not_flash(
    hass: HomeAssistant, scenes: None
) -> None:
    """After a restart the entity comes back with its last event: not a new alert."""
    lamp = FakeLight(hass, "light.desk_lamp")
    lamp.set("off")
    hass.states.async_set(ALERT, "unavailable", {"event_types": EVENT_TYPES})
    await _automation(
        hass, "asymmetry_light.yaml", {"lights": ["light.desk_lamp"], "style": "hold"}
    )
    _alert(hass, "asymmetry_started", magnitude=3.0, unit="points")
    await hass.async_block_till_done()
    assert lamp.calls == []


async def test_posture_reminder_is_spoken_with_its_cue(hass: HomeAssistant) -> None:
    """The reminder's own cue is spoken on the chosen speaker, nothing else is."""
    speak = async_mock_service(hass, "tts", "speak")
    hass.states.async_set(ALERT, "unknown", {"event_types": EVENT_TYPES})
    await _automation(
        hass,
        "posture_reminder_tts.yaml",
        {"tts_entity": "tts.piper", "media_player": "media_player.garage_speaker"},
    )
    _alert(hass, "asymmetry_started", magnitude=3.0, unit="points")
    await hass.async_block_till_done()
    assert speak == []

    cue = "Stand up for ten pedal strokes and roll your shoulders back."
    _alert(hass, "posture_reminder", elapsed_min=30.0, cue=cue, reason="interval")
    await hass.async_block_till_done()
    assert len(speak) == 1
    assert speak[0].data["entity_id"] == ["tts.piper"]
    assert speak[0].data["media_player_entity_id"] == "media_player.garage_speaker"
    assert speak[0].data["message"] == f"Posture check. {cue}"

    # Without a cue the fallback sentence is spoken.
    _alert(hass, "posture_reminder", elapsed_min=60.0)
    await hass.async_block_till_done()
    assert speak[1].data["message"].startswith("Posture check. Time for a short")


async def test_phone_notification_names_size_effort_and_cue(
    hass: HomeAssistant,
) -> None:
    """Chosen alert kinds reach the phone with magnitude and cue; others do not."""
    phone = async_mock_service(hass, "notify", "mobile_app_rider_phone")
    hass.states.async_set(ALERT, "unknown", {"event_types": EVENT_TYPES})
    await _automation(
        hass,
        "ride_alert_notification.yaml",
        {"notify_action": "notify.mobile_app_rider_phone"},
    )
    _alert(hass, "session_started")
    await hass.async_block_till_done()
    assert phone == []

    _alert(
        hass,
        "asymmetry_started",
        magnitude=3.4,
        unit="points",
        power_band="150-200 W",
        elapsed_min=25.6,
        reason="",
    )
    await hass.async_block_till_done()
    assert len(phone) == 1
    assert phone[0].data["title"] == "RideBalance"
    assert phone[0].data["message"] == (
        "Asymmetry: +3.4 points at 150-200 W after 26 min."
    )
    assert phone[0].data["data"] == {"group": "ridebalance", "tag": "ridebalance"}

    _alert(hass, "cadence_drift_started", magnitude=-9.0, unit="rpm", elapsed_min=42)
    await hass.async_block_till_done()
    assert phone[1].data["message"] == "Cadence drift: -9.0 rpm after 42 min."

    _alert(
        hass,
        "posture_reminder",
        power_band="100-150 W",
        elapsed_min=40.2,
        reason="Reminder after 20 min of riding without a break.",
        cue="Stand up and pedal for 30 seconds.",
    )
    await hass.async_block_till_done()
    assert phone[2].data["message"] == (
        "Posture break at 100-150 W after 40 min. "
        "Reminder after 20 min of riding without a break. "
        "Stand up and pedal for 30 seconds."
    )


async def test_notify_action_without_domain_and_selected_kinds(
    hass: HomeAssistant,
) -> None:
    """A bare service name works, and only the kinds the user picked are sent."""
    phone = async_mock_service(hass, "notify", "mobile_app_pixel")
    hass.states.async_set(ALERT, "unknown", {"event_types": EVENT_TYPES})
    await _automation(
        hass,
        "ride_alert_notification.yaml",
        {
            "notify_action": "mobile_app_pixel",
            "event_types": ["session_ended"],
            "title": "Ride",
            "notification_data": {},
        },
    )
    _alert(hass, "asymmetry_started", magnitude=3.4, unit="points")
    _alert(hass, "session_ended", elapsed_min=61.2, reason="Rode 61 min, 52.1 % left")
    await hass.async_block_till_done()
    assert [call.data["message"] for call in phone] == [
        "Session ended after 61 min. Rode 61 min, 52.1 % left."
    ]
    assert phone[0].data["title"] == "Ride"
    assert phone[0].data["data"] == {}


async def test_real_ride_reminder_is_spoken(
    hass: HomeAssistant, sim_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """With the simulated rider, the first posture reminder is spoken with its cue."""
    from custom_components.ridebalance.analysis.session import POSTURE_CUES

    speak = async_mock_service(hass, "tts", "speak")
    await set_up(hass, sim_entry)
    await _automation(
        hass,
        "posture_reminder_tts.yaml",
        {"tts_entity": "tts.piper", "media_player": "media_player.garage_speaker"},
    )
    # At 60x a second is a ride minute; the default reminder interval is 20 min.
    for _ in range(26):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert speak, "no posture reminder was spoken in 26 ride minutes"
    message = speak[0].data["message"]
    assert message.startswith("Posture check. ")
    assert message.removeprefix("Posture check. ") in POSTURE_CUES
    await hass.config_entries.async_unload(sim_entry.entry_id)

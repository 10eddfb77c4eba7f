"""Run the dashboard strategy on what a real Home Assistant tells the frontend.

The frontend's ``hass`` object is rebuilt from the real websocket commands it
uses (entity and device registries, and the recorder's statistic ids when a
recorder runs); the strategy module then runs in Node.js (``strategy.mjs``).
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import shutil
import subprocess
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.ridebalance.frontend import MODULE

NODE = shutil.which("node")
RUNNER = Path(__file__).with_name("strategy.mjs")


async def frontend_view(hass: HomeAssistant, ws: WebSocketGenerator) -> dict[str, Any]:
    """What the frontend's ``hass`` object holds, from the real registries."""
    assert await async_setup_component(hass, "config", {})
    client = await ws(hass)

    async def ask(message: dict[str, Any]) -> Any:
        await client.send_json_auto_id(message)
        reply = await client.receive_json()
        assert reply["success"], reply
        return reply["result"]

    listed = await ask({"type": "config/entity_registry/list_for_display"})
    entities = {
        e["ei"]: {
            "entity_id": e["ei"],
            "device_id": e.get("di"),
            "platform": e["pl"],
            "translation_key": e.get("tk"),
        }
        for e in listed["entities"]
    }
    devices = {d["id"]: d for d in await ask({"type": "config/device_registry/list"})}
    states = {
        s.entity_id: {"state": s.state, "attributes": dict(s.attributes)}
        for s in hass.states.async_all()
    }
    view: dict[str, Any] = {"entities": entities, "devices": devices, "states": states}
    if "recorder" in hass.config.components:
        view["statistic_ids"] = await ask(
            {"type": "recorder/list_statistic_ids", "statistic_type": "mean"}
        )
    return view


def run_strategy(view: dict[str, Any], config: dict[str, Any]) -> Any:
    """The dashboard the strategy generates, with what the module registered."""
    if NODE is None:
        pytest.skip("node is not installed")
    hass = {k: v for k, v in view.items() if k != "statistic_ids"}
    run = subprocess.run(
        [NODE, str(RUNNER)],
        input=json.dumps(
            {
                "module": str(MODULE),
                "hass": hass,
                "statistic_ids": view.get("statistic_ids"),
                "config": config,
            },
            default=str,
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(run.stdout)


def cards(node: Any) -> Iterator[dict[str, Any]]:
    """Every card (anything with a type) in a dashboard, depth first."""
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from cards(value)
    elif isinstance(node, list):
        for item in node:
            yield from cards(item)

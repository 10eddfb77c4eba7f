"""Setting a rider up on a gateway: discovered over MQTT or typed, then scanned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from homeassistant.config_entries import SOURCE_MQTT, SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import pytest

from custom_components.ridebalance import config_flow
from custom_components.ridebalance.const import (
    CONF_GATEWAY,
    CONF_HEART_RATE,
    CONF_PEDALS,
    CONF_SOURCE,
    CONF_TOPIC_PREFIX,
    CONF_TRAINER,
    DOMAIN,
    SourceKind,
)
from custom_components.ridebalance.sim.rider import (
    SIM_HEART_RATE,
    SIM_PEDALS,
    SIM_TRAINER,
)
from tests.mqtt_broker import Broker, Listener, SetupMqtt, StartGateway

SCAN_S = 2.5


@pytest.fixture(autouse=True)
def _short_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_flow, "SCAN_SECONDS", SCAN_S)


async def through_the_scan(hass: HomeAssistant, result: Any) -> Any:
    """Let the scan listen to the gateway, then return the step that follows."""
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "scan"
    await asyncio.sleep(SCAN_S + 0.5)
    return await hass.config_entries.flow.async_configure(result["flow_id"])


def offered(result: Any, key: str) -> list[str]:
    """The values a select field of a form offers."""
    for marker, selector in result["data_schema"].schema.items():
        if marker == key:
            return [option["value"] for option in selector.config["options"]]
    raise AssertionError(f"{key} is not in the form")


async def discovered_flow(hass: HomeAssistant, gateway_id: str) -> dict[str, Any]:
    """The discovery flow Home Assistant's MQTT started for a gateway."""
    for _ in range(100):
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN):
            if flow["context"].get("unique_id") == f"ridebalance/{gateway_id}":
                return dict(flow)
        await asyncio.sleep(0.1)
    raise AssertionError(f"gateway {gateway_id} was not discovered")


async def test_a_discovered_gateway_becomes_a_rider(
    hass: HomeAssistant,
    mosquitto: Broker,
    ha_mqtt: SetupMqtt,
    gateway_process: StartGateway,
    listen: Callable[..., Listener],
) -> None:
    """Retained status → discovery → confirm → scan through it → pick → riding."""
    listener = listen(mosquitto, "ridebalance/disc-pi/pages")
    gateway_process(mosquitto, "disc-pi")
    await listener.until(lambda: bool(listener.messages), what="the gateway's pages")
    await ha_mqtt(mosquitto)

    flow = await discovered_flow(hass, "disc-pi")
    assert flow["context"]["source"] == SOURCE_MQTT
    assert flow["step_id"] == "gateway_confirm"
    assert flow["context"]["title_placeholders"] == {"name": "disc-pi"}
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    result = await through_the_scan(hass, result)
    assert result["step_id"] == "pick"
    assert offered(result, CONF_PEDALS) == [str(SIM_PEDALS)]
    assert offered(result, CONF_TRAINER) == [str(SIM_TRAINER), "none"]
    assert offered(result, CONF_HEART_RATE) == [str(SIM_HEART_RATE), "none"]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_PEDALS: str(SIM_PEDALS),
            CONF_TRAINER: str(SIM_TRAINER),
            CONF_HEART_RATE: str(SIM_HEART_RATE),
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "ANT+ rider via disc-pi"
    assert result["data"] == {
        CONF_SOURCE: SourceKind.GATEWAY.value,
        CONF_GATEWAY: "disc-pi",
        CONF_TOPIC_PREFIX: "ridebalance",
        CONF_PEDALS: SIM_PEDALS,
        CONF_TRAINER: SIM_TRAINER,
        CONF_HEART_RATE: SIM_HEART_RATE,
    }
    entry = result["result"]
    assert entry.unique_id == "ridebalance/disc-pi"
    for _ in range(100):  # the entry hears the gateway's retained status
        if entry.runtime_data.source.diagnostics()["gateway"]["state"] == "online":
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the new rider never heard its gateway")

    # Reconfigure scans through the gateway again while the rider keeps riding.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await through_the_scan(hass, result)
    assert result["step_id"] == "pick"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PEDALS: str(SIM_PEDALS), CONF_TRAINER: "none", CONF_HEART_RATE: "none"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_TRAINER] is None
    assert entry.data[CONF_GATEWAY] == "disc-pi"
    await hass.async_block_till_done()  # the reload the reconfiguration started
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        ("ridebalance/pi/status", b"not json"),
        ("ridebalance/pi/status", b'{"format": 9}'),
        (
            "ridebalance/pi/status",
            b'{"format":1,"id":"other","state":"online","stick":"connected"}',
        ),
        ("ridebalance/a+b/status", b'{"format":1}'),
    ],
)
async def test_what_is_not_a_gateway_status_is_not_discovered(
    hass: HomeAssistant, topic: str, payload: bytes
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=MqttServiceInfo(
            topic=topic,
            payload=payload,
            qos=0,
            retain=True,
            subscribed_topic="ridebalance/+/status",
            timestamp=0.0,
        ),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_without_mqtt_the_gateway_step_says_what_to_add(
    hass: HomeAssistant,
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert "gateway" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_set_up"


async def test_a_typed_gateway_is_checked_before_scanning(
    hass: HomeAssistant,
    mosquitto: Broker,
    ha_mqtt: SetupMqtt,
    gateway_process: StartGateway,
    listen: Callable[..., Listener],
) -> None:
    """Bad names, a gateway never heard and one gone offline say so; then it works."""
    await ha_mqtt(mosquitto)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "gateway"}
    )
    assert result["step_id"] == "gateway"

    async def submit(gateway_id: str, prefix: str = "ridebalance") -> Any:
        return await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_GATEWAY: gateway_id, CONF_TOPIC_PREFIX: prefix}
        )

    assert (await submit("a/b"))["errors"] == {"base": "invalid_gateway"}
    assert (await submit("pi", "bad/+"))["errors"] == {"base": "invalid_gateway"}
    never = await submit("nobody-here")
    assert never["errors"] == {"base": "gateway_not_heard"}
    assert (
        never["description_placeholders"]["topic"] == "ridebalance/nobody-here/status"
    )

    listener = listen(mosquitto, "ridebalance/typed-pi/status")
    gone = gateway_process(mosquitto, "typed-pi")
    await listener.until(lambda: len(listener.messages) >= 2, what="the gateway online")
    gone.kill()
    gone.communicate()
    await listener.until(
        lambda: b"offline" in listener.messages[-1].payload, what="its last will"
    )
    offline = await submit("typed-pi")
    assert offline.get("errors") == {"base": "gateway_not_receiving"}, offline
    assert offline["description_placeholders"]["detail"].startswith("offline")

    gateway_process(mosquitto, "typed-pi")
    await listener.until(
        lambda: b'"simulated"' in listener.messages[-1].payload,
        what="the gateway back",
    )
    result = await submit(" typed-pi ")
    result = await through_the_scan(hass, result)
    assert result["step_id"] == "pick"
    assert offered(result, CONF_PEDALS) == [str(SIM_PEDALS)]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_PEDALS: str(SIM_PEDALS), CONF_TRAINER: "none", CONF_HEART_RATE: "none"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_GATEWAY] == "typed-pi"
    await hass.async_block_till_done()
    await hass.config_entries.async_unload(result["result"].entry_id)

"""The tests' MQTT listener misses nothing published once it exists."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
import pytest

from tests.mqtt_broker import Broker, Listener

pytestmark = pytest.mark.usefixtures("socket_enabled")


def heard(listener: Listener, topic: str) -> Callable[[], bool]:
    """Whether ``listener`` has had a message on ``topic``."""
    return lambda: bool(listener.on(topic))


@pytest.fixture
def publisher(mosquitto: Broker) -> Iterator[mqtt.Client]:
    """Another client, connected before any listener starts."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def test_a_message_sent_right_after_a_listener_starts_reaches_it(
    mosquitto: Broker, listen: Callable[..., Listener], publisher: mqtt.Client
) -> None:
    """Not retained, so only a subscription already in place can catch it.

    Subscribing without waiting for the broker's acknowledgement lost about one
    in five of these; twenty in a row make that a certain failure.
    """
    for index in range(20):
        topic = f"ridebalance/early/{index}"
        listener = listen(mosquitto, topic)
        publisher.publish(topic, b"first", qos=1).wait_for_publish(5)
        listener.wait_for(heard(listener, topic), 2, f"message {index}")

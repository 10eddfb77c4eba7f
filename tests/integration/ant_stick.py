"""An ANT+ rider on a simulated stick: fixtures shared by the ANT+ source tests.

Registered as a pytest plugin in tests/conftest.py, so every test module can ask
for ``stick`` (the stick alone) and ``ant_entry`` (a rider set up on it).
"""

from __future__ import annotations

from functools import partial

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.ridebalance as integration
from custom_components.ridebalance.ant.stick import ReceiverSettings
from custom_components.ridebalance.const import (
    CONF_DEVICE,
    CONF_HEART_RATE,
    CONF_PEDALS,
    CONF_SOURCE,
    CONF_TRAINER,
    DOMAIN,
    SourceKind,
)
from custom_components.ridebalance.sources.ant import AntSource
from tests.usbstick.backend import SimulatedStick

FAST = ReceiverSettings(
    stale_after_s=0.5,
    probe_timeout_s=0.3,
    batch_interval_s=0.05,
    batch_max_pages=16,
    backoff_initial_s=0.05,
    backoff_max_s=0.2,
    stop_timeout_s=1.0,
    usb_error_pause_s=0.01,
    reply_timeout_s=0.5,
)
PEDALS = 12345
HRM = 777
ISSUE_ID = "stick_ant_entry_id"


@pytest.fixture
def stick(monkeypatch: pytest.MonkeyPatch) -> SimulatedStick:
    """A simulated ANTUSB2 that pyusb finds, under openant's own USB driver."""
    return SimulatedStick().install(monkeypatch)


@pytest.fixture
def ant_entry(monkeypatch: pytest.MonkeyPatch) -> MockConfigEntry:
    """Pedals and a heart-rate strap paired, no trainer; the stick's short timings."""
    monkeypatch.setattr(integration, "AntSource", partial(AntSource, settings=FAST))
    return MockConfigEntry(
        domain=DOMAIN,
        title="ANT+ rider",
        unique_id="12345",
        data={
            CONF_SOURCE: SourceKind.ANT.value,
            CONF_DEVICE: "12345",
            CONF_PEDALS: PEDALS,
            CONF_TRAINER: None,
            CONF_HEART_RATE: HRM,
        },
        entry_id="ant_entry_id",
    )

"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

# Fixtures of an ANT+ rider on a fake stick and of a real MQTT broker (mosquitto),
# for every test module that needs one.
pytest_plugins = ["tests.integration.ant_stick", "tests.mqtt_broker"]

# The real ride files live beside the repository, never inside it.
SHARED_FIT = Path(__file__).resolve().parents[1].parent / "shared" / "fit"


@pytest.fixture
def shared_fit() -> Path:
    """The folder of real FIT rides, or skip when this checkout has none."""
    if not SHARED_FIT.is_dir():
        pytest.skip(f"real ride files not present at {SHARED_FIT}")
    return SHARED_FIT

"""Constants for RideBalance."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
import logging
from typing import Final

DOMAIN: Final = "ridebalance"
LOGGER = logging.getLogger(__package__)

CONF_SOURCE: Final = "source"
CONF_SPEED: Final = "speed"
CONF_DYNAMICS: Final = "cycling_dynamics"
CONF_SEED: Final = "seed"


class SourceKind(StrEnum):
    """Where a config entry's readings come from."""

    SIMULATOR = "simulator"
    ANT = "ant"
    GATEWAY = "gateway"
    ENTITIES = "entities"


# Entities never write state faster than this, whatever the sensors' rate.
PUBLISH_INTERVAL: Final = timedelta(seconds=1)

DEFAULT_SIM_SPEED: Final = 1.0
MAX_SIM_SPEED: Final = 120.0

# Home Assistant entities as a source (for a stick owned by another integration).
CONF_POWER_ENTITY: Final = "power_entity"
CONF_CADENCE_ENTITY: Final = "cadence_entity"
CONF_BALANCE_ENTITY: Final = "balance_entity"
CONF_BALANCE_SIDE: Final = "balance_side"
CONF_HEART_RATE_ENTITY: Final = "heart_rate_entity"

# The ANT+ stick as a source.
CONF_PEDALS: Final = "pedals"
CONF_TRAINER: Final = "trainer"
CONF_HEART_RATE: Final = "heart_rate"
CONF_DEVICE: Final = "device"

# A RideBalance gateway (an ANT+ stick elsewhere, over MQTT) as a source.
CONF_GATEWAY: Final = "gateway"
CONF_TOPIC_PREFIX: Final = "topic_prefix"

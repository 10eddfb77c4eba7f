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
CONF_SEED: Final = "seed"


class SourceKind(StrEnum):
    """Where a config entry's readings come from."""

    SIMULATOR = "simulator"
    ANT = "ant"
    ENTITIES = "entities"


# Entities never write state faster than this, whatever the sensors' rate.
PUBLISH_INTERVAL: Final = timedelta(seconds=1)

DEFAULT_SIM_SPEED: Final = 1.0
MAX_SIM_SPEED: Final = 120.0

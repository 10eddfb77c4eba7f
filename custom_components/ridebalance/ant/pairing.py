"""The rider's devices by ANT+ device number, and which pages are theirs.

One rule for the receiver (which pages it delivers) and the merger (which device
plays which part): a paired number matches one device, ``None`` accepts any
device of that type, and only the listened-to device types get through.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .pages import (
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
    DEVICE_TYPE_HEART_RATE,
    RawPage,
)

RIDER_DEVICE_TYPES: Final = frozenset(
    {DEVICE_TYPE_BICYCLE_POWER, DEVICE_TYPE_FITNESS_EQUIPMENT, DEVICE_TYPE_HEART_RATE}
)


class DeviceRole(StrEnum):
    """What a device is to the rider."""

    PEDALS = "pedals"
    TRAINER = "trainer"
    TRAINER_POWER = "trainer_power"
    """The trainer's own Bicycle Power channel: never taken for the pedals."""
    HEART_RATE = "heart_rate"
    OTHER = "other"
    """Someone else's sensor in range, or a second one of a kind."""


def number_matches(paired: int, page: RawPage) -> bool:
    """Whether a page comes from the device with the paired number.

    A number up to 65535 matches the 16-bit device number; a larger one matches
    the 20-bit number extended by the transmission type.
    """
    if paired > 0xFFFF:
        return paired == page.extended_device_number
    return paired == page.device_number


@dataclass(frozen=True, slots=True)
class Pairing:
    """Device numbers of the rider's pedals, trainer and heart-rate strap.

    ``None`` accepts any device of that type (the merger takes the first one
    seen). Pages of types outside ``device_types`` are not listened to.
    """

    pedals: int | None = None
    trainer: int | None = None
    heart_rate: int | None = None
    device_types: frozenset[int] = RIDER_DEVICE_TYPES

    def __post_init__(self) -> None:
        """A trainer's power channel shares its number; it cannot be the pedals."""
        if self.pedals is not None and self.pedals == self.trainer:
            raise ValueError("pedals and trainer cannot share a device number")

    def number_for(self, device_type: int) -> int | None:
        """The paired number for a device type (``None``: unpaired or unknown)."""
        return {
            DEVICE_TYPE_BICYCLE_POWER: self.pedals,
            DEVICE_TYPE_FITNESS_EQUIPMENT: self.trainer,
            DEVICE_TYPE_HEART_RATE: self.heart_rate,
        }.get(device_type)

    def accepts(self, page: RawPage) -> bool:
        """Whether a page comes from a device this pairing listens to."""
        if page.device_type not in self.device_types:
            return False
        paired = self.number_for(page.device_type)
        return paired is None or number_matches(paired, page)

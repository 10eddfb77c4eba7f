"""Who made an ANT+ device: manufacturer names and what a device says about itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from .pages import (
    COMMON_PAGE_MANUFACTURER,
    COMMON_PAGE_PRODUCT,
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
    DEVICE_TYPE_HEART_RATE,
    HeartRatePage,
    MalformedPage,
    ManufacturerPage,
    ProductPage,
    decode_page,
    extended_number,
)
from .pairing import DeviceRole

# ANT+ manufacturer ids, checked against the FIT profile's manufacturer table
# (FIT profile 21.218). Only brands a rider is likely to have on the bike.
MANUFACTURERS: dict[int, str] = {
    1: "Garmin",
    6: "SRM",
    7: "Quarq",
    9: "Saris (CycleOps)",
    32: "Wahoo Fitness",
    41: "Shimano",
    48: "Pioneer",
    51: "4iiii",
    60: "Rotor",
    67: "Bkool",
    69: "Stages Cycling",
    73: "Wattbike",
    86: "Elite",
    89: "Tacx",
    99: "Look",
    107: "Magene",
    116: "Thinkrider",
    121: "Kinetic",
    123: "Polar",
    260: "Zwift",
    263: "Favero Electronics",
    268: "SRAM",
}


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """What a device says about itself in its common pages."""

    manufacturer_id: int | None = None
    model_number: int | None = None
    hardware_revision: int | None = None
    software_version: str | None = None
    serial_number: int | None = None

    @property
    def manufacturer(self) -> str | None:
        """The brand (:func:`manufacturer_name`), once the device named it."""
        if self.manufacturer_id is None:
            return None
        return manufacturer_name(self.manufacturer_id)


def short_brand(manufacturer: str) -> str:
    """ "Favero Electronics" → "Favero": the name riders use for the brand."""
    return manufacturer.split(" ", 1)[0]


def manufacturer_name(manufacturer_id: int) -> str:
    """The brand of an ANT+ manufacturer id, or the id when it is not listed."""
    return MANUFACTURERS.get(manufacturer_id, f"Manufacturer {manufacturer_id}")


def describe_heard(device_type: int, pages: Mapping[int, bytes]) -> str | None:
    """ "Favero Electronics, serial 482253, software 4.2": a device heard in a scan.

    From its identity pages: power meters and trainers send common pages 0x50
    (manufacturer) and 0x51 (serial, software); heart-rate straps name their
    manufacturer in their own page 2. ``None`` when none of them was heard.
    """
    parts: list[str] = []
    named = 2 if device_type == DEVICE_TYPE_HEART_RATE else COMMON_PAGE_MANUFACTURER
    for number in (named, COMMON_PAGE_PRODUCT):
        data = pages.get(number)
        if data is None:
            continue
        try:
            page = decode_page(device_type, data)
        except MalformedPage:
            continue
        if isinstance(page, ManufacturerPage | HeartRatePage):
            if page.manufacturer_id is not None:
                parts.append(manufacturer_name(page.manufacturer_id))
        elif isinstance(page, ProductPage):
            if page.serial_number is not None:
                parts.append(f"serial {page.serial_number}")
            parts.append(f"software {page.software_version}")
    return ", ".join(parts) or None


PROFILE_NAMES: Final[Mapping[int, str]] = {
    DEVICE_TYPE_BICYCLE_POWER: "bicycle_power",
    DEVICE_TYPE_FITNESS_EQUIPMENT: "fitness_equipment",
    DEVICE_TYPE_HEART_RATE: "heart_rate",
    121: "speed_cadence",
    122: "cadence",
    123: "speed",
}


@dataclass(frozen=True, slots=True)
class AntDevice:
    """One ANT+ device on the air: its type, number and transmission type."""

    device_type: int
    device_number: int
    transmission_type: int

    @property
    def profile(self) -> str:
        """Profile name of the device type (``"unknown"`` for other types)."""
        return PROFILE_NAMES.get(self.device_type, "unknown")

    @property
    def extended_device_number(self) -> int:
        """The device's 20-bit number (:func:`~.pages.extended_number`)."""
        return extended_number(self.device_number, self.transmission_type)


ROLE_LABELS: Final[Mapping[DeviceRole, str]] = {
    DeviceRole.PEDALS: "pedals",
    DeviceRole.TRAINER: "trainer",
    DeviceRole.HEART_RATE: "heart rate strap",
}
PROFILE_LABELS: Final[Mapping[int, str]] = {
    DEVICE_TYPE_BICYCLE_POWER: "power",
    DEVICE_TYPE_FITNESS_EQUIPMENT: "fitness equipment",
    DEVICE_TYPE_HEART_RATE: "heart rate",
}


def device_name(
    role: DeviceRole, device_type: int, device_number: int, manufacturer: str | None
) -> str:
    """ "Favero pedals 12345": brand, part and number, as a rider tells them apart."""
    label = ROLE_LABELS.get(role, PROFILE_LABELS.get(device_type, "ANT+"))
    brand = "ANT+" if manufacturer is None else short_brand(manufacturer)
    return f"{brand} {label} {device_number}"

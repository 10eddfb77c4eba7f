"""Who made an ANT+ device: manufacturer names and what a device says about itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
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
    Page,
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
    """What a device says about itself in its identity pages."""

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


def identity_of(
    page: Page, device_number: int | None, known: DeviceIdentity
) -> DeviceIdentity | None:
    """``known`` with what a decoded page says about its device taken in; None
    for pages that say nothing about it.

    Common pages 0x50 (manufacturer, model, hardware) and 0x51 (software, serial);
    a heart-rate strap's page 2 (manufacturer, the serial's upper 16 bits over
    the low 16 bits of ``device_number``) and page 3 (model, hardware, software).
    Without ``device_number`` page 2 gives no serial: half of one would be wrong.
    A field a page sets to None is one the device says it does not have (page
    0x51 with no serial).
    """
    if isinstance(page, ManufacturerPage):
        return replace(
            known,
            manufacturer_id=page.manufacturer_id,
            model_number=page.model_number,
            hardware_revision=page.hardware_revision,
        )
    if isinstance(page, ProductPage):
        return replace(
            known,
            software_version=page.software_version,
            serial_number=page.serial_number,
        )
    if not isinstance(page, HeartRatePage):
        return None
    if page.page_number == 2:
        if device_number is None:
            return replace(known, manufacturer_id=page.manufacturer_id)
        upper = page.serial_upper or 0
        return replace(
            known,
            manufacturer_id=page.manufacturer_id,
            serial_number=(upper << 16) | (device_number & 0xFFFF),
        )
    if page.page_number == 3:
        software = page.software_version
        return replace(
            known,
            model_number=page.model_number,
            hardware_revision=page.hardware_version,
            # As the strap sends it: one byte, no ANT+ decimal convention.
            software_version=None if software is None else str(software),
        )
    return None


def short_brand(manufacturer: str) -> str:
    """ "Favero Electronics" → "Favero": the name riders use for the brand."""
    return manufacturer.split(" ", 1)[0]


def manufacturer_name(manufacturer_id: int) -> str:
    """The brand of an ANT+ manufacturer id, or the id when it is not listed."""
    return MANUFACTURERS.get(manufacturer_id, f"Manufacturer {manufacturer_id}")


_IDENTITY_PAGES: Final = (COMMON_PAGE_MANUFACTURER, COMMON_PAGE_PRODUCT)
# A strap's own pages 2 and 3 come last: the label keeps naming it by them.
_HEART_RATE_IDENTITY_PAGES: Final = (*_IDENTITY_PAGES, 2, 3)


def describe_heard(
    device_type: int, pages: Mapping[int, bytes], device_number: int | None = None
) -> str | None:
    """ "Favero Electronics, serial 482253, software 4.2": a device heard in a scan.

    From its identity pages (latest raw page by page number), read as a tracker
    reads them (:func:`identity_of`): common pages 0x50 and 0x51, and a
    heart-rate strap's pages 2 and 3. A strap's serial needs its
    ``device_number``. ``None`` when no page named anything.
    """
    numbers = (
        _HEART_RATE_IDENTITY_PAGES
        if device_type == DEVICE_TYPE_HEART_RATE
        else _IDENTITY_PAGES
    )
    identity = DeviceIdentity()
    for number in numbers:
        data = pages.get(number)
        if data is None:
            continue
        try:
            page = decode_page(device_type, data)
        except MalformedPage:
            continue
        identity = identity_of(page, device_number, identity) or identity
    parts = [
        part
        for part in (
            identity.manufacturer,
            None
            if identity.serial_number is None
            else f"serial {identity.serial_number}",
            None
            if identity.software_version is None
            else f"software {identity.software_version}",
        )
        if part is not None
    ]
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

"""The page encoder: byte-exact pages, the inverse of the decoders."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from custom_components.ridebalance.ant.encode import encode_page
from custom_components.ridebalance.ant.pages import (
    BatteryPage,
    BatteryStatus,
    HeartRatePage,
    MalformedPage,
    PowerOnlyPage,
    ProductPage,
    TorqueEffectivenessPage,
    decode_page,
)

from .page_streams import DEVICE_TYPES, payloads

POWER, FEC, HR = 11, 17, 120


@pytest.mark.parametrize(
    ("device_type", "hex_bytes"),
    [
        (POWER, "10 01 00 00 00 00 11 22"),
        (POWER, "10 01 B2 5A 11 22 00 00"),
        (POWER, "12 01 01 3C 00 08 9C 05"),
        (POWER, "13 FF C8 C8 FF FF FF FF"),
        (POWER, "13 05 91 95 64 FE FF FF"),
        (POWER, "01 AC 01 FF FF FF FB FF"),
        (POWER, "50 FF FF 03 07 01 0C 00"),
        (POWER, "51 FF FF 2A 15 CD 5B 07"),
        (POWER, "52 FF 02 13 00 00 80 13"),
        (FEC, "19 01 80 00 00 55 0A 00"),
        (FEC, "10 19 28 64 28 23 8C B5"),
        (FEC, "11 FF FF D2 18 FC 50 20"),
        (FEC, "1A 05 10 00 08 40 01 30"),
        (HR, "84 FF 00 04 00 08 10 3C"),
        (HR, "07 50 E6 22 00 04 05 46"),
    ],
)
def test_encoding_a_decoded_page_gives_the_same_bytes(
    device_type: int, hex_bytes: str
) -> None:
    data = bytes.fromhex(hex_bytes)
    assert encode_page(decode_page(device_type, data)) == data


def test_battery_operating_time_picks_a_resolution_that_fits() -> None:
    coarse = encode_page(BatteryPage(None, 3200, 3.0, BatteryStatus.OK))
    fine = encode_page(BatteryPage(None, 3202, 3.0, BatteryStatus.OK))
    assert coarse[7] & 0x80 == 0
    assert fine[7] & 0x80 == 0x80
    assert decode_page(POWER, fine) == BatteryPage(None, 3202, 3.0, BatteryStatus.OK)
    with pytest.raises(ValueError, match="multiple of 2"):
        encode_page(BatteryPage(None, 3201, 3.0, BatteryStatus.OK))


@pytest.mark.parametrize(
    "page",
    [
        PowerOnlyPage(1, 101, None, 90, 0, 0),
        PowerOnlyPage(1, 50, 50, 90, 0, 0),
        PowerOnlyPage(256, None, None, 90, 0, 0),
        TorqueEffectivenessPage(1, 100.5, None, None, None, None),
        TorqueEffectivenessPage(1, None, None, 20.0, None, 20.0),
        ProductPage(1, None, 0xFFFFFFFF),
        HeartRatePage(5, False, 0, 0, 60),
    ],
)
def test_unencodable_pages_are_refused(page: PowerOnlyPage) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case fails on its own field
        encode_page(page)


@given(st.sampled_from(DEVICE_TYPES), payloads())
def test_every_decoded_page_encodes_back_to_itself(
    device_type: int, data: bytes
) -> None:
    try:
        page = decode_page(device_type, data)
    except MalformedPage:
        return
    assert decode_page(device_type, encode_page(page)) == page

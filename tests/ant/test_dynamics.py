"""Cycling-dynamics pages: the ANT_NOTES.md vectors, edge cases and a fuzz."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ridebalance.ant.dynamics import (
    ForceAnglePage,
    PedalPositionPage,
    TorqueBarycentrePage,
)
from custom_components.ridebalance.ant.encode import encode_page
from custom_components.ridebalance.ant.pages import (
    MalformedPage,
    decode_page,
    page_to_dict,
)
from custom_components.ridebalance.model import RiderPosition

POWER = 11


def page(hex_bytes: str) -> object:
    return decode_page(POWER, bytes.fromhex(hex_bytes))


# --- ANT_NOTES.md vectors --------------------------------------------------------


def test_vector_right_force_angle() -> None:
    decoded = page("E0 FF 40 C0 FF FF FF FF")
    assert isinstance(decoded, ForceAnglePage)
    assert decoded.side == "right"
    assert decoded.start_deg == 90.0
    assert decoded.end_deg == 270.0
    assert decoded.average_torque_nm == pytest.approx(2047.97, abs=0.005)


def test_vector_force_angle_invalid_pair() -> None:
    decoded = page("E0 FF C0 C0 FF FF FF FF")
    assert isinstance(decoded, ForceAnglePage)
    assert decoded.start_deg is None
    assert decoded.end_deg is None
    # The peak pair is its own field: 0xFF 0xFF is a real (if odd) angle.
    assert decoded.peak_start_deg == pytest.approx(358.59, abs=0.01)


def test_left_force_angle_page_is_the_left_pedal() -> None:
    decoded = page("E1 07 F0 80 10 40 40 01")
    assert isinstance(decoded, ForceAnglePage)
    assert decoded.side == "left"
    assert decoded.event_count == 7
    assert decoded.start_deg == pytest.approx(337.5)  # starts before top dead centre
    assert decoded.end_deg == 180.0
    assert (decoded.peak_start_deg, decoded.peak_end_deg) == (22.5, 90.0)
    assert decoded.average_torque_nm == 10.0
    no_peak = page("E1 07 F0 80 C0 C0 40 01")
    assert isinstance(no_peak, ForceAnglePage)
    assert no_peak.peak_start_deg is None
    assert no_peak.start_deg == pytest.approx(337.5)


@pytest.mark.parametrize(
    ("position_byte", "position"),
    [
        ("80", RiderPosition.STANDING),
        ("00", RiderPosition.SEATED),
        ("40", RiderPosition.TRANSITION_TO_SEATED),
        ("C0", RiderPosition.TRANSITION_TO_STANDING),
    ],
)
def test_vector_rider_position(position_byte: str, position: RiderPosition) -> None:
    decoded = page(f"E2 FF {position_byte} FF FF FF FF FF")
    assert isinstance(decoded, PedalPositionPage)
    assert decoded.rider_position is position
    assert decoded.cadence_rpm is None


def test_fit_numbers_swap_standing_and_transition_to_seated() -> None:
    standing = page("E2 00 80 5A 00 00 00 00")
    sitting_down = page("E2 00 40 5A 00 00 00 00")
    assert isinstance(standing, PedalPositionPage)
    assert isinstance(sitting_down, PedalPositionPage)
    assert int(standing.rider_position) == 1  # FIT rider_position_type "standing"
    assert int(sitting_down.rider_position) == 2  # "transition_to_seated"
    assert standing.rider_position.standing
    assert not sitting_down.rider_position.standing


def test_vector_cadence_and_signed_pco() -> None:
    decoded = page("E2 FF FF 80 40 E0 FF FF")
    assert isinstance(decoded, PedalPositionPage)
    assert decoded.cadence_rpm == 128
    assert decoded.pco_right_mm == 64
    assert decoded.pco_left_mm == -32


def test_pco_invalid_marker_is_not_a_position() -> None:
    decoded = page("E2 01 00 5A 7F 80 FF FF")
    assert isinstance(decoded, PedalPositionPage)
    assert decoded.pco_right_mm is None
    assert decoded.pco_left_mm == -128


def test_vector_torque_barycentre() -> None:
    decoded = page("14 80 FF FF FF FF FF FF")
    assert isinstance(decoded, TorqueBarycentrePage)
    assert decoded.barycentre_deg == 94.0
    invalid = page("14 FF 00 00 00 00 00 00")
    assert isinstance(invalid, TorqueBarycentrePage)
    assert invalid.barycentre_deg is None


def test_json_view_names_the_position() -> None:
    view = page_to_dict(decode_page(POWER, bytes.fromhex("E2 03 80 5A FE 02 FF FF")))
    assert view == {
        "page": "pedal_position",
        "event_count": 3,
        "rider_position": "standing",
        "cadence_rpm": 90,
        "pco_right_mm": -2,
        "pco_left_mm": 2,
    }


@pytest.mark.parametrize("number", ["E0", "E1", "E2", "14"])
def test_short_page_is_malformed(number: str) -> None:
    with pytest.raises(MalformedPage, match="7 bytes"):
        page(f"{number} 00 00 00 00 00 00")


# --- fuzz --------------------------------------------------------------------------

DYNAMICS_NUMBERS = (0xE0, 0xE1, 0xE2, 0x14)


@st.composite
def dynamics_payloads(draw: st.DrawFn) -> bytes:
    """Dynamics page numbers with any body; now and then a wrong length."""
    first = draw(st.sampled_from(DYNAMICS_NUMBERS))
    size = draw(st.sampled_from((7, 7, 7, 7, 7, 7, 0, 3, 8, 11)))
    return bytes([first]) + draw(st.binary(min_size=size, max_size=size))


@settings(derandomize=True, max_examples=600)
@given(dynamics_payloads())
def test_fuzz_only_malformed_page_comes_out(data: bytes) -> None:
    try:
        decoded = decode_page(POWER, data)
    except MalformedPage:
        assert len(data) != 8
        return
    assert len(data) == 8
    view = page_to_dict(decoded)
    assert json.loads(json.dumps(view)) == view
    if isinstance(decoded, ForceAnglePage):
        for angle in (decoded.start_deg, decoded.end_deg, decoded.peak_start_deg):
            assert angle is None or 0.0 <= angle < 360.0
        assert 0.0 <= decoded.average_torque_nm < 2048.0
    elif isinstance(decoded, PedalPositionPage):
        for pco in (decoded.pco_left_mm, decoded.pco_right_mm):
            assert pco is None or -128 <= pco <= 126
    else:
        assert isinstance(decoded, TorqueBarycentrePage)
        angle = decoded.barycentre_deg
        assert angle is None or 30.0 <= angle <= 157.0


@settings(derandomize=True, max_examples=300)
@given(st.sampled_from(DYNAMICS_NUMBERS), st.binary(min_size=7, max_size=7))
def test_encoding_a_decoded_page_gives_it_back(number: int, body: bytes) -> None:
    decoded = decode_page(POWER, bytes([number]) + body)
    assert decode_page(POWER, encode_page(decoded)) == decoded


def test_encoder_refuses_a_pco_it_cannot_send() -> None:
    standing = PedalPositionPage(1, RiderPosition.STANDING, 90, 130, 0)
    with pytest.raises(ValueError, match="right PCO 130 mm"):
        encode_page(standing)

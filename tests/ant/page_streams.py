"""Realistic ANT+ page sequences for the tracker and merger tests."""

from __future__ import annotations

from hypothesis import strategies as st

from custom_components.ridebalance.ant.pages import RawPage

POWER, FEC, HR = 11, 17, 120
PEDALS, TRAINER, STRAP = 1001, 2002, 3003


def raw(t_s: float, device_type: int, number: int, hex_bytes: str) -> RawPage:
    return RawPage(t_s, device_type, number, 0x05, bytes.fromhex(hex_bytes))


def power_only(
    events: int,
    accumulated: int,
    *,
    pedal: int = 0xB2,
    cadence: int = 90,
    instantaneous: int = 0,
) -> str:
    data = bytes((0x10, events & 0xFF, pedal, cadence))
    data += (accumulated & 0xFFFF).to_bytes(2, "little")
    data += instantaneous.to_bytes(2, "little")
    return data.hex()


def fe_trainer(events: int, accumulated: int, cadence: int = 85) -> str:
    data = bytes((0x19, events & 0xFF, cadence))
    data += (accumulated & 0xFFFF).to_bytes(2, "little")
    return (data + bytes((0xC8, 0x00, 0x30))).hex()


def fe_general(heart_rate: int) -> str:
    return bytes((0x10, 25, 0, 0, 0x28, 0x23, heart_rate, 0x31)).hex()  # HR: strap


def hr_page(beat_count: int, bpm: int, beat_time: int = 0) -> str:
    return (
        bytes((0x04, 0xFF, 0, 0))
        + beat_time.to_bytes(2, "little")
        + bytes((beat_count & 0xFF, bpm))
    ).hex()


def pedal_ride(
    start_s: float,
    seconds: float,
    watts: int,
    *,
    pedal: int = 0xB2,
    cadence: int = 90,
    events: int = 0,
    accumulated: int = 0,
    number: int = PEDALS,
) -> list[RawPage]:
    """Power-only pages at 4 Hz, one event each, starting from the given counters."""
    pages = []
    for i in range(round(seconds * 4)):
        pages.append(
            raw(
                start_s + i * 0.25,
                POWER,
                number,
                power_only(
                    events + i, accumulated + i * watts, pedal=pedal, cadence=cadence
                ),
            )
        )
    return pages


DEVICE_TYPES = (11, 17, 120)


# Page numbers we decode, so random payloads reach the decoders' insides often.
KNOWN_FIRST_BYTES = (0x01, 0x10, 0x11, 0x12, 0x13, 0x19, 0x1A, 0x50, 0x51, 0x52)


HR_FIRST_BYTES = (0x00, 0x01, 0x02, 0x03, 0x04, 0x07, 0x84, 0x87, 0xD0, 0xD2)


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    """Mostly 8-byte pages starting with a page number we know; sometimes junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=12))
    first = draw(st.sampled_from(KNOWN_FIRST_BYTES + HR_FIRST_BYTES))
    return bytes([first]) + draw(st.binary(min_size=7, max_size=7))

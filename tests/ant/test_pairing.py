"""Pairing: which devices' pages are the rider's."""

from __future__ import annotations

import pytest

from custom_components.ridebalance.ant.pages import RawPage
from custom_components.ridebalance.ant.pairing import Pairing

from .page_streams import FEC, HR, PEDALS, POWER, STRAP, TRAINER, power_only, raw


def test_pairing_the_same_number_as_pedals_and_trainer_is_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        Pairing(pedals=TRAINER, trainer=TRAINER)


def test_a_paired_number_takes_one_device_and_an_unpaired_role_any() -> None:
    pairing = Pairing(pedals=PEDALS)
    assert pairing.accepts(raw(0.0, POWER, PEDALS, power_only(1, 100)))
    assert not pairing.accepts(raw(0.0, POWER, PEDALS + 1, power_only(1, 100)))
    assert pairing.accepts(raw(0.0, HR, STRAP, "04 00 00 00 00 04 05 8C"))
    assert not pairing.accepts(raw(0.0, 121, 7, "00" * 8))  # speed/cadence


def test_a_20_bit_number_needs_the_transmission_type_nibble() -> None:
    pairing = Pairing(pedals=0x3_0000 | PEDALS)
    page = raw(0.0, POWER, PEDALS, power_only(1, 100))  # transmission type 0x05
    assert not pairing.accepts(page)
    assert pairing.accepts(RawPage(0.0, POWER, PEDALS, 0x35, page.data))


def test_device_types_not_listened_to_are_dropped() -> None:
    pairing = Pairing(device_types=frozenset({POWER}))
    assert pairing.accepts(raw(0.0, POWER, PEDALS, power_only(1, 100)))
    assert not pairing.accepts(raw(0.0, FEC, TRAINER, "19 01 5A 00 00 FA 00 30"))

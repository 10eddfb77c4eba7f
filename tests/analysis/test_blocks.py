"""The CUSUM's decision interval: calibrated for a false-alarm rate, at its limits."""

from __future__ import annotations

import math

import pytest

from custom_components.ridebalance.analysis.blocks import calibrate_h, siegmund_arl0


@pytest.mark.parametrize("k", [0.0, 0.25, 0.5, 1.0])
def test_the_calibrated_interval_gives_the_asked_run_length(k: float) -> None:
    """One false alarm per 10 riding hours of 10 s blocks is 3600 blocks."""
    h = calibrate_h(k, 3600.0)
    assert 0 < h < 100
    assert siegmund_arl0(k, h) == pytest.approx(3600.0, rel=1e-6)


def test_a_larger_reference_value_needs_a_smaller_interval() -> None:
    assert calibrate_h(1.0, 3600.0) < calibrate_h(0.5, 3600.0) < calibrate_h(0, 3600)


def test_run_length_grows_with_the_interval_and_saturates() -> None:
    """No drift allowance: a random walk's b^2; a huge one: never a false alarm."""
    assert siegmund_arl0(0.0, 2.0) == pytest.approx((2.0 + 1.166) ** 2)
    assert siegmund_arl0(0.5, 4.0) > siegmund_arl0(0.5, 3.0)
    assert siegmund_arl0(5.0, 80.0) == math.inf

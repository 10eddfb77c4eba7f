"""The scripted demo ride has the shape the simulator promises a rider."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from custom_components.ridebalance.rides import read_ride
from custom_components.ridebalance.sim import (
    RideArrays,
    Rider,
    RideScript,
    Segment,
    Shift,
    demo_ride,
    generate,
)

MIN = 60.0


@pytest.fixture(scope="module")
def ride() -> RideArrays:
    """The demo ride, as the simulator source plays it."""
    return generate(demo_ride(), seed=0)


def _between(ride: RideArrays, start_min: float, end_min: float) -> np.ndarray:
    return (ride.t_s >= start_min * MIN) & (ride.t_s < end_min * MIN)


def test_demo_ride_lasts_an_hour_at_4_hz(ride: RideArrays) -> None:
    """About an hour of readings, four per second."""
    assert 60 * MIN <= ride.t_s[-1] <= 70 * MIN
    assert np.allclose(np.diff(ride.t_s), 0.25)


def test_effort_follows_the_script(ride: RideArrays) -> None:
    """Warm-up under 160 W, steady blocks near 210 W, surges above 380 W."""
    assert np.mean(ride.power_w[_between(ride, 0, 3)]) < 160
    assert np.mean(ride.power_w[_between(ride, 12, 18)]) == pytest.approx(210, abs=10)
    surge = np.array([label == "surge" for label in ride.labels])
    assert surge.any()
    assert ride.power_w.max() > 380


def test_easy_spinning_leans_further_left(ride: RideArrays) -> None:
    """The story's rider: 3-5 points more left when spinning easy."""
    easy = (ride.power_w > 0) & (ride.power_w < 130) & _between(ride, 18, 24)
    steady = _between(ride, 12, 18)
    lean = np.mean(ride.left_pct[easy]) - np.mean(ride.left_pct[steady])
    assert 3.0 <= lean <= 5.5


def test_cadence_sags_late_and_recovers(ride: RideArrays) -> None:
    """Cadence drops 8+ rpm from minute 42 at the same effort, back after 52."""
    early = np.mean(ride.cadence_rpm[_between(ride, 39, 42)])
    late = np.mean(ride.cadence_rpm[_between(ride, 46, 51)])
    after = np.mean(ride.cadence_rpm[_between(ride, 53, 58)])
    assert early - late >= 8
    assert abs(after - early) < 3


def test_balance_drifts_slowly_after_40_minutes(ride: RideArrays) -> None:
    """The truth creeps 4 points left over eight minutes from minute 40."""
    before = ride.truth[_between(ride, 39, 40)]
    after = ride.truth[_between(ride, 49, 55)]
    assert np.nanmean(after) - np.nanmean(before) == pytest.approx(4.0, abs=0.1)
    ramp = ride.truth[_between(ride, 40, 48)]
    assert np.all(np.diff(ramp[np.isfinite(ramp)]) >= -1e-9)


def test_balance_noise_is_realistic() -> None:
    """Second-to-second SD of 3-5 points, correlated over seconds."""
    steady = generate(
        RideScript(segments=(Segment(3600, 200, 90),), rider=Rider()), seed=3
    )
    per_second = steady.left_pct[::4]
    assert 3.0 <= float(np.std(per_second)) <= 5.0
    assert 0.45 <= _lag(per_second, 1) <= 0.75
    assert _lag(per_second, 3) < 0.35


def _lag(x: np.ndarray, lag: int) -> float:
    a, b = x[:-lag], x[lag:]
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def test_balance_noise_is_like_real_pedals(shared_fit: Path) -> None:
    """Steady-riding balance noise of a real file and of the simulator agree."""
    real = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit")
    riding = np.isfinite(real.left_pct) & (real.power_w > 100) & (real.cadence_rpm > 50)
    left = np.where(riding, real.left_pct, np.nan)
    # Remove changes of effort and position: residual from a 1-minute mean.
    kernel = np.ones(61)
    sums = np.convolve(np.nan_to_num(left), kernel, "same")
    counts = np.convolve(np.isfinite(left).astype(float), kernel, "same")
    residual = left - sums / np.maximum(counts, 1)
    sim = generate(RideScript(segments=(Segment(3600, 200, 90),)), seed=4)
    sim_left = sim.left_pct[::4]
    sim_residual = sim_left - np.convolve(sim_left, kernel, "same") / 61
    sim_residual = sim_residual[60:-60]
    assert float(np.nanstd(residual)) == pytest.approx(np.std(sim_residual), abs=0.8)
    assert _lag(residual, 1) == pytest.approx(_lag(sim_residual, 1), abs=0.15)
    assert _lag(residual, 3) == pytest.approx(_lag(sim_residual, 3), abs=0.15)


def test_coasting_shows_the_pedals_artefact(ride: RideArrays) -> None:
    """While coasting dual pedals report 0/100, which cleaning must drop."""
    coasting = ride.power_w == 0
    assert coasting.any()
    assert set(np.unique(ride.left_pct[coasting])) == {0.0}
    assert np.all(ride.cadence_rpm[coasting] == 0)


def test_same_seed_same_ride_other_seed_other_noise() -> None:
    """Reproducible rides for tests; fresh noise for each lap."""
    script = RideScript(
        segments=(Segment(120, 200, 90),), shifts=(Shift(60, 5.0),), rider=Rider()
    )
    a, b, c = generate(script, 1), generate(script, 1), generate(script, 2)
    assert np.array_equal(a.left_pct, b.left_pct)
    assert not np.array_equal(a.left_pct, c.left_pct)
    assert np.array_equal(a.truth, c.truth)


def test_samples_carry_none_for_unmeasured(ride: RideArrays) -> None:
    """Samples built from the arrays use None, never NaN."""
    script = RideScript(
        segments=(Segment(10, 0, 0),), rider=Rider(), coasting_artefacts=False
    )
    sample = next(generate(script).samples())
    assert sample.left_pct is None
    assert sample.power_w == 0.0

"""Any ride our writer encodes reads back within the FIT field resolution."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st
import numpy as np

from custom_components.ridebalance.rides import Ride, read_ride
from custom_components.ridebalance.rides.fit_writer import encode_fit

row = st.tuples(
    st.one_of(st.none(), st.floats(min_value=0, max_value=2500)),  # power
    # A whole 100/0 split reads as a coasting artefact, by the FIT convention.
    st.one_of(st.none(), st.floats(min_value=1, max_value=99)),  # left share
    st.one_of(st.none(), st.floats(min_value=0, max_value=200)),  # cadence
    st.one_of(st.none(), st.integers(min_value=30, max_value=220)),  # heart rate
    st.one_of(st.none(), st.floats(min_value=0, max_value=100)),  # TE left
    st.one_of(st.none(), st.floats(min_value=0, max_value=100)),  # PS right
)


def _col(rows: list[tuple[float | int | None, ...]], i: int) -> np.ndarray:
    return np.array([np.nan if r[i] is None else r[i] for r in rows], dtype=float)


@settings(max_examples=60, deadline=None)
@given(st.lists(row, min_size=1, max_size=40))
def test_round_trip_within_resolution(
    rows: list[tuple[float | int | None, ...]],
) -> None:
    power, left, cadence = _col(rows, 0), _col(rows, 1), _col(rows, 2)
    hr, te, ps = _col(rows, 3), _col(rows, 4), _col(rows, 5)
    ride = Ride.from_columns(
        np.arange(len(rows), dtype=float),
        power_w=power,
        left_pct=left,
        cadence_rpm=cadence,
        heart_rate_bpm=hr,
        te_left_pct=te,
        ps_right_pct=ps,
    )
    back = read_ride(Path("p.fit"), data=encode_fit(ride))
    assert len(back) == len(rows)

    def close(ours: np.ndarray, theirs: np.ndarray, tol: float) -> None:
        assert np.array_equal(np.isnan(ours), np.isnan(theirs))
        both = ~np.isnan(ours)
        assert np.all(np.abs(ours[both] - theirs[both]) <= tol)

    close(back.power_w, power, 0.5)
    close(back.cadence_rpm, cadence, 0.5)
    close(back.heart_rate_bpm, hr, 0.0)
    close(back.te_left_pct, te, 0.25)
    close(back.ps_right_pct, ps, 0.25)
    close(back.left_pct, left, 0.5)

"""write_csv: what the export looks like, and that the reader gets the ride back."""

from __future__ import annotations

import io

import numpy as np
import pytest

from custom_components.ridebalance.rides.csv_reader import read_csv_text
from custom_components.ridebalance.rides.csv_writer import CSV_COLUMNS, write_csv
from custom_components.ridebalance.rides.ride import Ride

NAN = float("nan")


def indoor_minute() -> Ride:
    """A 1 Hz trainer minute: pedals with TE/PS, the strap drops out for 3 s."""
    t = np.arange(60.0)
    heart_rate = np.full(60, 128.0)
    heart_rate[20:23] = np.nan  # strap lost contact
    return Ride.from_columns(
        t,
        power_w=200.0 + 10.0 * np.sin(t / 6.0),
        left_pct=np.full(60, 51.5),
        cadence_rpm=np.full(60, 88.0),
        heart_rate_bpm=heart_rate,
        te_left_pct=np.full(60, 74.5),
        te_right_pct=np.full(60, 76.0),
        ps_left_pct=np.full(60, 21.0),
        ps_right_pct=np.full(60, 22.5),
        file_format="csv",
    )


def test_export_reads_back_as_the_same_ride() -> None:
    ride = indoor_minute()
    out = io.StringIO()
    write_csv(out, ride)
    back = read_csv_text(out.getvalue())
    assert len(back) == 60
    for name in CSV_COLUMNS:
        attr = "t_s" if name == "time_s" else name
        np.testing.assert_allclose(
            getattr(back, attr), getattr(ride, attr), rtol=1e-5, equal_nan=True
        )


def test_cells_are_short_and_not_measured_is_empty() -> None:
    """Whole numbers without ".0", fractions to 6 significant digits, gaps empty."""
    ride = Ride.from_columns(
        [0.0, 1.0, 2.0],
        power_w=[250.0, 251.25, NAN],
        left_pct=[52.0, 51.333333333, 50.0],
        cadence_rpm=[90.0, 91.0, NAN],
        heart_rate_bpm=[NAN, NAN, NAN],
    )
    out = io.StringIO()
    write_csv(out, ride)
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert lines[1] == "0,250,52,90,,,,,"
    assert lines[2] == "1,251.25,51.3333,91,,,,,"
    assert lines[3] == "2,,50,,,,,,"
    # The gaps read back as "not measured", not as zeros.
    back = read_csv_text(out.getvalue())
    assert np.isnan(back.power_w[2])
    assert np.isnan(back.heart_rate_bpm).all()


def test_a_chosen_set_of_columns() -> None:
    """Only the asked-for columns, in the asked-for order."""
    out = io.StringIO()
    write_csv(out, indoor_minute(), columns=("time_s", "left_pct", "power_w"))
    lines = out.getvalue().splitlines()
    assert lines[0] == "time_s,left_pct,power_w"
    assert lines[1] == "0,51.5,200"
    assert len(lines) == 61


def test_an_unknown_column_is_refused() -> None:
    with pytest.raises(AttributeError):
        write_csv(io.StringIO(), indoor_minute(), columns=("time_s", "watts"))

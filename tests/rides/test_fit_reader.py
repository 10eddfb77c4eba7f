"""Reading real FIT rides: the balance masks, metadata and every error path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from custom_components.ridebalance.model import PowerSource
from custom_components.ridebalance.rides import (
    CorruptHeaderError,
    NoBalanceError,
    NoPowerError,
    NotCyclingError,
    RideFileError,
    RideFileWarning,
    TruncatedFileError,
    read_ride,
)


def test_vector_pedals_balance_is_right_share_with_side_bit(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge810-vector-pedals.fit")
    assert ride.sport == "cycling"
    assert ride.balance_side == "right"
    assert (ride.manufacturer, ride.device) == ("garmin", "edge810")
    assert len(ride) == 4700
    assert ride.duration_s == 4699
    # 4470 records carry a sided balance; 31 coasting 100/0 artefacts are dropped.
    assert ride.balance_artefacts == 31
    assert np.isfinite(ride.left_pct).sum() == 4470 - 31
    # Record 100 holds raw 193 = right bit + 65 % right, i.e. 35 % left.
    assert ride.left_pct[100] == pytest.approx(35.0)
    assert ride.right_pct[100] == pytest.approx(65.0)
    shares = ride.left_pct[np.isfinite(ride.left_pct)]
    assert shares.min() > 0
    assert shares.max() < 100
    assert ride.indoor is None  # sub-sport "generic" does not say


def test_head_unit_summary_decoded_from_raw_session(shared_fit: Path) -> None:
    summary = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit").head_unit_summary
    assert summary is not None
    assert summary.balance_raw == 37676
    assert summary.balance_side == "right"
    assert summary.right_pct == pytest.approx(49.08)
    assert summary.left_pct == pytest.approx(50.92)
    assert summary.avg_power_w == 196
    assert summary.normalized_power_w == 264
    assert (summary.te_left_pct, summary.te_right_pct) == (79.5, 78.5)
    assert (summary.ps_left_pct, summary.ps_right_pct) == (23.0, 23.0)
    assert summary.total_timer_s == pytest.approx(8789.138)


def test_p1_pedals_te_ps_scale_and_outdoor_flag(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit")
    assert ride.sub_sport == "road"
    assert ride.indoor is False
    te = ride.te_left_pct[np.isfinite(ride.te_left_pct)]
    ps = ride.ps_right_pct[np.isfinite(ride.ps_right_pct)]
    # Scale 2: half-percent steps, never the 0xFF marker read as 127.5 %.
    assert np.all(te * 2 == np.round(te * 2))
    assert te.min() >= 0
    assert te.max() <= 100
    assert ps.min() >= 0
    assert ps.max() <= 100
    assert 75 < float(np.mean(te)) < 84


def test_pauses_are_off_the_timer_clock(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit")
    summary = ride.head_unit_summary
    assert summary is not None
    assert summary.total_timer_s is not None
    # Wall clock spans the stops at cafes; the timer clock matches the head unit.
    assert ride.duration_s > summary.total_timer_s + 1000
    assert ride.timer_t_s[-1] == pytest.approx(summary.total_timer_s, abs=3)


def test_user_flag_overrides_indoor(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge810-vector-pedals.fit", indoor=True)
    assert ride.indoor is True


def test_no_side_bit_is_side_unknown_and_not_used(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "wahoo-elemnt-no-side-bit.fit")
    assert ride.balance_side == "unknown"
    assert not ride.has_balance
    assert np.isfinite(ride.unsided_balance_pct).sum() > 1000
    assert ride.has_power
    with pytest.raises(NoBalanceError, match="side unknown"):
        ride.require_balance()
    samples = list(ride.to_samples())
    assert all(s.left_pct is None for s in samples)


def test_wahoo_bolt_short_reads_with_power_but_side_unknown(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "wahoo-bolt-short.fit")
    assert len(ride) == 132
    assert ride.manufacturer == "wahoo_fitness"
    assert ride.balance_side == "unknown"
    assert ride.head_unit_summary is not None
    assert ride.head_unit_summary.normalized_power_w == 243
    with pytest.raises(NoBalanceError, match="side unknown"):
        ride.require_balance()


def test_no_power_ride(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge820-bike-no-power.fit")
    assert ride.sport == "cycling"
    assert ride.indoor is False  # commuting
    assert not ride.has_power
    with pytest.raises(NoPowerError, match="no power"):
        ride.require_balance()


def test_run_is_not_a_ride(shared_fit: Path) -> None:
    with pytest.raises(NotCyclingError, match="running") as info:
        read_ride(shared_fit / "fenix5-run-not-cycling.fit")
    assert info.value.sport == "running"


def test_corrupt_header_names_the_problem(shared_fit: Path) -> None:
    with pytest.raises(CorruptHeaderError, match=r"byte 771.*magic"):
        read_ride(shared_fit / "corrupt-header.fit")


def test_truncated_is_refused_by_default(shared_fit: Path) -> None:
    with pytest.raises(TruncatedFileError, match="3 missing"):
        read_ride(shared_fit / "truncated-eof.fit")


def test_truncated_allowed_reads_what_is_there_with_a_warning(
    shared_fit: Path, tmp_path: Path
) -> None:
    # The sample truncated file is a run, so it stops at the sport check once read.
    with (
        pytest.warns(RideFileWarning, match="truncated"),
        pytest.raises(NotCyclingError),
    ):
        read_ride(shared_fit / "truncated-eof.fit", allow_truncated=True)
    # A ride cut short keeps the records before the cut.
    data = (shared_fit / "edge810-vector-pedals.fit").read_bytes()
    cut = tmp_path / "cut.fit"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(RideFileWarning, match="truncated"):
        ride = read_ride(cut, allow_truncated=True)
    assert 2000 < len(ride) < 2500
    assert ride.warnings
    assert "truncated" in ride.warnings[0]
    assert ride.has_balance


def test_header_checks(tmp_path: Path, shared_fit: Path) -> None:
    good = bytearray((shared_fit / "edge530-powertap-p1-pedals.fit").read_bytes())
    cases = {
        "size.fit": (0, 13, "13 bytes"),
        "magic.fit": (9, ord("X"), "magic"),
        "crc.fit": (12, good[12] ^ 0xFF, "CRC"),
    }
    for name, (offset, value, message) in cases.items():
        bad = bytearray(good)
        bad[offset] = value
        (tmp_path / name).write_bytes(bytes(bad))
        with pytest.raises(CorruptHeaderError, match=message):
            read_ride(tmp_path / name)
    (tmp_path / "tiny.fit").write_bytes(b"\x0e\x10")
    with pytest.raises(CorruptHeaderError, match="cut short"):
        read_ride(tmp_path / "tiny.fit")


def test_damaged_data_crc_is_an_error(tmp_path: Path, shared_fit: Path) -> None:
    data = bytearray((shared_fit / "wahoo-bolt-short.fit").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "crc.fit").write_bytes(bytes(data))
    with pytest.raises(RideFileError, match="decoding failed"):
        read_ride(tmp_path / "crc.fit")


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    (tmp_path / "ride.gpx").write_text("<gpx/>")
    with pytest.raises(RideFileError, match="not a FIT file"):
        read_ride(tmp_path / "ride.gpx")
    with pytest.raises(RideFileError, match="cannot read"):
        read_ride(tmp_path / "absent.fit")


def test_fit_detected_by_content_not_name(tmp_path: Path, shared_fit: Path) -> None:
    renamed = tmp_path / "export.dat"
    renamed.write_bytes((shared_fit / "wahoo-bolt-short.fit").read_bytes())
    assert len(read_ride(renamed)) == 132


def test_to_samples_carry_file_resolution_values(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit")
    samples = list(ride.to_samples())
    assert len(samples) == int(ride.timer_running.sum())
    with_balance = [s for s in samples if s.left_pct is not None]
    assert len(with_balance) == 6058
    first = with_balance[0]
    assert first.power_source is PowerSource.FILE
    assert first.right_pct == pytest.approx(100 - first.left_pct)  # type: ignore[operator]
    assert all(s.power_source is None for s in samples if s.power_w is None)

"""Reading real FIT rides: the balance masks, metadata and every error path."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from custom_components.ridebalance.rides import (
    CorruptHeaderError,
    NoBalanceError,
    NoPowerError,
    NotCyclingError,
    RideFileError,
    RideFileWarning,
    TruncatedFileError,
    read_ride,
    read_rides,
)
from custom_components.ridebalance.rides.fit_reader import parse_header
from custom_components.ridebalance.rides.fit_writer import encode_fit
from custom_components.ridebalance.rides.summary import session_figures

from . import fit_files
from .fit_files import START, chained_newest_first, triathlon


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


def test_running_records_keep_the_files_resolution(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit")
    running = ride.running()
    assert len(running) == int(ride.timer_running.sum())
    assert int(np.isfinite(running.left_pct).sum()) == 6058


def test_chained_files_saved_newest_first_are_two_rides(tmp_path: Path) -> None:
    data, early, late = chained_newest_first()
    path = tmp_path / "chained.fit"
    path.write_bytes(data)
    found = read_rides(path)
    assert [len(r) for r in found.rides] == [len(late), len(early)]
    assert [r.start_time for r in found.rides] == [late.start_time, early.start_time]
    for ride in found.rides:
        assert np.all(np.diff(ride.t_s) > 0)  # each on its own clock
        assert ride.head_unit_summary is not None
        figures = session_figures(ride)
        assert figures.timer_s == pytest.approx(len(ride), abs=1)
    left = [float(np.nanmean(r.left_pct)) for r in found.rides]
    assert left == pytest.approx([51.0, 47.0], abs=0.3)
    assert len({r.ride_id for r in found.rides}) == 2


def test_a_big_step_back_in_one_file_starts_a_new_ride(tmp_path: Path) -> None:
    early, late = fit_files.ride(700, seed=8), fit_files.ride(500, seed=9)
    late_start = fit_files.START + timedelta(hours=2)
    # One file (one header), the later ride's messages first.
    data = fit_files.wrap(
        fit_files.body(encode_fit(late, start_time=late_start))
        + fit_files.body(encode_fit(early))
    )
    path = tmp_path / "appended.fit"
    path.write_bytes(data)
    rides = read_rides(path).rides
    assert [len(r) for r in rides] == [500, 700]
    assert all(np.all(np.diff(r.t_s) > 0) for r in rides)


def test_multisport_file_reads_its_cycling_session_and_names_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "triathlon.fit"
    path.write_bytes(triathlon())
    found = read_rides(path)
    assert [(r.sport, len(r)) for r in found.rides] == [("cycling", 1200)]
    assert found.rides[0].head_unit_summary is not None
    assert found.skipped == (
        "session 1: a swimming activity, not a ride",
        "session 3: a running activity, not a ride",
    )
    assert read_ride(path).sport == "cycling"


def test_a_file_of_only_other_sports_says_which(tmp_path: Path) -> None:
    swim = fit_files.ride(300, sport="swimming")
    run = fit_files.ride(300, sport="running", start=START + timedelta(hours=1))
    path = tmp_path / "brick.fit"
    path.write_bytes(
        fit_files.wrap(
            fit_files.body(encode_fit(swim)) + fit_files.body(encode_fit(run))
        )
    )
    with pytest.raises(NotCyclingError, match=r"swimming.*running") as info:
        read_rides(path)
    assert info.value.sport == "swimming"


def test_ride_identity_is_the_file_id_or_a_content_hash(
    shared_fit: Path, tmp_path: Path
) -> None:
    # Serial number and time created from the Edge 530's file_id message.
    edge = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit")
    assert edge.ride_id == "fit:3301972258:973710835"
    # Copied under another name, it is the same ride.
    copy = tmp_path / "copy.fit"
    copy.write_bytes((shared_fit / "edge530-powertap-p1-pedals.fit").read_bytes())
    assert read_ride(copy).ride_id == edge.ride_id
    # Without a serial number (0 = invalid): a hash of the bytes.
    no_serial = encode_fit(fit_files.ride(120), serial_number=0)
    (tmp_path / "a.fit").write_bytes(no_serial)
    (tmp_path / "b.fit").write_bytes(no_serial)
    a, b = read_ride(tmp_path / "a.fit"), read_ride(tmp_path / "b.fit")
    assert a.ride_id is not None
    assert a.ride_id.startswith("sha256:")
    assert a.ride_id == b.ride_id
    # Each cycling session of a multisport file is its own ride.
    (tmp_path / "tri.fit").write_bytes(triathlon())
    (bike,) = read_rides(tmp_path / "tri.fit").rides
    assert bike.ride_id is not None
    assert bike.ride_id.endswith("#2")  # the second session


def test_a_cut_ride_says_it_is_truncated(shared_fit: Path, tmp_path: Path) -> None:
    data = (shared_fit / "edge810-vector-pedals.fit").read_bytes()
    (tmp_path / "cut.fit").write_bytes(data[:-1])
    with pytest.warns(RideFileWarning):
        ride = read_ride(tmp_path / "cut.fit", allow_truncated=True)
    assert ride.truncated
    assert not read_ride(shared_fit / "edge810-vector-pedals.fit").truncated


def test_damage_before_the_cut_of_a_chain_is_still_caught(tmp_path: Path) -> None:
    data, _, _ = chained_newest_first()
    first_end = parse_header(data).end
    bad = bytearray(data[:-10])  # the second file is cut
    bad[first_end // 2] ^= 0x5A  # and the complete first file is damaged
    (tmp_path / "bad.fit").write_bytes(bytes(bad))
    with pytest.raises(RideFileError, match="CRC mismatch"):
        read_rides(tmp_path / "bad.fit", allow_truncated=True)

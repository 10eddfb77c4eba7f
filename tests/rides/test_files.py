"""Reading a ride file's bytes: by the size it states, past it when it grows."""

from __future__ import annotations

from pathlib import Path

from custom_components.ridebalance.rides.files import read_checked


def test_a_file_is_read_whole_whatever_size_it_states(tmp_path: Path) -> None:
    ride = tmp_path / "ride.csv"
    ride.write_bytes(b"time_s,power_w\n" + b"0,200\n" * 50_000)
    assert read_checked(ride) == ride.read_bytes()
    (tmp_path / "empty.csv").write_bytes(b"")
    assert read_checked(tmp_path / "empty.csv") == b""
    # A kernel file states 0 bytes and still holds some.
    status = Path("/proc/self/status")
    assert read_checked(status).startswith(b"Name:")

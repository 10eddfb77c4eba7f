"""Reading a ride file's bytes: by the size it states, past it when it grows;
refused with the reason the system gave."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from custom_components.ridebalance.rides.files import FileRefused, read_checked


def test_a_file_is_read_whole_whatever_size_it_states(tmp_path: Path) -> None:
    ride = tmp_path / "ride.csv"
    ride.write_bytes(b"time_s,power_w\n" + b"0,200\n" * 50_000)
    assert read_checked(ride) == ride.read_bytes()
    (tmp_path / "empty.csv").write_bytes(b"")
    assert read_checked(tmp_path / "empty.csv") == b""
    # A kernel file states 0 bytes and still holds some.
    status = Path("/proc/self/status")
    assert read_checked(status).startswith(b"Name:")


def test_a_missing_file_is_said_not_to_exist(tmp_path: Path) -> None:
    with pytest.raises(FileRefused, match=r"^the file or the link's target does not"):
        read_checked(tmp_path / "gone.fit")


def test_a_link_loop_is_named_as_such_not_as_missing(tmp_path: Path) -> None:
    (tmp_path / "a.fit").symlink_to(tmp_path / "b.fit")
    (tmp_path / "b.fit").symlink_to(tmp_path / "a.fit")
    with pytest.raises(FileRefused) as caught:
        read_checked(tmp_path / "a.fit")
    assert str(caught.value) == (f"cannot reach it ({os.strerror(errno.ELOOP)})")


def test_a_file_used_as_a_folder_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("private notes\n")
    with pytest.raises(FileRefused) as caught:
        read_checked(tmp_path / "notes.txt" / "ride.fit")
    assert str(caught.value) == f"cannot reach it ({os.strerror(errno.ENOTDIR)})"
    assert "private" not in str(caught.value)
    assert str(tmp_path) not in str(caught.value)

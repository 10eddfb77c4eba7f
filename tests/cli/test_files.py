"""Files the command line does not read: a FIFO, a device, a file over the cap."""

from __future__ import annotations

from collections.abc import Callable
import os
from pathlib import Path

import pytest

from custom_components.ridebalance.rides.files import MAX_FILE_BYTES

from .conftest import run

NOT_REGULAR = "not a regular file (a folder, FIFO or device)"
TOO_BIG = "67 MB; ride files over 64 MB are not read"


def _fifo(folder: Path) -> tuple[Path, str]:
    os.mkfifo(folder / "ride.fit")
    return folder / "ride.fit", f"cannot read ride.fit: {NOT_REGULAR}"


def _device(folder: Path) -> tuple[Path, str]:
    (folder / "zero.fit").symlink_to("/dev/zero")
    return folder / "zero.fit", f"cannot read zero.fit: {NOT_REGULAR}"


def _sparse(folder: Path) -> tuple[Path, str]:
    with (folder / "huge.csv").open("wb") as handle:  # sparse: no disk is used
        handle.truncate(MAX_FILE_BYTES + 1)
    return folder / "huge.csv", f"cannot read huge.csv: {TOO_BIG}"


@pytest.mark.timeout(30)  # a FIFO opened to read would wait for a writer
@pytest.mark.parametrize("make", [_fifo, _device, _sparse], ids=lambda f: f.__name__)
@pytest.mark.parametrize("command", ["analyze", "baseline", "compare"])
def test_a_file_that_is_not_a_ride_file_is_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], tuple[Path, str]],
    command: str,
) -> None:
    """Refused before anything is read: one line, exit 1, no hang, no memory."""
    bad, reason = make(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("time_s,power_w,left_pct\n0,200,49\n")
    argv = {
        "analyze": ["analyze", str(bad)],
        "baseline": ["analyze", str(other), "--baseline", str(bad)],
        "compare": ["compare", "--indoor", str(bad), "--outdoor", str(other)],
    }[command]

    code, text = run(*argv)

    assert code == 1
    assert text == ""
    assert capsys.readouterr().err == f"ridebalance {argv[0]}: {reason}\n"

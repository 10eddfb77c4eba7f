"""The command line as a program: usage errors, exit status, the wrapper script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custom_components.ridebalance.cli import main


def test_usage_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["analyze", "x.fit", "--power-floor", "-5"])
    assert info.value.code == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "--seconds", "abc"],
        ["scan", "--seconds", "0"],
        ["analyze", "x.fit", "--power-floor", "many"],
        ["decode", "--device-type", "toaster", "00"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_wrapper_script_runs_in_the_callers_folder(tmp_path: Path) -> None:
    import subprocess

    script = Path(__file__).resolve().parents[2] / "scripts" / "ridebalance"
    (tmp_path / "ride.csv").write_text("time_s,power_w,left_pct\n0,200,52\n1,210,52\n")
    done = subprocess.run(
        [str(script), "analyze", "ride.csv", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["figures"]["balance_left_pct"] == pytest.approx(52.0)


def test_runs_as_a_module(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``python -m custom_components.ridebalance.cli`` exits with main's status."""
    import runpy

    monkeypatch.setattr("sys.argv", ["ridebalance", "decode", "hr", "zz"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("custom_components.ridebalance.cli", run_name="__main__")
    assert info.value.code == 1
    assert "not hexadecimal" in capsys.readouterr().err

"""Reading the rides given on the command line: the progress bar, the baseline."""

from __future__ import annotations

from datetime import timedelta
import io
import json
from pathlib import Path
import shutil
import subprocess

import numpy as np
import pytest

from custom_components.ridebalance.analysis import AnalysisSettings
from custom_components.ridebalance.cli import Progress
from custom_components.ridebalance.cli.rides import analyze_rides, learn_baseline
from custom_components.ridebalance.rides import NoPowerError, Ride
from custom_components.ridebalance.rides.fit_writer import encode_fit
from custom_components.ridebalance.sim import Rider
from tests.rides import fit_files
from tests.rides.fit_files import START, chained_newest_first, duathlon, triathlon

from .conftest import PNG_MAGIC, ride_csv, run


def test_progress_bar_draws_on_request() -> None:
    stream = io.StringIO()
    bar = Progress(2, enabled=True, stream=stream)
    bar.step("a.fit")
    bar.step("b.fit")
    drawn = stream.getvalue()
    assert "1/2 a.fit" in drawn
    assert drawn.endswith("\n")
    assert "[" + "#" * 24 + "]" in drawn
    quiet = io.StringIO()
    Progress(1, enabled=False, stream=quiet).step("a.fit")
    assert quiet.getvalue() == ""


def test_baseline_learns_each_ride_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same ride twice (or a copy) is learnt once, and the rider is told."""
    monday = ride_csv(tmp_path / "monday.csv", Rider(), seed=1)
    copy = tmp_path / "monday-copy.csv"
    shutil.copy(monday, copy)
    tuesday = ride_csv(tmp_path / "tuesday.csv", Rider(), seed=2)
    fragment = tmp_path / "fragment.csv"
    fragment.write_text("time_s,power_w,left_pct\n0,200,49\n1,210,50\n2,205,49\n")
    baseline, notes = learn_baseline(
        [monday, copy, tuesday, monday, fragment],
        AnalysisSettings(),
        allow_truncated=False,
        progress=Progress(5, enabled=False),
    )
    assert baseline.sessions == 2
    assert notes[:2] == [
        "monday-copy.csv: already imported",
        "monday.csv: already imported",
    ]
    assert notes[2].startswith("fragment.csv: only 2 s of riding")

    code, _ = run(
        "analyze", str(tuesday), "--baseline", str(monday), str(monday), "--json"
    )
    assert code == 0
    assert capsys.readouterr().err == (
        "ridebalance analyze: --baseline: monday.csv: already imported; not learnt\n"
    )


def test_analyze_reports_each_cycling_session_of_a_multisport_file(
    tmp_path: Path,
) -> None:
    """Bike, run, bike: both rides analysed with their own balance, the run named."""
    path = tmp_path / "duathlon.fit"
    path.write_bytes(duathlon())
    doc = json.loads(run("analyze", str(path), "--json")[1])
    rides = doc["rides"]
    assert [r["ride"]["start_time"] for r in rides] == [
        START.isoformat(),
        (START + timedelta(minutes=40)).isoformat(),
    ]
    # Each ride's balance is its own (written 47 % and 52 % left).
    assert rides[0]["figures"]["balance_left_pct"] == pytest.approx(47.0, abs=0.5)
    assert rides[1]["figures"]["balance_left_pct"] == pytest.approx(52.0, abs=0.5)
    assert rides[1]["figures"]["timer_s"] == pytest.approx(899.0, abs=1.0)
    assert doc["skipped"] == ["session 2: a running activity, not a ride"]
    # The top level stays the first ride, as for a file of one ride.
    assert doc["figures"] == rides[0]["figures"]
    assert "file" not in rides[0]

    code, table = run("analyze", str(path))
    assert code == 0
    assert "=== Ride 1 of 2: started 2026-03-14 07:00 UTC, cycling" in table
    assert "=== Ride 2 of 2: started 2026-03-14 07:40 UTC" in table
    assert table.count("Balance by power band") == 2
    assert "Skipped: session 2: a running activity, not a ride" in table


def test_analyze_splits_a_chained_file_into_its_rides(tmp_path: Path) -> None:
    """Two whole files appended (the later ride first): two rides, two reports."""
    data, early, late = chained_newest_first()
    path = tmp_path / "chained.fit"
    path.write_bytes(data)
    script = Path(__file__).resolve().parents[2] / "scripts" / "ridebalance"
    done = subprocess.run(
        [str(script), "analyze", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    doc = json.loads(done.stdout)
    assert [r["ride"]["start_time"] for r in doc["rides"]] == [
        str(late.start_time and late.start_time.isoformat()),
        str(early.start_time and early.start_time.isoformat()),
    ]
    assert [r["ride"]["records"] for r in doc["rides"]] == [len(late), len(early)]
    assert [r["figures"]["balance_left_pct"] for r in doc["rides"]] == [
        pytest.approx(51.0, abs=0.5),
        pytest.approx(47.0, abs=0.5),
    ]
    assert doc["warnings"] == []
    assert doc["skipped"] == []

    plot = tmp_path / "chained.png"
    code, table = run("analyze", str(path), "--plot", str(plot))
    assert code == 0
    assert table.count("=== Ride ") == 2
    second = tmp_path / "chained-2.png"
    assert f"Plot written to {second}" in table
    assert second.read_bytes().startswith(PNG_MAGIC)


def test_analyze_of_one_ride_keeps_its_shape(tmp_path: Path) -> None:
    """A triathlon has one ride: no headings; the swim and run are named."""
    tri = tmp_path / "tri.fit"
    tri.write_bytes(triathlon())
    doc = json.loads(run("analyze", str(tri), "--json")[1])
    assert doc["ride"]["sport"] == "cycling"
    assert len(doc["rides"]) == 1
    assert doc["rides"][0]["analysis"] == doc["analysis"]
    assert doc["skipped"] == [
        "session 1: a swimming activity, not a ride",
        "session 3: a running activity, not a ride",
    ]
    table = run("analyze", str(tri))[1]
    assert "=== Ride" not in table
    assert "Skipped: session 1: a swimming activity, not a ride" in table


def test_a_ride_without_power_beside_others_is_named_as_skipped(
    tmp_path: Path,
) -> None:
    """A chained file whose later ride had no power meter paired."""
    t = np.arange(900, dtype=float)
    unpowered = Ride.from_columns(
        t,
        cadence_rpm=np.full(900, 85.0),
        heart_rate_bpm=np.full(900, 120.0),
        indoor=True,
        start_time=START + timedelta(hours=3),
    )
    path = tmp_path / "two.fit"
    path.write_bytes(encode_fit(fit_files.ride(900)) + encode_fit(unpowered))
    doc = json.loads(run("analyze", str(path), "--json")[1])
    assert len(doc["rides"]) == 1
    (reason,) = doc["skipped"]
    assert reason.endswith("the ride has no power readings")

    alone = tmp_path / "alone.fit"
    alone.write_bytes(encode_fit(unpowered) + encode_fit(unpowered))
    with pytest.raises(NoPowerError, match="no ride of the file has power readings"):
        analyze_rides(alone, AnalysisSettings(), None, allow_truncated=False)


def test_compare_learns_each_side_as_the_import_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same ride twice, a copy and a two-minute warm-up add nothing to a side."""
    trainer = ride_csv(tmp_path / "trainer.csv", Rider(), seed=3)
    copy = tmp_path / "trainer-copy.csv"
    shutil.copy(trainer, copy)
    warmup = tmp_path / "warmup.csv"
    warmup.write_text(
        "time_s,power_w,left_pct,cadence_rpm\n"
        + "".join(f"{t},180,50,90\n" for t in range(120))
    )
    road = ride_csv(tmp_path / "road.csv", Rider(), seed=4)

    code, text = run(
        "compare", "--indoor", str(trainer), "--outdoor", str(road), "--json"
    )
    assert code == 0
    once = json.loads(text)
    capsys.readouterr()
    code, text = run(
        "compare",
        "--indoor",
        str(trainer),
        str(trainer),
        str(copy),
        str(warmup),
        "--outdoor",
        str(road),
        "--json",
    )
    assert code == 0
    again = json.loads(text)

    assert again["bands"] == once["bands"]
    assert again["indoor"] == once["indoor"]
    notes = capsys.readouterr().err.splitlines()
    assert notes[:2] == [
        "ridebalance compare: --indoor: trainer.csv: already imported; not learnt",
        "ridebalance compare: --indoor: trainer-copy.csv: already imported; not learnt",
    ]
    assert notes[2].startswith("ridebalance compare: --indoor: warmup.csv: only 119 s")
    assert len(notes) == 3

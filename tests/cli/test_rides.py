"""Reading the rides given on the command line: the progress bar, the baseline."""

from __future__ import annotations

import io
import json
from pathlib import Path
import shutil

import pytest

from custom_components.ridebalance.analysis import AnalysisSettings
from custom_components.ridebalance.cli import Progress
from custom_components.ridebalance.cli.rides import learn_baseline
from custom_components.ridebalance.sim import Rider
from tests.rides.fit_files import chained_newest_first, triathlon

from .conftest import ride_csv, run


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


def test_analyze_names_what_else_a_file_holds(tmp_path: Path) -> None:
    tri = tmp_path / "tri.fit"
    tri.write_bytes(triathlon())
    doc = json.loads(run("analyze", str(tri), "--json")[1])
    assert doc["ride"]["sport"] == "cycling"
    assert doc["warnings"] == [
        "skipped session 1: a swimming activity, not a ride",
        "skipped session 3: a running activity, not a ride",
    ]
    chained = tmp_path / "chained.fit"
    chained.write_bytes(chained_newest_first()[0])
    (note,) = json.loads(run("analyze", str(chained), "--json")[1])["warnings"]
    assert "1 more ride(s)" in note

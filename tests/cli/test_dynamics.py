"""Cycling dynamics on the command line: ``analyze`` against the head unit's own
session figures, and ``compare`` indoor against outdoor in plain words."""

from __future__ import annotations

from dataclasses import replace
import json
from pathlib import Path
import re
import subprocess

import pytest

from custom_components.ridebalance.rides.fit_writer import write_fit
from tests.dynamics_rides import dynamics_ride

from .conftest import run

TIMES = " \u00d7"  # the multiplication sign
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ridebalance"


def _rides(folder: Path) -> tuple[list[Path], list[Path]]:
    """Two trainer rides with few stands; two road rides standing three times as
    often, whose right foot moves 4 mm outwards after 40 minutes."""
    indoor, outdoor = [], []
    for i in range(2):
        ride, _ = dynamics_ride(seed=i, stands=5, indoor=True)
        write_fit(indoor_path := folder / f"trainer-{i}.fit", ride)
        indoor.append(indoor_path)
        ride, _ = dynamics_ride(
            seed=20 + i, stands=15, indoor=False, right_pco_shift_mm=4.0
        )
        write_fit(outdoor_path := folder / f"road-{i}.fit", ride)
        outdoor.append(outdoor_path)
    return indoor, outdoor


def test_analyze_json_matches_the_head_unit_session(tmp_path: Path) -> None:
    ride, truth = dynamics_ride(seed=7, stands=11)
    path = tmp_path / "vector.fit"
    write_fit(path, ride)
    # Through the real script once, as a rider runs it.
    done = subprocess.run(
        [str(SCRIPT), "analyze", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    ours, theirs = doc["dynamics"]["ride"], doc["head_unit_dynamics"]
    assert ours["standing_s"] == pytest.approx(theirs["time_standing_s"], abs=1.0)
    assert ours["stand_count"] == theirs["stand_count"] == truth.stand_count
    for side in ("left", "right"):
        assert ours[f"pco_{side}_mm"] == pytest.approx(
            theirs[f"pco_{side}_mm"], abs=1.0
        )
        start, end = theirs[f"phase_{side}"]
        assert ours[f"phase_{side}"]["start_deg"] == pytest.approx(start, abs=1.5)
        assert ours[f"phase_{side}"]["end_deg"] == pytest.approx(end, abs=1.5)
    assert set(doc["dynamics"]["bands"]) >= {"150-200 W", "300+ W"}


def test_analyze_table_shows_position_pco_and_phase(tmp_path: Path) -> None:
    ride, _ = dynamics_ride(seed=2, stands=6, right_pco_shift_mm=4.0)
    write_fit(path := tmp_path / "ride.fit", ride)
    code, text = run("analyze", str(path))
    assert code == 0
    assert "Cycling dynamics" in text
    assert "6 stands" in text
    assert "head unit: standing" in text
    assert "PCO         L -2.0 mm" in text
    assert "Power phase L 352°-228°" in text
    assert "Dynamics by power band" in text
    assert re.search(r"Drift: right PCO \+(3\.[6-9]|4\.[0-4]) mm from 0:40:00", text)


def test_a_ride_without_dynamics_says_nothing_of_them(tmp_path: Path) -> None:
    ride, _ = dynamics_ride(seed=2, minutes=20, stands=2)
    write_fit(path := tmp_path / "plain.fit", replace(ride, dynamics=None))
    code, text = run("analyze", str(path))
    assert code == 0
    assert "Cycling dynamics" not in text
    code, text = run("analyze", str(path), "--json")
    doc = json.loads(text)
    assert doc["dynamics"] is None
    assert doc["head_unit_dynamics"] is None


def test_compare_sets_indoor_against_outdoor_in_words(tmp_path: Path) -> None:
    indoor, outdoor = _rides(tmp_path)
    argv = ["compare", "--indoor", *map(str, indoor), "--outdoor", *map(str, outdoor)]
    code, text = run(*argv, "--json")
    assert code == 0
    doc = json.loads(text)["dynamics"]
    inside, outside = doc["indoor"]["ride"], doc["outdoor"]["ride"]
    assert outside["stands_per_hour"] == pytest.approx(
        3 * inside["stands_per_hour"], rel=0.05
    )
    words = doc["in_words"]
    assert any(w.startswith(f"Outdoors you stand 3.0{TIMES} as often") for w in words)
    assert "Outdoors your right PCO moves 4 mm outwards after 40 minutes" in " ".join(
        words
    )
    assert "Your left PCO is the same indoors and outdoors" in " ".join(words)
    assert {d["figure"] for d in doc["drifts"]["outdoor"]} >= {"pco_right_mm"}
    assert not [d for d in doc["drifts"]["indoor"] if d["figure"].startswith("pco")]
    code, table = run(*argv)
    assert code == 0
    assert "How you move (cycling dynamics), indoor against outdoor" in table
    assert f"- Outdoors you stand 3.0{TIMES} as often" in table


def test_compare_says_when_one_side_has_no_dynamics(tmp_path: Path) -> None:
    _, outdoor = _rides(tmp_path)
    ride, _ = dynamics_ride(seed=4, stands=5)
    write_fit(plain := tmp_path / "zwift.fit", replace(ride, dynamics=None))
    code, text = run(
        "compare", "--indoor", str(plain), "--outdoor", str(outdoor[0]), "--json"
    )
    assert code == 0
    doc = json.loads(text)["dynamics"]
    assert doc["indoor"] is None
    assert doc["in_words"][0] == (
        "The indoor rides carry no cycling dynamics to compare"
    )

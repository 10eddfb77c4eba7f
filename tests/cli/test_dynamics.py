"""Cycling dynamics on the command line: ``analyze`` against the head unit's own
session figures, and ``compare`` indoor against outdoor in plain words."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
import json
from pathlib import Path
import re
import subprocess
from typing import Any

import pytest

from custom_components.ridebalance.analysis import AnalysisSettings
from custom_components.ridebalance.analysis.dynamics import (
    DynamicsDrift,
    DynamicsFigures,
    DynamicsReport,
    PhaseFigures,
)
from custom_components.ridebalance.angles import angle_change_deg
from custom_components.ridebalance.cli.dynamics import (
    compare_dynamics,
    render_dynamics,
    render_dynamics_comparison,
)
from custom_components.ridebalance.cli.rides import analyze_rides
from custom_components.ridebalance.rides.fit_writer import write_fit
from tests.dynamics_rides import dynamics_ride
from tests.rides.fit_files import START

from .conftest import run

TIMES = " \u00d7"  # the multiplication sign
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ridebalance"


def _rides(folder: Path) -> tuple[list[Path], list[Path]]:
    """Two trainer rides with few stands; two road rides standing three times as
    often, whose right foot moves 4 mm outwards after 40 minutes. Each on its own
    day: a ride's identity is its head unit and start, and each is learnt once."""
    indoor, outdoor = [], []
    for i in range(2):
        ride, _ = dynamics_ride(seed=i, stands=5, indoor=True)
        write_fit(
            indoor_path := folder / f"trainer-{i}.fit",
            ride,
            start_time=START + timedelta(days=i),
        )
        indoor.append(indoor_path)
        ride, _ = dynamics_ride(
            seed=20 + i, stands=15, indoor=False, right_pco_shift_mm=4.0
        )
        write_fit(
            outdoor_path := folder / f"road-{i}.fit",
            ride,
            start_time=START + timedelta(days=10 + i),
        )
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
    # Both against how the ride was built (the head unit's figures are ours, as
    # written into the file: on their own they would prove nothing).
    assert ours["standing_s"] == pytest.approx(truth.standing_s, abs=1.0)
    assert theirs["time_standing_s"] == pytest.approx(truth.standing_s, abs=1.0)
    assert ours["stand_count"] == theirs["stand_count"] == truth.stand_count
    for side in ("left", "right"):
        built = getattr(truth, f"pco_{side}_mm")
        assert ours[f"pco_{side}_mm"] == pytest.approx(built, abs=1.0)
        assert theirs[f"pco_{side}_mm"] == pytest.approx(built, abs=1.0)
        start, end = truth.phases_deg[f"phase_{side}"]
        assert angle_change_deg(start, ours[f"phase_{side}"]["start_deg"]) == (
            pytest.approx(0, abs=1.5)
        )
        assert angle_change_deg(end, ours[f"phase_{side}"]["end_deg"]) == (
            pytest.approx(0, abs=1.5)
        )
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
    write_fit(
        plain := tmp_path / "zwift.fit",
        replace(ride, dynamics=None),
        start_time=START + timedelta(days=20),
    )
    code, text = run(
        "compare", "--indoor", str(plain), "--outdoor", str(outdoor[0]), "--json"
    )
    assert code == 0
    doc = json.loads(text)["dynamics"]
    assert doc["indoor"] is None
    assert doc["in_words"][0] == (
        "The indoor rides carry no cycling dynamics to compare"
    )


def _figures(**values: Any) -> DynamicsFigures:
    base: dict[str, Any] = {
        "seated_s": 3000.0,
        "standing_s": 300.0,
        "stand_count": 6,
        "stands_per_hour": 6.0,
        "pco_left_mm": -2.0,
        "pco_right_mm": 1.0,
        "phase_left": PhaseFigures(352.0, 228.0, 236.0),
        "phase_right": PhaseFigures(6.0, 233.0, 227.0),
        "peak_left": None,
        "peak_right": None,
        "balance_seated_left_pct": 50.5,
        "balance_standing_left_pct": 52.0,
    }
    return DynamicsFigures(**{**base, **values})


def _words(indoor: DynamicsFigures, outdoor: DynamicsFigures) -> list[str]:
    pooled = {"indoor": DynamicsReport(indoor), "outdoor": DynamicsReport(outdoor)}
    doc = compare_dynamics([], [], pooled)
    assert doc is not None
    words: list[str] = doc["in_words"]
    return words


@pytest.mark.parametrize(
    ("indoor", "outdoor", "said"),
    [
        (0.0, 0.0, "You stay seated indoors and outdoors"),
        (0.0, 5.0, "Outdoors you stand 5.0 times an hour; indoors you stay seated"),
        (9.0, 3.0, f"Outdoors you stand 3.0{TIMES} less often (3.0 vs 9.0"),
        (6.0, 6.5, "You stand about as often indoors and outdoors (6.5 vs 6.0"),
    ],
)
def test_how_often_you_stand_in_words(indoor: float, outdoor: float, said: str) -> None:
    words = _words(_figures(stands_per_hour=indoor), _figures(stands_per_hour=outdoor))
    assert words[0].startswith(said)


def test_foot_and_stroke_differences_in_words() -> None:
    words = _words(
        _figures(),
        _figures(
            pco_left_mm=-4.5,
            phase_left=PhaseFigures(358.0, 226.0, 228.0),
            phase_right=PhaseFigures(2.0, 240.0, 238.0),
            balance_standing_left_pct=48.0,
        ),
    )
    assert "Outdoors your left foot presses 2 mm further inwards (-4.5 vs -2.0 mm)" in (
        words
    )
    assert (
        "Outdoors your left power phase starts 6° later and ends at the same angle "
        "(arc 228° vs 236°)" in words
    )
    assert (
        "Outdoors your right power phase starts 4° earlier and ends 7° later "
        "(arc 238° vs 227°)" in words
    )
    assert (
        "Indoors, standing puts 1.5 points more on your left leg than seated "
        "(L 52.0 % vs 50.5 %)" in words
    )
    assert (
        "Outdoors, standing puts 2.5 points more on your right leg than seated "
        "(L 48.0 % vs 50.5 %)" in words
    )


def test_drifts_in_words(tmp_path: Path) -> None:
    ride, _ = dynamics_ride(seed=5, stands=4)
    write_fit(path := tmp_path / "ride.fit", ride)
    result = analyze_rides(path, AnalysisSettings(), True, False).rides[0]
    assert result.dynamics is not None
    drifted = replace(
        result,
        dynamics=replace(
            result.dynamics,
            drifts=(
                DynamicsDrift("standing_pct", 5.0, -12.0, 1800.0),
                DynamicsDrift("phase_left_end_deg", 228.0, 6.0, 2700.0),
                DynamicsDrift("pco_left_mm", -2.0, -3.0, 3000.0),
            ),
        ),
    )
    doc = compare_dynamics([drifted], [], {"indoor": result.dynamics, "outdoor": None})
    assert doc is not None
    assert doc["in_words"] == [
        "The outdoor rides carry no cycling dynamics to compare",
        "Indoors you stand 12 points less of the time after 30 minutes "
        "(1 of 1 indoor rides)",
        "Indoors your left power phase ends 6° later after 45 minutes "
        "(1 of 1 indoor rides)",
        "Indoors your left PCO moves 3 mm inwards after 50 minutes "
        "(1 of 1 indoor rides)",
    ]
    assert [d["figure"] for d in doc["drifts"]["indoor"]] == [
        "standing_pct",
        "phase_left_end_deg",
        "pco_left_mm",
    ]
    assert compare_dynamics([], [], {"indoor": None, "outdoor": None}) is None


def test_figures_not_measured_are_left_out(tmp_path: Path) -> None:
    empty = _figures(
        stands_per_hour=None,
        pco_left_mm=None,
        pco_right_mm=None,
        phase_left=None,
        phase_right=None,
        balance_standing_left_pct=None,
    )
    assert _words(empty, empty) == []
    pooled = {"indoor": DynamicsReport(empty), "outdoor": DynamicsReport(_figures())}
    table = render_dynamics_comparison(compare_dynamics([], [], pooled))
    phase_row = next(line for line in table if "phase left" in line)
    assert phase_row.split()[-2:] == ["-", "352°-228°"]
    assert render_dynamics_comparison(None) == []
    # In analyze: a PCO-only meter has no peak phase, a standing drift is in points.
    ride, _ = dynamics_ride(seed=5, stands=4)
    write_fit(path := tmp_path / "ride.fit", ride)
    result = analyze_rides(path, AnalysisSettings(), True, False).rides[0]
    assert result.dynamics is not None
    report = replace(
        result.dynamics,
        ride=replace(result.dynamics.ride, peak_left=None),
        drifts=(DynamicsDrift("standing_pct", 5.0, -12.0, 1800.0),),
    )
    text = "\n".join(render_dynamics(replace(result, dynamics=report)))
    assert "Peak phase  L -  R" in text
    assert "Drift: time standing -12.0 points from 0:30:00" in text
    assert "(5.0 %)" in text

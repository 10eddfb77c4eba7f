"""Detectors: what the rider is told, and when, on realistic simulated rides."""

from __future__ import annotations

import pytest

from custom_components.ridebalance.analysis import (
    AnalysisSettings,
    Baseline,
    Episode,
    EpisodeKind,
    SessionSummary,
    StreamingAnalyzer,
    analyze,
)
from custom_components.ridebalance.sim import (
    CadenceSag,
    Rider,
    RideScript,
    Segment,
    Shift,
    generate,
)

from .conftest import MIN, learnt

SPLIT_RIDER = Rider(left_below_pct=53.0, left_above_pct=50.0, split_w=150.0)


def _kind(summary: SessionSummary, kind: EpisodeKind) -> list[Episode]:
    return [e for e in summary.episodes if e.kind is kind]


@pytest.fixture(scope="module")
def flat_200() -> Baseline:
    """A 50/50 rider's baseline after two steady hours at 210 W."""
    return learnt([Segment(60 * MIN, 210, 90)])


@pytest.mark.parametrize(("points", "word"), [(5.0, "above"), (-5.0, "below")])
def test_five_point_shift_at_200_w_is_flagged_with_its_onset(
    flat_200: Baseline, points: float, word: str
) -> None:
    script = RideScript(
        (Segment(40 * MIN, 210, 90),), shifts=(Shift(20 * MIN, points),)
    )
    summary = analyze(generate(script, seed=11), baseline=flat_200)
    [ep] = _kind(summary, EpisodeKind.ASYMMETRY)
    assert ep.onset_s == pytest.approx(20 * MIN, abs=90)
    assert 20 * MIN < ep.detected_s < 20 * MIN + 240
    assert ep.magnitude == pytest.approx(points, abs=1.5)
    assert ep.power_band == "200-250 W"
    assert ep.reference == pytest.approx(50.0, abs=0.5)
    assert f"points {word} your usual 50." in ep.reason
    assert "at 200-250 W for" in ep.reason
    assert ep.end_s == summary.duration_s  # still going when the ride ended


def test_a_rider_leaning_left_when_easy_is_not_flagged_once_known() -> None:
    segments = [Segment(10 * MIN, 120.0 if i % 2 else 210.0, 88) for i in range(6)]
    script = RideScript(tuple(segments), rider=SPLIT_RIDER)
    ride = generate(script, seed=12)
    knows_them = learnt(segments, rider=SPLIT_RIDER)
    assert knows_them.expected_left_pct(120) == pytest.approx(53.0, abs=0.5)
    summary = analyze(ride, baseline=knows_them)
    assert _kind(summary, EpisodeKind.ASYMMETRY) == []
    easy = next(b for b in summary.power_bands if b.label == "100-150 W")
    assert easy.vs_baseline_pts == pytest.approx(0.0, abs=1.0)
    # The same ride against a 50/50 rider's history is flagged in the easy blocks.
    strangers = learnt(segments, rider=Rider())
    flagged = _kind(analyze(ride, baseline=strangers), EpisodeKind.ASYMMETRY)
    assert flagged
    assert {e.power_band for e in flagged} == {"100-150 W"}


def test_first_ride_without_history_flags_only_large_departures() -> None:
    big = RideScript((Segment(30 * MIN, 210, 90, left_pct=58.0),))
    small = RideScript((Segment(30 * MIN, 210, 90, left_pct=52.5),))
    assert _kind(analyze(generate(big, seed=13)), EpisodeKind.ASYMMETRY)
    assert not _kind(analyze(generate(small, seed=13)), EpisodeKind.ASYMMETRY)


def test_cooldown_holds_back_a_second_episode(flat_200: Baseline) -> None:
    script = RideScript(
        (Segment(40 * MIN, 210, 90),),
        shifts=(
            Shift(8 * MIN, 7.0, end_s=14 * MIN),
            Shift(18 * MIN, 7.0, end_s=26 * MIN),
        ),
    )
    ride = generate(script, seed=14)
    long_cooldown = AnalysisSettings(cooldown_s=20 * MIN)
    eps = _kind(analyze(ride, long_cooldown, flat_200), EpisodeKind.ASYMMETRY)
    assert len(eps) == 1
    first = eps[0]
    assert first.end_s is not None
    assert first.end_s == pytest.approx(14 * MIN, abs=120)
    no_cooldown = AnalysisSettings(cooldown_s=0)
    eps = _kind(analyze(ride, no_cooldown, flat_200), EpisodeKind.ASYMMETRY)
    assert len(eps) == 2
    assert eps[1].onset_s == pytest.approx(18 * MIN, abs=90)


def test_minimum_duration_delays_the_flag(flat_200: Baseline) -> None:
    script = RideScript((Segment(30 * MIN, 210, 90),), shifts=(Shift(10 * MIN, 8.0),))
    ride = generate(script, seed=15)
    quick = _kind(analyze(ride, baseline=flat_200), EpisodeKind.ASYMMETRY)[0]
    patient = _kind(
        analyze(ride, AnalysisSettings(min_duration_s=300), flat_200),
        EpisodeKind.ASYMMETRY,
    )[0]
    assert patient.detected_s - patient.onset_s >= 300
    assert patient.detected_s > quick.detected_s


def test_coasting_artefacts_and_pauses_do_not_raise_flags(flat_200: Baseline) -> None:
    # 100/0 while freewheeling every few minutes: never a one-sided flag.
    segments: list[Segment] = []
    for _ in range(6):
        segments += [Segment(4 * MIN, 210, 90), Segment(40, 0, 0, label="coast")]
    ride = generate(RideScript(tuple(segments)), seed=16)
    summary = analyze(ride, baseline=flat_200)
    assert summary.episodes == []
    assert summary.dropped.balance_coasting > 0


def test_a_long_pause_ends_an_open_episode(flat_200: Baseline) -> None:
    script = RideScript(
        (Segment(20 * MIN, 210, 90), Segment(5 * MIN, 0, 0), Segment(5 * MIN, 210, 90)),
        shifts=(Shift(8 * MIN, 7.0, end_s=25 * MIN),),
    )
    summary = analyze(generate(script, seed=17), baseline=flat_200)
    [ep] = _kind(summary, EpisodeKind.ASYMMETRY)
    assert ep.end_s == pytest.approx(20 * MIN, abs=10)


def test_cadence_sag_late_in_the_ride_is_flagged_when_it_starts() -> None:
    script = RideScript(
        (Segment(60 * MIN, 200, 90),),
        cadence_sags=(CadenceSag(40 * MIN, drop_rpm=10.0, ramp_s=120),),
    )
    live = StreamingAnalyzer(AnalysisSettings(cadence_low_rpm=70))
    started = []
    for sample in generate(script, seed=18).samples():
        started += [e for e in live.push(sample) if e.type == "started"]
        if sample.t_s == 50 * MIN:
            snap = live.snapshot()
            assert snap.cadence_drift_active
            assert snap.cadence_reference_rpm == pytest.approx(90, abs=1)
            assert snap.cadence_drift_rpm == pytest.approx(-10, abs=3)
    summary = live.finish()
    [ep] = _kind(summary, EpisodeKind.CADENCE_DRIFT)
    assert 40 * MIN <= ep.onset_s <= 43 * MIN
    assert ep.detected_s < 45 * MIN
    assert ep.magnitude == pytest.approx(-10, abs=3)
    assert "below your early-ride 90 rpm at 200-250 W" in ep.reason
    assert [e.episode.kind for e in started] == [EpisodeKind.CADENCE_DRIFT]


def test_time_outside_the_cadence_band_becomes_an_episode() -> None:
    script = RideScript(
        (
            Segment(10 * MIN, 200, 90),
            Segment(4 * MIN, 200, 72),
            Segment(6 * MIN, 200, 90),
        )
    )
    summary = analyze(generate(script, seed=19))
    [ep] = _kind(summary, EpisodeKind.CADENCE_OUT_OF_BAND)
    assert ep.onset_s == pytest.approx(10 * MIN, abs=10)
    assert ep.end_s == pytest.approx(14 * MIN, abs=10)
    assert ep.reason.startswith(
        "Cadence 72 rpm, below your target 80-100 rpm for 4 min"
    )
    high = RideScript((Segment(5 * MIN, 200, 90), Segment(3 * MIN, 200, 108)))
    [hi] = _kind(analyze(generate(high, seed=19)), EpisodeKind.CADENCE_OUT_OF_BAND)
    assert hi.magnitude == pytest.approx(8, abs=1.5)
    assert "above your target" in hi.reason


def test_balance_drift_onset_is_found_late_in_the_ride(flat_200: Baseline) -> None:
    script = RideScript(
        (Segment(90 * MIN, 210, 90),), shifts=(Shift(45 * MIN, 5.0, ramp_s=60),)
    )
    summary = analyze(generate(script, seed=20), baseline=flat_200)
    assert summary.balance_drift_onset_s is not None
    assert 45 * MIN <= summary.balance_drift_onset_s <= 50 * MIN
    assert summary.max_drift_pts == pytest.approx(5.0, abs=1.5)
    [ep] = _kind(summary, EpisodeKind.BALANCE_DRIFT)
    assert "more left than in your first 15 minutes" in ep.reason
    assert summary.balance_reference_left_pct == pytest.approx(50.0, abs=1.0)
    steady_ride = RideScript((Segment(90 * MIN, 210, 90),))
    quiet = analyze(generate(steady_ride, seed=20), baseline=flat_200)
    assert quiet.balance_drift_onset_s is None
    assert quiet.max_drift_pts is not None
    assert abs(quiet.max_drift_pts) < 2.5

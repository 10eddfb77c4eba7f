"""Detection benchmark: scripted rides with known truth, engine vs a naive rule.

Run: ``.venv/bin/python -m benchmarks.bench_detection`` (about a minute on 2 cores).

Rides (4 Hz, the simulator's noise: balance AR(1), SD ``--sd`` points, time
constant ``--tau`` seconds):

* steady two-hour rides at 120, 180 and 250 W with no shift: false alarms;
* one-hour rides at 180 and 250 W with a 2, 3 or 5 point left shift injected at
  minute 20: detection delay (from the injected onset to the alarm);
* a rider whose normal is 53 % left below 150 W and 50/50 above, riding
  alternating 120 W / 200 W blocks for two hours: false alarms, before and after
  the baseline has learnt two earlier rides.

Every engine run uses a baseline learnt from two earlier rides of the same rider
(different seeds), except the "unlearnt" row. The naive rule is the one riders
improvise: 10 s mean balance more than 3 points from 50 for 30 s, 2 minute
cooldown. Figures are printed, not asserted.

Reading the figures: the simulator's noise (SD 4 points, tau 2 s) matches the
real pedal files (see ``sim/script.py``). A harsher profile, correlated over
5 s, is printed too: there the long-run variance of the balance is
2 * tau * SD^2 = 160 points^2 s, so a 5-point step carries about
5^2 / (2 * 160) = 0.08 nats of evidence per second; at one false alarm per 10
hours, Lorden's asymptotic bound for any detector is of the order
ln(ARL0 * I) / I, about 100 s, and faster medians can only be bought with more
false alarms. The naive rule's short "delays" are mostly its own false alarms
(see the chance-alarm line).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
import math
import time

import numpy as np

from custom_components.ridebalance.analysis import (
    AnalysisSettings,
    Baseline,
    EpisodeKind,
    analyze,
    build_baseline,
)
from custom_components.ridebalance.sim import (
    RideArrays,
    Rider,
    RideScript,
    Segment,
    Shift,
    generate,
)

MIN = 60.0
SHIFT_AT_S = 20 * MIN


@dataclass(frozen=True, slots=True)
class Case:
    """One benchmark ride: what to generate and how to score it."""

    group: str
    power_w: float
    shift_pts: float
    seed: int
    hours: float
    rider: str  # "flat" (50/50) or "split" (53 % below 150 W)
    learnt: bool = True


@dataclass(frozen=True, slots=True)
class Outcome:
    """Score of one ride for the engine and the naive rule."""

    case: Case
    engine_false: int
    engine_delay_s: float | None
    naive_false: int
    naive_delay_s: float | None
    engine_alarms_s: tuple[float, ...]
    naive_alarms_s: tuple[float, ...]


def _rider(kind: str) -> Rider:
    if kind == "split":
        return Rider(left_below_pct=53.0, left_above_pct=50.0, split_w=150.0)
    return Rider()


def _segments(case: Case) -> tuple[Segment, ...]:
    total = case.hours * 3600.0
    if case.rider == "split":
        # Alternate easy and steady riding in 10-minute blocks.
        n = int(total // (10 * MIN))
        return tuple(
            Segment(10 * MIN, 120.0 if i % 2 == 0 else 200.0, 88.0) for i in range(n)
        )
    return (Segment(total, case.power_w, 90.0),)


def _script(case: Case, sd: float, tau: float) -> RideScript:
    shifts = (Shift(SHIFT_AT_S, case.shift_pts),) if case.shift_pts else ()
    return RideScript(
        segments=_segments(case),
        rider=_rider(case.rider),
        shifts=shifts,
        balance_sd_pct=sd,
        balance_tau_s=tau,
    )


def naive_alarms(
    ride: RideArrays, settings: AnalysisSettings
) -> list[tuple[float, float]]:
    """(alarm time s, signed departure) of the naive rule on 10 s block means."""
    t = ride.t_s - ride.t_s[0]
    ok = (ride.power_w >= settings.power_floor_w) & (ride.cadence_rpm > 0)
    ok &= ~np.isnan(ride.left_pct)
    blk = np.floor(t / 10.0).astype(np.intp)
    n = int(blk[-1]) + 1
    w = np.where(ok, ride.power_w, 0.0)
    sums = np.bincount(blk, weights=w * np.nan_to_num(ride.left_pct), minlength=n)
    weights = np.bincount(blk, weights=w, minlength=n)
    alarms: list[tuple[float, float]] = []
    run = 0
    last = -math.inf
    for i in range(n):
        if weights[i] <= 0:
            run = 0
            continue
        dev = sums[i] / weights[i] - 50.0
        run = run + 1 if abs(dev) > 3.0 else 0
        end = (i + 1) * 10.0
        if run >= 3 and end - last >= 120.0:
            alarms.append((end, dev))
            last = end
            run = 0
    return alarms


def _score(
    alarms: Sequence[tuple[float, float]], case: Case
) -> tuple[int, float | None]:
    """False alarms (before a shift, or with none) and delay of the first true one."""
    false = 0
    delay: float | None = None
    for t, sign in alarms:
        if case.shift_pts and t >= SHIFT_AT_S and sign * case.shift_pts > 0:
            if delay is None:
                delay = t - SHIFT_AT_S
        elif not case.shift_pts or t < SHIFT_AT_S:
            false += 1
    return false, delay


def run_case(case: Case, sd: float, tau: float, settings: AnalysisSettings) -> Outcome:
    """Generate, learn the baseline from two earlier rides, analyse, score."""
    baseline = Baseline(power_edges_w=settings.effective_power_edges())
    if case.learnt:
        prior = [
            replace_case(case, seed=case.seed * 100 + k, shift_pts=0.0) for k in (1, 2)
        ]
        baseline = build_baseline(
            (generate(_script(c, sd, tau), seed=c.seed) for c in prior),
            settings,
            baseline,
        )
    ride = generate(_script(case, sd, tau), seed=case.seed)
    summary = analyze(ride, settings, baseline)
    engine = [
        (e.detected_s, e.magnitude)
        for e in summary.episodes
        if e.kind is EpisodeKind.ASYMMETRY
    ]
    naive = naive_alarms(ride, settings)
    ef, ed = _score(engine, case)
    nf, nd = _score(naive, case)
    return Outcome(
        case, ef, ed, nf, nd, tuple(t for t, _ in engine), tuple(t for t, _ in naive)
    )


def chance_alarm(outcomes: list[Outcome], window_s: float, engine: bool) -> float:
    """Share of 2-minute windows (every 20 min) with an alarm on unshifted rides."""
    hits = total = 0
    for o in outcomes:
        if o.case.group != "steady":
            continue
        alarms = o.engine_alarms_s if engine else o.naive_alarms_s
        start = SHIFT_AT_S
        while start + window_s <= o.case.hours * 3600:
            total += 1
            hits += any(start <= t < start + window_s for t in alarms)
            start += SHIFT_AT_S
    return hits / total if total else math.nan


def replace_case(case: Case, **changes: float | int) -> Case:
    """A copy of ``case`` with some fields changed."""
    fields = {
        "group": case.group,
        "power_w": case.power_w,
        "shift_pts": case.shift_pts,
        "seed": case.seed,
        "hours": case.hours,
        "rider": case.rider,
        "learnt": case.learnt,
    }
    fields.update(changes)
    return Case(**fields)  # type: ignore[arg-type]


def _cases(seeds: int) -> list[Case]:
    cases: list[Case] = []
    for p in (120.0, 180.0, 250.0):
        cases.extend(
            Case("steady", p, 0.0, 1000 + int(p) * 10 + s, 2.0, "flat")
            for s in range(seeds)
        )
    for p in (180.0, 250.0):
        for pts in (2.0, 3.0, 5.0):
            cases.extend(
                Case("shift", p, pts, 5000 + int(p) * 10 + s, 1.0, "flat")
                for s in range(2 * seeds)
            )
    cases.extend(Case("split", 0.0, 0.0, 3000 + s, 2.0, "split") for s in range(seeds))
    cases.extend(
        Case("split", 0.0, 0.0, 3000 + s, 2.0, "split", learnt=False)
        for s in range(seeds)
    )
    return cases


def _pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):6.0f}" if values else "     -"


def report(outcomes: list[Outcome]) -> None:
    """Print delay and false-alarm tables, engine next to the naive rule."""
    print("\nDetection delay after the injected shift (s), shifted rides of 1 h")
    print(
        f"{'shift':>12} {'rides':>5} | {'engine median':>13} {'p90':>6} {'missed':>6} "
        f"| {'naive median':>12} {'p90':>6} {'missed':>6}"
    )
    for pts in (2.0, 3.0, 5.0):
        for p in (180.0, 250.0, None):
            sel = [
                o
                for o in outcomes
                if o.case.group == "shift"
                and o.case.shift_pts == pts
                and (p is None or o.case.power_w == p)
            ]
            ed = [o.engine_delay_s for o in sel if o.engine_delay_s is not None]
            nd = [o.naive_delay_s for o in sel if o.naive_delay_s is not None]
            where = f"{pts:g} pt @{p:g}W" if p else f"{pts:g} pt all"
            print(
                f"{where:>12} {len(sel):5d} | {_pct(ed, 50):>13} {_pct(ed, 90)} "
                f"{len(sel) - len(ed):6d} | {_pct(nd, 50):>12} {_pct(nd, 90)} "
                f"{len(sel) - len(nd):6d}"
            )
    print(
        "  chance of an alarm within 120 s of an arbitrary moment WITHOUT any shift: "
        f"engine {100 * chance_alarm(outcomes, 120, True):.1f} %, "
        f"naive {100 * chance_alarm(outcomes, 120, False):.1f} %"
    )
    print("\nFalse alarms per 10 hours of riding without a shift")
    print(f"{'rides':>26} {'hours':>6} | {'engine':>7} | {'naive':>7}")
    groups: list[tuple[str, Callable[[Outcome], bool]]] = [
        ("steady 120 W", lambda o: o.case.group == "steady" and o.case.power_w == 120),
        ("steady 180 W", lambda o: o.case.group == "steady" and o.case.power_w == 180),
        ("steady 250 W", lambda o: o.case.group == "steady" and o.case.power_w == 250),
        ("steady, all", lambda o: o.case.group == "steady"),
        ("before shifts (20 min)", lambda o: o.case.group == "shift"),
        ("53/50 rider, learnt", lambda o: o.case.group == "split" and o.case.learnt),
        (
            "53/50 rider, unlearnt",
            lambda o: o.case.group == "split" and not o.case.learnt,
        ),
    ]
    for name, pred in groups:
        sel = [o for o in outcomes if pred(o)]
        hours = sum(
            o.case.hours if o.case.group != "shift" else SHIFT_AT_S / 3600 for o in sel
        )
        ef = sum(o.engine_false for o in sel)
        nf = sum(o.naive_false for o in sel)
        print(
            f"{name:>26} {hours:6.1f} | {10 * ef / hours:7.2f} | {10 * nf / hours:7.2f}"
        )


PROFILES: tuple[tuple[float, float], ...] = ((4.0, 2.0), (4.0, 5.0))
"""(SD points, tau s): the simulator's noise (as real pedals), and a harsher one."""


def main(argv: Sequence[str] | None = None) -> None:
    """Parse options, run every case on a process pool, print the tables."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10, help="rides per steady case")
    ap.add_argument("--sd", type=float, default=None, help="balance noise SD, points")
    ap.add_argument("--tau", type=float, default=None, help="noise time constant, s")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--h", type=float, default=None, help="CUSUM decision interval")
    ap.add_argument("--threshold", type=float, default=None, help="points")
    args = ap.parse_args(argv)
    settings = AnalysisSettings()
    if args.h is not None:
        settings = replace(settings, cusum_h=args.h)
    if args.threshold is not None:
        settings = replace(settings, asymmetry_threshold_pts=args.threshold)
    profiles: tuple[tuple[float, float], ...] = PROFILES
    if args.sd is not None or args.tau is not None:
        profiles = ((args.sd or 4.0, args.tau or 2.0),)
    cases = _cases(args.seeds)
    print(
        f"threshold {settings.asymmetry_threshold_pts:g} pts, h "
        f"{settings.cusum_h or 'calibrated'} for one false alarm per "
        f"{settings.false_alarm_interval_h:g} h, "
        f"min duration {settings.min_duration_s:g} s, "
        f"cooldown {settings.cooldown_s:g} s"
    )
    with ProcessPoolExecutor(args.workers) as pool:
        for sd, tau in profiles:
            start = time.perf_counter()
            n = len(cases)
            outcomes = list(
                pool.map(run_case, cases, [sd] * n, [tau] * n, [settings] * n)
            )
            print(
                f"\n=== {n} rides, balance noise SD {sd:g} points, "
                f"tau {tau:g} s ({time.perf_counter() - start:.0f} s) ==="
            )
            report(outcomes)


if __name__ == "__main__":
    main()

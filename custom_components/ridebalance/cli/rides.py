"""The rides named on the command line: read, analysed and learnt from.

The analysis itself is the shared one (:func:`..rides.analyze.analyze_ride`,
:mod:`..analysis.compare`), and so is the rule of which rides teach a baseline
(:func:`..rides.learn.rides_to_learn`), so the CLI and the integration give the
same figures.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
import sys
from typing import IO, Any
import warnings

from ..analysis import AnalysisSettings, Baseline, SessionSummary
from ..analysis.compare import compare_baselines
from ..analysis.dynamics import DynamicsReport
from ..analysis.totals import default_baseline
from ..rides import NoPowerError, Ride, RideFileWarning, read_rides
from ..rides.analyze import analyze_ride, analyze_ride_dynamics
from ..rides.learn import ride_context, rides_to_learn
from ..rides.summary import SessionFigures, session_figures


class Progress:
    """A one-line progress bar on stderr (only when enabled)."""

    def __init__(
        self, total: int, enabled: bool, stream: IO[str] | None = None
    ) -> None:
        self.total = max(total, 1)
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0

    def step(self, label: str) -> None:
        """Count one item finished and redraw."""
        self.done += 1
        if not self.enabled:
            return
        width = 24
        filled = round(width * self.done / self.total)
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def progress_enabled(args: argparse.Namespace) -> bool:
    return bool(args.progress) or sys.stderr.isatty()


def settings_from_args(args: argparse.Namespace) -> AnalysisSettings:
    kwargs: dict[str, Any] = {}
    if args.power_floor is not None:
        kwargs["power_floor_w"] = args.power_floor
    if args.ftp is not None:
        kwargs["ftp_w"] = args.ftp
    return AnalysisSettings(**kwargs)


@dataclass(frozen=True, slots=True)
class Analysis:
    """One analysed ride: the file, our session figures and the engine's summary."""

    path: Path
    ride: Ride
    figures: SessionFigures
    summary: SessionSummary
    has_baseline: bool = False
    dynamics: DynamicsReport | None = None


@dataclass(frozen=True, slots=True)
class FileAnalysis:
    """Every ride of one file, analysed, and what else it holds (named)."""

    path: Path
    rides: tuple[Analysis, ...]
    skipped: tuple[str, ...]


def _analysis(
    path: Path,
    ride: Ride,
    settings: AnalysisSettings,
    summary: SessionSummary,
    has_baseline: bool,
) -> Analysis:
    return Analysis(
        path,
        ride,
        session_figures(ride),
        summary,
        has_baseline,
        analyze_ride_dynamics([ride], settings),
    )


def analyze_rides(
    path: Path,
    settings: AnalysisSettings,
    indoor: bool | None,
    allow_truncated: bool,
    baseline: Baseline | None = None,
) -> FileAnalysis:
    """Read and analyse every ride of a file (a chained or multisport file has
    several); raise RideFileError when none has power.

    A ride without power beside others with power is named as skipped.
    """
    with warnings.catch_warnings():
        # The ride records the warning itself; the CLI prints it once.
        warnings.simplefilter("ignore", RideFileWarning)
        found = read_rides(path, indoor=indoor, allow_truncated=allow_truncated)
    results: list[Analysis] = []
    skipped = list(found.skipped)
    for ride in found.rides:
        try:
            summary = analyze_ride(ride, settings, baseline, ride_context(ride))
        except NoPowerError as err:
            if len(found.rides) == 1:
                raise
            skipped.append(str(err))
            continue
        results.append(_analysis(path, ride, settings, summary, baseline is not None))
    if not results:
        raise NoPowerError(f"{path.name}: no ride of the file has power readings")
    return FileAnalysis(path, tuple(results), tuple(skipped))


type Learnt = tuple[Path, Ride, SessionSummary]
"""A ride learnt: its file, the ride and the engine's summary of it."""


@dataclass(frozen=True, slots=True)
class LearntRides[R]:
    """A baseline taught by rides in order, those rides, and the ones left out.

    ``R`` is how each ride is kept: as learnt, or analysed (a side of ``compare``).
    """

    baseline: Baseline
    rides: tuple[R, ...]
    left_out: tuple[str, ...]
    """Each ride (or part of a file) not learnt: "name: reason"."""


def learn_rides(
    paths: Sequence[Path],
    settings: AnalysisSettings,
    *,
    context: str | None,
    allow_truncated: bool,
    learnt: set[str],
    progress: Progress,
) -> LearntRides[Learnt]:
    """A new baseline taught the rides of ``paths`` in order.

    The rides are chosen as the import action chooses them (each ride once,
    ``learnt`` holding the identities already learnt; at least five minutes of
    riding; a sided balance).
    """
    baseline = default_baseline(settings)
    rides: list[Learnt] = []
    notes: list[str] = []
    for path in paths:
        found = rides_to_learn(
            path,
            settings,
            context=context,
            baseline=lambda _context: baseline,
            allow_truncated=allow_truncated,
            learnt=learnt,
        )
        notes += [f"{path.name}: {reason}" for reason in found.skipped]
        for ride in found.candidates:
            if ride.refused is not None or ride.summary is None:
                notes.append(f"{ride.name}: {ride.refused or 'not analysed'}")
            else:
                baseline.learn(ride.summary)
                rides.append((path, ride.ride, ride.summary))
        progress.step(path.name)
    return LearntRides(baseline, tuple(rides), tuple(notes))


def learn_baseline(
    paths: Sequence[Path],
    settings: AnalysisSettings,
    allow_truncated: bool,
    progress: Progress,
) -> tuple[Baseline, list[str]]:
    """The rider's usual balance per power band, learnt from ``paths`` in order
    (see :func:`learn_rides`); the second value names each ride left out and why.
    """
    found = learn_rides(
        paths,
        settings,
        context=None,
        allow_truncated=allow_truncated,
        learnt=set(),
        progress=progress,
    )
    return found.baseline, list(found.left_out)


def learn_side(
    paths: Sequence[Path],
    settings: AnalysisSettings,
    context: str,
    *,
    allow_truncated: bool,
    learnt: set[str],
    progress: Progress,
) -> LearntRides[Analysis]:
    """One side of ``compare``: its rides learnt as the import action learns them,
    each analysed."""
    found = learn_rides(
        paths,
        settings,
        context=context,
        allow_truncated=allow_truncated,
        learnt=learnt,
        progress=progress,
    )
    rides = tuple(
        _analysis(path, ride, settings, summary, has_baseline=True)
        for path, ride, summary in found.rides
    )
    return LearntRides(found.baseline, rides, found.left_out)


def compare_sides(
    indoor: LearntRides[Analysis], outdoor: LearntRides[Analysis]
) -> list[dict[str, Any]]:
    """Per power band: both sides' balance, the difference and the noise verdict."""
    rows = []
    for row in compare_baselines(indoor.baseline, outdoor.baseline):
        doc = row.to_dict()
        for side, results in (("indoor", indoor.rides), ("outdoor", outdoor.rides)):
            doc[f"{side}_riding_s"] = sum(
                band.riding_s
                for r in results
                for band in r.summary.power_bands
                if band.label == row.band
            )
        rows.append(doc)
    return rows


def side_totals(results: Sequence[Analysis]) -> dict[str, Any]:
    energy = sum(
        (r.figures.avg_power_w or 0.0) * r.figures.timer_s
        for r in results
        if r.figures.left_pct is not None
    )
    left = sum(
        (r.figures.avg_power_w or 0.0) * r.figures.timer_s * (r.figures.left_pct or 0.0)
        for r in results
        if r.figures.left_pct is not None
    )
    return {
        "files": [str(r.path) for r in results],
        "riding_s": sum(r.figures.timer_s for r in results),
        "balance_left_pct": left / energy if energy > 0 else None,
    }


def indoor_flag(args: argparse.Namespace) -> bool | None:
    if args.indoor_flag:
        return True
    if args.outdoor_flag:
        return False
    return None

"""The rides named on the command line: read, analysed and learnt from.

The analysis itself is the shared one (:func:`..rides.analyze.analyze_ride`,
:mod:`..analysis.compare`), so the CLI and the integration give the same figures.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
import sys
from typing import IO, Any
import warnings

from ..analysis import (
    AnalysisSettings,
    Baseline,
    SessionSummary,
)
from ..analysis.compare import compare_baselines
from ..analysis.dynamics import DynamicsReport
from ..rides import NoPowerError, Ride, RideFileWarning, read_rides
from ..rides.analyze import analyze_ride, analyze_ride_dynamics
from ..rides.learn import rides_to_learn
from ..rides.summary import SessionFigures, session_figures


def _context(ride: Ride) -> str | None:
    if ride.indoor is None:
        return None
    return "indoor" if ride.indoor else "outdoor"


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
    path: Path, ride: Ride, settings: AnalysisSettings, baseline: Baseline | None
) -> Analysis:
    summary = analyze_ride(ride, settings, baseline, _context(ride))
    return Analysis(
        path,
        ride,
        session_figures(ride),
        summary,
        baseline is not None,
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
            results.append(_analysis(path, ride, settings, baseline))
        except NoPowerError as err:
            if len(found.rides) == 1:
                raise
            skipped.append(str(err))
    if not results:
        raise NoPowerError(f"{path.name}: no ride of the file has power readings")
    return FileAnalysis(path, tuple(results), tuple(skipped))


def analyze_file(
    path: Path,
    settings: AnalysisSettings,
    indoor: bool | None,
    allow_truncated: bool,
    baseline: Baseline | None = None,
) -> Analysis:
    """The file's first ride with power, analysed (``compare`` takes one a file)."""
    return analyze_rides(path, settings, indoor, allow_truncated, baseline).rides[0]


def learn_baseline(
    paths: Sequence[Path],
    settings: AnalysisSettings,
    allow_truncated: bool,
    progress: Progress,
) -> tuple[Baseline, list[str]]:
    """The rider's usual balance per power band, learnt from ``paths`` in order.

    The rides are chosen as the import action chooses them (each ride once, at
    least five minutes of riding, a sided balance); the second value names each
    ride left out and why.
    """
    baseline = Baseline(power_edges_w=settings.effective_power_edges())
    seen: set[str] = set()
    notes: list[str] = []
    for path in paths:
        found = rides_to_learn(
            path,
            settings,
            context=None,
            baseline=lambda _context: baseline,
            allow_truncated=allow_truncated,
            learnt=seen,
        )
        notes += [f"{path.name}: {reason}" for reason in found.skipped]
        for ride in found.candidates:
            if ride.refused is not None or ride.summary is None:
                notes.append(f"{ride.name}: {ride.refused or 'not analysed'}")
            else:
                baseline.learn(ride.summary)
        progress.step(path.name)
    return baseline, notes


def _side_baseline(results: Sequence[Analysis], settings: AnalysisSettings) -> Baseline:
    """One side's rides learnt in order, as the import action teaches a baseline."""
    baseline = Baseline(power_edges_w=settings.effective_power_edges())
    for result in results:
        baseline.learn(result.summary)
    return baseline


def compare_sides(
    indoor: Sequence[Analysis], outdoor: Sequence[Analysis], settings: AnalysisSettings
) -> list[dict[str, Any]]:
    """Per power band: both sides' balance, the difference and the noise verdict."""
    rows = []
    for row in compare_baselines(
        _side_baseline(indoor, settings), _side_baseline(outdoor, settings)
    ):
        doc = row.to_dict()
        for side, results in (("indoor", indoor), ("outdoor", outdoor)):
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

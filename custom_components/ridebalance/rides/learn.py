"""Which rides of a file may teach a baseline: one rule for the CLI and the import.

A ride is learnt from only when all of these hold, else it is reported with the
reason and left out:

- it was not learnt before (its identity, :attr:`Ride.ride_id`, is not among
  the rides already learnt, including the ones earlier in the same import);
- its balance names the side (``balance_side == "right"``) and it has power;
- its context is known (the file says indoor or outdoor, or the rider said);
- it holds at least :data:`MIN_RIDING_S` of riding: a fragment says nothing
  about the rider's usual balance.

A truncated file is refused by the reader unless the rider asked to keep what it
holds (``allow_truncated``); its rides then carry a note saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
import warnings

from ..analysis import AnalysisSettings, Baseline, SessionSummary
from . import read_rides
from .analyze import analyze_ride
from .errors import RideFileError, RideFileWarning
from .ride import Ride

MIN_RIDING_S = 300.0
TRUNCATED_NOTE = "truncated: kept what it holds (the records before the cut)"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One ride of a file: its analysis, and why it is not learnt (None = learn)."""

    name: str
    ride: Ride
    context: str | None
    summary: SessionSummary | None
    refused: str | None

    @property
    def notes(self) -> tuple[str, ...]:
        """What the rider should know about a ride that is learnt."""
        return (TRUNCATED_NOTE,) if self.ride.truncated else ()


@dataclass(frozen=True, slots=True)
class FileRides:
    """The rides of one file, and what the file holds that is not a ride."""

    candidates: tuple[Candidate, ...]
    skipped: tuple[str, ...]


def ride_context(ride: Ride) -> str | None:
    """``"indoor"`` or ``"outdoor"`` as the file says, None when it does not."""
    if ride.indoor is None:
        return None
    return "indoor" if ride.indoor else "outdoor"


def rides_to_learn(
    path: Path,
    settings: AnalysisSettings,
    *,
    context: str | None,
    baseline: Callable[[str | None], Baseline | None] | None = None,
    allow_truncated: bool = False,
    learnt: set[str],
    data: bytes | None = None,
) -> FileRides:
    """Read ``path`` (or its ``data``) and decide, ride by ride, what is learnt.

    ``context`` is ``"indoor"``/``"outdoor"`` (the rider's word), ``"auto"``
    (the file's) or None (no context needed: the command line's one baseline).
    ``baseline`` gives the baseline a ride of a context is compared with.
    ``learnt`` holds the identities already learnt; each accepted ride's is
    added, so a second copy in the same import is "already imported".
    Raises :class:`RideFileError` when the file cannot be used at all.
    """
    with warnings.catch_warnings():
        # A truncated ride says so itself (Ride.truncated); no warning on top.
        warnings.simplefilter("ignore", RideFileWarning)
        found = read_rides(path, allow_truncated=allow_truncated, data=data)
    several = len(found.rides) > 1
    candidates = []
    for number, ride in enumerate(found.rides, 1):
        name = f"{path.name} (ride {number})" if several else path.name
        candidates.append(
            _decide(
                name, ride, settings, context=context, baseline=baseline, learnt=learnt
            )
        )
    return FileRides(tuple(candidates), found.skipped)


def _decide(
    name: str,
    ride: Ride,
    settings: AnalysisSettings,
    *,
    context: str | None,
    baseline: Callable[[str | None], Baseline | None] | None,
    learnt: set[str],
) -> Candidate:
    if ride.ride_id is not None and ride.ride_id in learnt:
        return Candidate(name, ride, None, None, "already imported")
    if ride.balance_side != "right":
        return Candidate(
            name,
            ride,
            None,
            None,
            "the file's balance has no side (or there is none), "
            "so it cannot be used as left/right",
        )
    where = context
    if where == "auto":
        where = ride_context(ride)
        if where is None:
            return Candidate(
                name,
                ride,
                None,
                None,
                "the file does not say whether it was ridden indoors; "
                "import it with context indoor or outdoor",
            )
    try:
        summary = analyze_ride(
            ride,
            settings,
            None if baseline is None else baseline(where),
            where,
        )
    except RideFileError as err:
        return Candidate(name, ride, where, None, str(err))
    if summary.riding_s < MIN_RIDING_S:
        return Candidate(
            name,
            ride,
            where,
            summary,
            f"only {summary.riding_s:.0f} s of riding; "
            f"at least {MIN_RIDING_S / 60:.0f} min are needed to learn from a ride",
        )
    if ride.ride_id is not None:
        learnt.add(ride.ride_id)
    return Candidate(name, ride, where, summary, None)

"""Importing ride files into a rider's baselines (the action and the upload).

Every file is read by :func:`..rides.files.read_checked` (regular files under a
size cap, opened without blocking) through its real path: a link is followed
and the target is what must pass the path check (inside
``allowlist_external_dirs`` for the action). Which rides are learnt is decided
by :func:`..rides.learn.rides_to_learn`; errors are one line and never quote a
file's contents.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .analysis import AnalysisSettings, Baseline, SessionSummary
from .const import DOMAIN
from .coordinator import RideCoordinator
from .rides import RideFileError, TruncatedFileError
from .rides.files import PathCheck, read_checked
from .rides.learn import rides_to_learn

RIDE_SUFFIXES = frozenset({".fit", ".csv"})
KEEP_TRUNCATED_HINT = (
    "; 'Keep truncated rides' in the upload (keep_truncated in the import_rides"
    " action) keeps what it holds"
)


@dataclass(slots=True)
class ImportReport:
    """What an import did, file by file."""

    imported: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def as_response(self) -> dict[str, Any]:
        """The action's response data."""
        return {"imported": self.imported, "skipped": self.skipped}

    def skip(self, name: str, reason: str) -> None:
        """Report a file (or a ride of it) left out, and why."""
        self.skipped.append({"file": name, "reason": reason})

    def message(self) -> str:
        """The persistent notification's text."""
        lines = [f"Imported {len(self.imported)} ride(s)."]
        lines += [
            f"- {r['file']}: {r['context']}, {r['minutes']:.0f} min, "
            f"left {r['balance_left_pct']} %"
            + ("".join(f" ({note})" for note in r["notes"]))
            for r in self.imported
        ]
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped)}:")
            lines += [f"- {s['file']}: {s['reason']}" for s in self.skipped]
        return "\n".join(lines)


def ride_files(paths: list[Path]) -> list[Path]:
    """The given files, and the ride files directly inside the given folders."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p for p in path.iterdir() if p.suffix.lower() in RIDE_SUFFIXES
            )
        else:
            files.append(path)
    return files


@dataclass(frozen=True, slots=True)
class Learnt:
    """A ride to teach a baseline once the import is read."""

    context: str
    summary: SessionSummary
    ride_id: str | None
    started: datetime | None


@dataclass(frozen=True, slots=True)
class RiderCopy:
    """What an import needs of the rider, taken in the event loop.

    The baselines are copies: the loop may learn a session into the rider's
    own while the files are analysed in the executor.
    """

    settings: AnalysisSettings
    baselines: dict[str, Baseline]
    learnt: frozenset[str]

    @classmethod
    def of(cls, coordinator: RideCoordinator, context: str) -> RiderCopy:
        """Copy the rider's settings, the baselines ``context`` may use, and
        the rides already learnt (event loop)."""
        wanted = ("indoor", "outdoor") if context == "auto" else (context,)
        return cls(
            coordinator.analysis_settings(),
            {where: copy.deepcopy(coordinator.baseline(where)) for where in wanted},
            coordinator.learnt_rides(),
        )


def read_and_analyse(
    rider: RiderCopy,
    paths: list[Path],
    context: str,
    *,
    allowed: PathCheck,
    keep_truncated: bool,
) -> tuple[ImportReport, list[Learnt]]:
    """Blocking part of an import: check, read and analyse each file (executor)."""
    report = ImportReport()
    learnt: list[Learnt] = []
    seen = set(rider.learnt)
    for path in ride_files(paths):
        try:
            data = read_checked(path, allowed)
            found = rides_to_learn(
                path,
                rider.settings,
                context=context,
                baseline=lambda where: (
                    None if where is None else rider.baselines[where]
                ),
                allow_truncated=keep_truncated,
                learnt=seen,
                data=data,
            )
        except TruncatedFileError as err:
            report.skip(path.name, str(err) + KEEP_TRUNCATED_HINT)
            continue
        except RideFileError as err:  # a FileRefused too
            report.skip(path.name, str(err))
            continue
        for reason in found.skipped:
            report.skip(path.name, reason)
        for ride in found.candidates:
            if ride.refused is not None or ride.summary is None:
                report.skip(ride.name, ride.refused or "not analysed")
                continue
            assert ride.context is not None  # the import always has one
            learnt.append(
                Learnt(
                    ride.context,
                    ride.summary,
                    ride.ride.ride_id,
                    ride.ride.start_time,
                )
            )
            summary = ride.summary
            report.imported.append(
                {
                    "file": ride.name,
                    "context": ride.context,
                    "minutes": round(summary.riding_s / 60.0, 1),
                    "balance_left_pct": None
                    if summary.balance_left_pct is None
                    else round(summary.balance_left_pct, 1),
                    "truncated": ride.ride.truncated,
                    "notes": list(ride.notes),
                }
            )
    return report, learnt


async def async_import_rides(
    hass: HomeAssistant,
    coordinator: RideCoordinator,
    paths: list[Path],
    context: str,
    *,
    allowed: PathCheck,
    keep_truncated: bool = False,
) -> ImportReport:
    """Read, analyse and learn ride files; tell the rider.

    The import action and the options flow's upload both import through here;
    ``allowed`` says which real paths may be read.
    """
    rider = RiderCopy.of(coordinator, context)
    try:
        report, learnt = await hass.async_add_executor_job(
            lambda: read_and_analyse(
                rider,
                paths,
                context,
                allowed=allowed,
                keep_truncated=keep_truncated,
            )
        )
    except OSError as err:  # a folder that cannot be listed
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="import_failed",
            translation_placeholders={"error": err.strerror or type(err).__name__},
        ) from err
    for ride in learnt:
        coordinator.async_learn(
            ride.context, ride.summary, ride_id=ride.ride_id, started=ride.started
        )
    persistent_notification.async_create(
        hass,
        report.message(),
        title="RideBalance import",
        notification_id=f"{DOMAIN}_import",
    )
    return report

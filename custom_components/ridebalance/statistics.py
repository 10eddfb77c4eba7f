"""Every session in Home Assistant's long-term statistics: trends over months.

A finished or imported session adds one hourly row per figure, at the hour the
ride started (an imported ride from March lands in March), as external
statistics of the ``ridebalance`` source. Indoor and outdoor are separate
series. Sessions that started in the same hour share one row: their mean
weighted by riding time, with the lowest and highest session as min and max.
Long-term statistics are never purged, so a statistics-graph card shows whether
the rider's balance changed since new cleats or a levelled trainer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
import re

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
)
from homeassistant.const import PERCENTAGE, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from .analysis import SessionSummary
from .const import DOMAIN
from .store import SessionRecord

SOURCE = DOMAIN
# A band ridden for less than this says little about the rider's balance there.
MIN_BAND_RIDING_S = 120.0


@dataclass(frozen=True, slots=True)
class Figure:
    """One value of one session, for one series."""

    key: str
    name: str
    unit: str
    value: float


def band_key(label: str) -> str:
    """``<100 W`` -> ``under_100w``, ``100-150 W`` -> ``100_150w``, ``300+ W`` ->
    ``300w_plus``: the band as a statistic id may spell it."""
    text = label.strip().lower().replace(" ", "")
    prefix = "under_" if text.startswith("<") else ""
    suffix = "_plus" if "+" in text else ""
    core = re.sub(r"[^a-z0-9]+", "_", text.replace("+", "")).strip("_")
    return f"{prefix}{core}{suffix}"


def figures(summary: SessionSummary) -> Iterator[Figure]:
    """What of a session is worth following over months (only what was measured)."""
    if summary.balance_left_pct is not None:
        yield Figure("left_share", "left share", PERCENTAGE, summary.balance_left_pct)
    for band in summary.power_bands:
        if band.balance_left_pct is not None and band.riding_s >= MIN_BAND_RIDING_S:
            yield Figure(
                f"left_share_{band_key(band.label)}",
                f"left share {band.label}",
                PERCENTAGE,
                band.balance_left_pct,
            )
    if summary.balance_drift_onset_s is not None:
        yield Figure(
            "drift_onset",
            "balance drift onset",
            UnitOfTime.MINUTES,
            summary.balance_drift_onset_s / 60.0,
        )
    for key, name, value in (
        ("te_left", "torque effectiveness left", summary.te_left_pct),
        ("te_right", "torque effectiveness right", summary.te_right_pct),
        ("ps_left", "pedal smoothness left", summary.ps_left_pct),
        ("ps_right", "pedal smoothness right", summary.ps_right_pct),
    ):
        if value is not None:
            yield Figure(key, name, PERCENTAGE, value)


def hour_of(record: SessionRecord) -> datetime:
    """The start of the hour (UTC) the session started in."""
    started = dt_util.parse_datetime(record.started) or dt_util.utcnow()
    return dt_util.as_utc(started).replace(minute=0, second=0, microsecond=0)


def statistic_id(entry_id: str, context: str, key: str) -> str:
    """The id of one series of one rider."""
    return f"{SOURCE}:{entry_id.lower()}_{context}_{key}"


@dataclass(slots=True)
class Series:
    """One series' metadata and hourly rows."""

    metadata: StatisticMetaData
    rows: list[StatisticData]


def series(
    entry_id: str, title: str, records: Iterable[SessionRecord]
) -> dict[str, Series]:
    """Every series the sessions make, by statistic id, rows in time order."""
    hours: dict[tuple[str, datetime], list[tuple[float, Figure]]] = defaultdict(list)
    found: dict[str, StatisticMetaData] = {}
    for record in records:
        context = record.context
        weight = max(record.summary.riding_s, 1.0)
        for figure in figures(record.summary):
            sid = statistic_id(entry_id, context, figure.key)
            found.setdefault(
                sid,
                StatisticMetaData(
                    mean_type=StatisticMeanType.ARITHMETIC,
                    has_sum=False,
                    name=f"{title} {context} {figure.name}",
                    source=SOURCE,
                    statistic_id=sid,
                    unit_class=None,
                    unit_of_measurement=figure.unit,
                ),
            )
            hours[sid, hour_of(record)].append((weight, figure))
    out = {sid: Series(metadata, []) for sid, metadata in found.items()}
    for (sid, start), weighted in sorted(hours.items(), key=lambda item: item[0][1]):
        total = sum(w for w, _ in weighted)
        values = [f.value for _, f in weighted]
        out[sid].rows.append(
            StatisticData(
                start=start,
                mean=sum(w * f.value for w, f in weighted) / total,
                min=min(values),
                max=max(values),
            )
        )
    return out


def _recording(hass: HomeAssistant) -> bool:
    return "recorder" in hass.config.components


@callback
def async_add_sessions(
    hass: HomeAssistant,
    entry_id: str,
    title: str,
    sessions: Iterable[SessionRecord],
    new: SessionRecord,
) -> None:
    """Put a new session into the statistics (its hour recomputed from all)."""
    if not _recording(hass):
        return
    hour = hour_of(new)
    same_hour = [s for s in sessions if hour_of(s) == hour]
    for found in series(entry_id, title, same_hour).values():
        async_add_external_statistics(hass, found.metadata, found.rows)


@callback
def async_rebuild(
    hass: HomeAssistant,
    entry_id: str,
    title: str,
    before: Iterable[SessionRecord],
    after: Iterable[SessionRecord],
) -> None:
    """Statistics from ``after`` only, e.g. once a session was deleted."""
    if not _recording(hass):
        return
    stale = set(series(entry_id, title, before))
    if stale:
        get_instance(hass).async_clear_statistics(sorted(stale))
    async_add_all(hass, entry_id, title, after)


@callback
def async_add_all(
    hass: HomeAssistant,
    entry_id: str,
    title: str,
    sessions: Iterable[SessionRecord],
) -> None:
    """Every session's rows (an hour's row is replaced if it exists)."""
    if not _recording(hass):
        return
    for found in series(entry_id, title, sessions).values():
        async_add_external_statistics(hass, found.metadata, found.rows)

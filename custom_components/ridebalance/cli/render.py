"""What the commands print: readable reports and JSON documents (docs/cli.md)."""

from __future__ import annotations

import math
from typing import Any

from ..rides import Ride
from ..rides.summary import SessionFigures
from .rides import Analysis

JSON_VERSION = 1


def hms(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def num(value: float | None, fmt: str = ".0f", unit: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:{fmt}}{unit}"


def _lr(left: float | None, right: float | None, fmt: str = ".1f") -> str:
    if left is None and right is None:
        return "-"
    return f"L {num(left, fmt)} %  R {num(right, fmt)} %"


def _ride_meta(ride: Ride) -> dict[str, Any]:
    return {
        "format": ride.file_format,
        "sport": ride.sport,
        "sub_sport": ride.sub_sport,
        "start_time": None if ride.start_time is None else ride.start_time.isoformat(),
        "manufacturer": ride.manufacturer,
        "device": ride.device,
        "indoor": ride.indoor,
        "balance_side": ride.balance_side,
        "records": len(ride),
        "balance_artefacts_dropped": ride.balance_artefacts,
    }


def _figures_dict(figures: SessionFigures) -> dict[str, Any]:
    return {
        "timer_s": figures.timer_s,
        "elapsed_s": figures.elapsed_s,
        "avg_power_w": figures.avg_power_w,
        "normalized_power_w": figures.normalized_power_w,
        "balance_left_pct": figures.left_pct,
        "balance_right_pct": figures.right_pct,
        "avg_cadence_rpm": figures.avg_cadence_rpm,
        "avg_heart_rate_bpm": figures.avg_heart_rate_bpm,
        "te_left_pct": figures.te_left_pct,
        "te_right_pct": figures.te_right_pct,
        "ps_left_pct": figures.ps_left_pct,
        "ps_right_pct": figures.ps_right_pct,
    }


def _head_unit_dict(ride: Ride) -> dict[str, Any] | None:
    hu = ride.head_unit_summary
    if hu is None:
        return None
    return {
        "balance_left_pct": hu.left_pct,
        "balance_right_pct": hu.right_pct if hu.balance_side == "right" else None,
        "balance_side": hu.balance_side,
        "balance_raw": hu.balance_raw,
        "avg_power_w": hu.avg_power_w,
        "normalized_power_w": hu.normalized_power_w,
        "avg_cadence_rpm": hu.avg_cadence_rpm,
        "avg_heart_rate_bpm": hu.avg_heart_rate_bpm,
        "te_left_pct": hu.te_left_pct,
        "te_right_pct": hu.te_right_pct,
        "ps_left_pct": hu.ps_left_pct,
        "ps_right_pct": hu.ps_right_pct,
        "timer_s": hu.total_timer_s,
        "elapsed_s": hu.total_elapsed_s,
    }


def analysis_json(result: Analysis) -> dict[str, Any]:
    """The JSON document of ``analyze`` (keys in docs/cli.md)."""
    ride = result.ride
    notes = list(ride.warnings)
    if ride.balance_side == "unknown":
        notes.append(
            "the file's balance has no side bit (side unknown): not used as left/right"
        )
    return {
        "version": JSON_VERSION,
        "file": str(result.path),
        "ride": _ride_meta(ride),
        "figures": _figures_dict(result.figures),
        "head_unit": _head_unit_dict(ride),
        "analysis": result.summary.to_dict(),
        "warnings": notes,
    }


def _vs_head_unit(ours: str, theirs: str | None) -> str:
    return ours if theirs is None else f"{ours:<40}head unit: {theirs}"


def render_analysis(result: Analysis) -> str:
    """The readable report of ``analyze``."""
    ride, fig, summary = result.ride, result.figures, result.summary
    hu = ride.head_unit_summary
    lines: list[str] = []
    device = " ".join(x for x in (ride.manufacturer, ride.device) if x) or "-"
    where = {True: "indoor", False: "outdoor", None: "indoor/outdoor not stated"}
    lines.append(f"Ride        {result.path.name}")
    lines.append(
        f"            {ride.sport or 'ride'}"
        f"{'/' + ride.sub_sport if ride.sub_sport else ''}, {where[ride.indoor]}, "
        f"recorded by {device}"
    )
    if ride.start_time is not None:
        lines.append(f"Started     {ride.start_time:%Y-%m-%d %H:%M} UTC")
    lines.append(
        f"Duration    {hms(fig.timer_s)} riding (timer), {hms(fig.elapsed_s)} elapsed"
    )
    lines.append(
        _vs_head_unit(
            f"Power       avg {num(fig.avg_power_w, unit=' W')}  "
            f"NP {num(fig.normalized_power_w, unit=' W')}",
            None
            if hu is None or hu.avg_power_w is None
            else f"avg {num(hu.avg_power_w, unit=' W')}  "
            f"NP {num(hu.normalized_power_w, unit=' W')}",
        )
    )
    if fig.right_pct is not None:
        lines.append(
            _vs_head_unit(
                f"Balance     {_lr(fig.left_pct, fig.right_pct)}",
                None
                if hu is None or hu.left_pct is None
                else _lr(hu.left_pct, hu.right_pct, ".2f"),
            )
        )
        lines.append("            (power-weighted over pedalling time)")
    elif ride.balance_side == "unknown":
        lines.append("Balance     side unknown: the file's balance has no side bit,")
        lines.append("            so it is not used as left/right")
    else:
        lines.append("Balance     not recorded")
    if fig.te_left_pct is not None or fig.te_right_pct is not None:
        lines.append(f"TE          {_lr(fig.te_left_pct, fig.te_right_pct)}")
    if fig.ps_left_pct is not None or fig.ps_right_pct is not None:
        lines.append(f"PS          {_lr(fig.ps_left_pct, fig.ps_right_pct)}")
    cadence = f"Cadence     avg {num(fig.avg_cadence_rpm, unit=' rpm')} (pedalling)"
    if summary.cadence_sd_rpm is not None:
        cadence += f", SD {num(summary.cadence_sd_rpm, '.1f', ' rpm')}"
    lines.append(cadence)
    if fig.avg_heart_rate_bpm is not None:
        lines.append(f"Heart rate  avg {num(fig.avg_heart_rate_bpm, unit=' bpm')}")

    bands = [b for b in summary.power_bands if b.riding_s > 0]
    if bands:
        lines.append("")
        lines.append("Balance by power band (power-weighted)")
        lines.append(
            f"  {'band':<12}{'time':>9}{'avg W':>8}{'left %':>8}{'right %':>9}"
            f"{'cadence':>9}"
        )
        for band in bands:
            right = (
                None if band.balance_left_pct is None else 100 - band.balance_left_pct
            )
            lines.append(
                f"  {band.label:<12}{hms(band.riding_s):>9}"
                f"{num(band.avg_power_w):>8}{num(band.balance_left_pct, '.1f'):>8}"
                f"{num(right, '.1f'):>9}{num(band.cadence_avg_rpm):>9}"
            )
    if summary.balance_drift_onset_s is not None:
        lines.append("")
        lines.append(
            f"Balance drift from {hms(summary.balance_drift_onset_s)} "
            f"(largest {num(summary.max_drift_pts, '+.1f')} points left vs the first "
            "15 minutes)"
        )
    lines.append("")
    if not result.has_baseline and fig.right_pct is not None:
        lines.append(
            "Usual balance: none given, so 50/50 is assumed in every band "
            "(--baseline RIDE... learns yours)"
        )
    if summary.episodes:
        lines.append("Flagged episodes (flags, not diagnoses)")
        for ep in sorted(summary.episodes, key=lambda e: e.onset_s):
            end = hms(ep.end_s) if ep.end_s is not None else "end"
            at = f" at {ep.power_band}" if ep.power_band else ""
            lines.append(
                f"  {hms(ep.onset_s)}-{end}  {ep.kind.replace('_', ' ')}{at}: "
                f"{ep.magnitude:+.1f} {ep.unit} vs usual {ep.reference:.1f} "
                f"({ep.reason})"
            )
    else:
        lines.append("Flagged episodes: none")
    for note in ride.warnings:
        lines.append(f"Warning: {note}")
    return "\n".join(lines)


def render_comparison(doc: dict[str, Any]) -> str:
    """The readable report of ``compare``."""
    rule = doc["noise_rule"]
    floor = rule["min_difference_pts"]
    lines = [
        f"Indoor:  {len(doc['indoor']['files'])} ride(s), "
        f"{hms(doc['indoor']['riding_s'])} riding, overall "
        f"L {num(doc['indoor']['balance_left_pct'], '.1f')} %",
        f"Outdoor: {len(doc['outdoor']['files'])} ride(s), "
        f"{hms(doc['outdoor']['riding_s'])} riding, overall "
        f"L {num(doc['outdoor']['balance_left_pct'], '.1f')} %",
        "",
        "Left share by power band (power-weighted); difference = outdoor - indoor",
        f"  {'band':<12}{'indoor':>8}{'outdoor':>9}{'diff':>8}{'±95%':>7}  verdict",
    ]
    for row in doc["bands"]:
        if row["exceeds_noise"] is None:
            verdict = (
                "not enough riding in this band"
                if row["difference_pts"] is not None
                else "ridden on one side only"
                if row["indoor_left_pct"] or row["outdoor_left_pct"]
                else "not ridden"
            )
        elif row["exceeds_noise"]:
            side = "left" if row["difference_pts"] > 0 else "right"
            verdict = f"outdoors more {side}: beyond noise"
        else:
            verdict = "within noise"
        lines.append(
            f"  {row['band']:<12}{num(row['indoor_left_pct'], '.1f'):>8}"
            f"{num(row['outdoor_left_pct'], '.1f'):>9}"
            f"{num(row['difference_pts'], '+.1f'):>8}"
            f"{num(row['ci95_pts'], '.1f'):>7}  {verdict}"
        )
    lines.append("")
    lines.append(
        f"Beyond noise: |diff| above both the 95 % interval ({rule['block_s']:g} s "
        "block means, autocorrelation-corrected) and "
        f"{floor:g} point{'' if floor == 1 else 's'} (balance resolution)."
    )
    return "\n".join(lines)

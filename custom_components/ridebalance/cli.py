"""RideBalance on the command line: ``scripts/ridebalance <command> ...``.

Commands
--------
``analyze RIDE [--json] [--plot OUT.png] [--power-floor W] [--ftp W]``
    One ride (FIT or CSV): duration, average and normalized power, power-weighted
    L/R balance overall and per power band, TE/PS, cadence, and the flagged
    episodes with their times. ``--baseline RIDE...`` first learns the rider's
    usual balance per power band from other rides (else 50/50 is assumed).
    ``--indoor``/``--outdoor`` override what the file says; ``--allow-truncated``
    uses what a cut-off FIT file holds.
``compare --indoor A.fit [...] --outdoor B.fit [...] [--json] [--plot OUT.png]``
    Balance per power band indoors against outdoors, the difference, and whether
    it is larger than measurement noise (see "Noise" below).
``decode DEVICE PAGE [PAGE ...] [--json]``
    Decode raw ANT+ pages (16 hex digits each) of a device type
    (``power``/``11``, ``fec``/``17``, ``hr``/``120``).
``scan [--seconds S] [--json]``
    List the ANT+ devices the stick hears.
``simulate [--seed N] [--hz HZ] [--output OUT.csv] [--fit OUT.fit]``
    The simulator's scripted ride as CSV (stdout unless ``--output``) or FIT.

Exit status: 0 success, 1 the input could not be used (the message names the
file and the reason), 2 bad command-line usage.

Where the figures come from: duration, average/normalized power, overall
balance, TE/PS and cadence are computed the way a head unit computes its session
(``rides.summary``; pauses excluded, NP on a 1 Hz grid of timer time); bands and
episodes come from the analysis engine. The head unit's own session figures are
shown beside ours when the file has them.

Noise (``compare``): each side's rides teach a baseline, as the ``import_rides``
action does, and :mod:`.analysis.compare` (the rule the Home Assistant sensor
uses) says whether each band's difference is beyond noise; see docs/cli.md.

JSON output is described key by key in docs/cli.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
import json
import math
from pathlib import Path
import sys
from typing import IO, Any
import warnings

import numpy as np

from .analysis import (
    AnalysisSettings,
    Baseline,
    SessionSummary,
    build_baseline,
)
from .analysis.compare import MIN_BLOCKS, RESOLUTION_PTS, Z95, compare_baselines
from .ant.pages import (
    COMMON_PAGE_MANUFACTURER,
    COMMON_PAGE_PRODUCT,
    MalformedPage,
    ManufacturerPage,
    ProductPage,
    decode_page,
    page_to_dict,
)
from .rides import Ride, RideFileError, RideFileWarning, read_ride
from .rides.analyze import analyse_ride
from .rides.csv_writer import write_csv
from .rides.fit_writer import write_fit
from .rides.ride import FloatArray
from .rides.summary import SessionFigures, session_figures
from .sim import demo_ride, generate

JSON_VERSION = 1
ROLLING_BALANCE_S = 60.0


class CliError(Exception):
    """A problem worth one line on stderr and exit status 1."""


# --- small formatting helpers ----------------------------------------------------


def _hms(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _num(value: float | None, fmt: str = ".0f", unit: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:{fmt}}{unit}"


def _lr(left: float | None, right: float | None, fmt: str = ".1f") -> str:
    if left is None and right is None:
        return "-"
    return f"L {_num(left, fmt)} %  R {_num(right, fmt)} %"


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


def _progress_enabled(args: argparse.Namespace) -> bool:
    return bool(args.progress) or sys.stderr.isatty()


# --- analyze ---------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> AnalysisSettings:
    kwargs: dict[str, Any] = {}
    if args.power_floor is not None:
        kwargs["power_floor_w"] = args.power_floor
    if args.ftp is not None:
        kwargs["ftp_w"] = args.ftp
    return AnalysisSettings(**kwargs)


def _load(path: Path, indoor: bool | None, allow_truncated: bool) -> Ride:
    with warnings.catch_warnings():
        # The ride records the warning itself; the CLI prints it once.
        warnings.simplefilter("ignore", RideFileWarning)
        return read_ride(path, indoor=indoor, allow_truncated=allow_truncated)


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


@dataclass(frozen=True, slots=True)
class Analysis:
    """One analysed ride: the file, our session figures and the engine's summary."""

    path: Path
    ride: Ride
    figures: SessionFigures
    summary: SessionSummary
    has_baseline: bool = False


def analyse_file(
    path: Path,
    settings: AnalysisSettings,
    indoor: bool | None,
    allow_truncated: bool,
    baseline: Baseline | None = None,
) -> Analysis:
    """Read and analyse one ride; raise RideFileError when it lacks power."""
    ride = _load(path, indoor, allow_truncated)
    summary = analyse_ride(ride, settings, baseline, _context(ride))
    return Analysis(path, ride, session_figures(ride), summary, baseline is not None)


def learn_baseline(
    paths: Sequence[Path],
    settings: AnalysisSettings,
    allow_truncated: bool,
    progress: Progress,
) -> Baseline:
    """The rider's usual balance per power band, learnt from ``paths`` in order."""
    rides = []
    for path in paths:
        ride = _load(path, None, allow_truncated)
        ride.require_balance()
        rides.append(ride.running())
        progress.step(path.name)
    return build_baseline(rides, settings)


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
        f"Duration    {_hms(fig.timer_s)} riding (timer), {_hms(ride.duration_s + 1)} "
        "elapsed"
    )
    lines.append(
        _vs_head_unit(
            f"Power       avg {_num(fig.avg_power_w, unit=' W')}  "
            f"NP {_num(fig.normalized_power_w, unit=' W')}",
            None
            if hu is None or hu.avg_power_w is None
            else f"avg {_num(hu.avg_power_w, unit=' W')}  "
            f"NP {_num(hu.normalized_power_w, unit=' W')}",
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
    cadence = f"Cadence     avg {_num(fig.avg_cadence_rpm, unit=' rpm')} (pedalling)"
    if summary.cadence_sd_rpm is not None:
        cadence += f", SD {_num(summary.cadence_sd_rpm, '.1f', ' rpm')}"
    lines.append(cadence)
    if fig.avg_heart_rate_bpm is not None:
        lines.append(f"Heart rate  avg {_num(fig.avg_heart_rate_bpm, unit=' bpm')}")

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
                f"  {band.label:<12}{_hms(band.riding_s):>9}"
                f"{_num(band.avg_power_w):>8}{_num(band.balance_left_pct, '.1f'):>8}"
                f"{_num(right, '.1f'):>9}{_num(band.cadence_avg_rpm):>9}"
            )
    if summary.balance_drift_onset_s is not None:
        lines.append("")
        lines.append(
            f"Balance drift from {_hms(summary.balance_drift_onset_s)} "
            f"(largest {_num(summary.max_drift_pts, '+.1f')} points left vs the first "
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
            end = _hms(ep.end_s) if ep.end_s is not None else "end"
            at = f" at {ep.power_band}" if ep.power_band else ""
            lines.append(
                f"  {_hms(ep.onset_s)}-{end}  {ep.kind.replace('_', ' ')}{at}: "
                f"{ep.magnitude:+.1f} {ep.unit} vs usual {ep.reference:.1f} "
                f"({ep.reason})"
            )
    else:
        lines.append("Flagged episodes: none")
    for note in ride.warnings:
        lines.append(f"Warning: {note}")
    return "\n".join(lines)


def _rolling(
    t: FloatArray, values: FloatArray, weights: FloatArray, window_s: float
) -> FloatArray:
    """Weighted mean over the trailing window; NaN with under a third of it."""
    use = np.isfinite(values) & np.isfinite(weights)
    w = np.where(use, weights, 0.0)
    wv = np.concatenate(([0.0], np.cumsum(np.where(use, values, 0.0) * w)))
    ws = np.concatenate(([0.0], np.cumsum(w)))
    count = np.concatenate(([0], np.cumsum(use)))
    start = np.searchsorted(t, t - window_s, side="right")
    end = np.arange(1, t.size + 1)
    rate = t.size / max(float(t[-1] - t[0]), 1.0) if t.size else 1.0
    enough = (count[end] - count[start]) >= window_s * rate / 3
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (wv[end] - wv[start]) / (ws[end] - ws[start])
    return np.where(enough, mean, np.nan)


def _break_gaps(t: FloatArray, values: FloatArray, gap_s: float = 30.0) -> FloatArray:
    """NaN after long silences so plotted lines do not bridge pauses."""
    out = values.copy()
    out[1:][np.diff(t) > gap_s] = np.nan
    return out


BALANCE_KINDS = ("asymmetry", "balance_drift")


def _figure() -> Any:
    # Plotting is CLI-only: import lazily, draw off-screen.
    import matplotlib as mpl  # noqa: PLC0415 - plotting is optional, CLI-only

    mpl.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415 - after choosing Agg

    return Figure


def plot_analysis(result: Analysis, out: Path, floor_w: float) -> None:
    """Balance (1-minute), power and cadence over the ride, episodes shaded."""
    figure_cls = _figure()
    ride = result.ride.running()
    t = ride.t_s
    fig = figure_cls(figsize=(11, 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    minutes = t / 60
    power = ride.power_w
    weights = np.where(power >= floor_w, power, np.nan)
    left = _rolling(t, ride.left_pct, weights, ROLLING_BALANCE_S)
    top.axhline(50, color="0.6", linewidth=0.8)
    top.plot(minutes, _break_gaps(t, left), color="tab:blue", label="left % (1 min)")
    end_t = float(t[-1])
    for ep in result.summary.episodes:
        axis = top if str(ep.kind) in BALANCE_KINDS else bottom
        end = ep.end_s if ep.end_s is not None else end_t
        axis.axvspan(ep.onset_s / 60, end / 60, color="tab:orange", alpha=0.25)
    top.set_ylabel("left share %")
    top.set_title(
        f"{result.path.name}: balance, power-weighted over 1 min (shaded: flagged)"
    )
    top.legend(loc="upper right")
    ones = np.ones_like(t)
    power_30 = _rolling(t, np.nan_to_num(power), ones, 30.0)
    bottom.plot(minutes, _break_gaps(t, power_30), color="tab:red", linewidth=0.8)
    bottom.set_ylabel("power W (30 s)")
    bottom.set_xlabel("minutes")
    if np.isfinite(ride.cadence_rpm).any():
        pedalling = np.where(ride.cadence_rpm > 0, ride.cadence_rpm, np.nan)
        cadence = _rolling(t, pedalling, ones, 30.0)
        cad_ax = bottom.twinx()
        cad_ax.plot(minutes, _break_gaps(t, cadence), color="tab:green", linewidth=0.8)
        cad_ax.set_ylabel("cadence rpm (30 s)")
    fig.savefig(out, dpi=100)


# --- compare ---------------------------------------------------------------------


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


def _side_totals(results: Sequence[Analysis]) -> dict[str, Any]:
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


def render_comparison(doc: dict[str, Any]) -> str:
    """The readable report of ``compare``."""
    lines = [
        f"Indoor:  {len(doc['indoor']['files'])} ride(s), "
        f"{_hms(doc['indoor']['riding_s'])} riding, overall "
        f"L {_num(doc['indoor']['balance_left_pct'], '.1f')} %",
        f"Outdoor: {len(doc['outdoor']['files'])} ride(s), "
        f"{_hms(doc['outdoor']['riding_s'])} riding, overall "
        f"L {_num(doc['outdoor']['balance_left_pct'], '.1f')} %",
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
            f"  {row['band']:<12}{_num(row['indoor_left_pct'], '.1f'):>8}"
            f"{_num(row['outdoor_left_pct'], '.1f'):>9}"
            f"{_num(row['difference_pts'], '+.1f'):>8}"
            f"{_num(row['ci95_pts'], '.1f'):>7}  {verdict}"
        )
    lines.append("")
    lines.append(
        "Beyond noise: |diff| above both the 95 % interval (10 s block means, "
        "autocorrelation-corrected) and 1 point (balance resolution)."
    )
    return "\n".join(lines)


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else value


def plot_comparison(doc: dict[str, Any], out: Path) -> None:
    """Grouped bars of left share per band, indoor vs outdoor, with 95 % bars."""
    figure_cls = _figure()
    rows = [
        r
        for r in doc["bands"]
        if r["indoor_left_pct"] is not None or r["outdoor_left_pct"] is not None
    ]
    fig = figure_cls(figsize=(10, 5), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(rows))
    width = 0.38
    for offset, side, colour in (
        (-0.5, "indoor", "tab:blue"),
        (0.5, "outdoor", "tab:orange"),
    ):
        values = [_nan_if_none(r[f"{side}_left_pct"]) for r in rows]
        errors = [_nan_if_none(r[f"{side}_ci95_pts"]) for r in rows]
        ax.bar(x + offset * width, values, width, label=side, color=colour)
        ax.errorbar(x + offset * width, values, yerr=errors, fmt="none", ecolor="0.2")
    for i, r in enumerate(rows):
        if r["exceeds_noise"]:
            top = max(r["indoor_left_pct"], r["outdoor_left_pct"])
            ax.annotate(
                f"{r['difference_pts']:+.1f}",
                (i, top),
                textcoords="offset points",
                xytext=(0, 4),
                ha="center",
            )
    ax.axhline(50, color="0.5", linewidth=0.8)
    finite = [
        v
        for r in rows
        for v in (r["indoor_left_pct"], r["outdoor_left_pct"])
        if v is not None
    ]
    low = min([*finite, 50.0]) - 3
    high = max([*finite, 50.0]) + 3
    ax.set_ylim(low, high)
    ax.set_xticks(x, [r["band"] for r in rows])
    ax.set_ylabel("left share % (power-weighted)")
    ax.set_title(
        "Balance by power band, indoor vs outdoor: bars 95 % intervals, "
        "numbers beyond noise"
    )
    ax.legend()
    fig.savefig(out, dpi=100)


# --- decode, scan, simulate ---------------------------------------------------------

DEVICE_NAMES = {
    "power": 11,
    "bike_power": 11,
    "fec": 17,
    "fe": 17,
    "trainer": 17,
    "hr": 120,
}


def _device_type(text: str) -> int:
    key = text.strip().lower()
    if key in DEVICE_NAMES:
        return DEVICE_NAMES[key]
    try:
        return int(key, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown device type {text!r} (power, fec, hr, or a number)"
        ) from None


def _page_bytes(text: str) -> bytes:
    cleaned = text.replace(":", "").replace(" ", "").replace("-", "")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise CliError(f"page {text!r} is not hexadecimal") from None


def cmd_decode(args: argparse.Namespace, out: IO[str]) -> int:
    """Decode raw ANT+ pages; with --device-type they print as JSON."""
    pages = list(args.pages)
    device = args.device_type
    if device is None:
        if len(pages) < 2:
            raise CliError("decode needs a device type and at least one page")
        try:
            device = _device_type(pages.pop(0))
        except argparse.ArgumentTypeError as err:
            raise CliError(str(err)) from None
    as_json = args.json or args.device_type is not None
    decoded: list[dict[str, object]] = []
    for text in pages:
        try:
            decoded.append(page_to_dict(decode_page(device, _page_bytes(text))))
        except MalformedPage as err:
            raise CliError(f"page {text}: {err}") from None
    if as_json:
        json.dump(
            decoded if len(decoded) > 1 else decoded[0], out, indent=2, default=str
        )
        out.write("\n")
    else:
        for page in decoded:
            out.write(", ".join(f"{k}={v}" for k, v in page.items()) + "\n")
    return 0


def describe_device(device_type: int, pages: Mapping[int, bytes]) -> str | None:
    """Manufacturer, model and serial from the common pages a device sent."""
    parts: list[str] = []
    for number in (COMMON_PAGE_MANUFACTURER, COMMON_PAGE_PRODUCT):
        data = pages.get(number)
        if data is None:
            continue
        try:
            page = decode_page(device_type, data)
        except MalformedPage:
            continue
        if isinstance(page, ManufacturerPage):
            parts.append(
                f"manufacturer {page.manufacturer_id} model {page.model_number}"
            )
        elif isinstance(page, ProductPage):
            if page.serial_number is not None:
                parts.append(f"serial {page.serial_number}")
            parts.append(f"software {page.software_version}")
    return ", ".join(parts) or None


def cmd_scan(args: argparse.Namespace, out: IO[str]) -> int:
    """List ANT+ devices heard within the given time."""
    try:
        # openant and pyusb load only for the command that talks to the stick.
        from .ant.receiver import scan  # noqa: PLC0415
        from .ant.usb_errors import AntStickError  # noqa: PLC0415
    except ImportError as err:  # pragma: no cover - only without openant/pyusb
        raise CliError(f"scanning needs the ANT+ receiver ({err})") from None
    try:
        devices = scan(args.seconds, describe=describe_device)
    except AntStickError as err:
        raise CliError(f"ANT+ stick: {err}") from None
    if args.json:
        json.dump(
            [
                {
                    "device_type": d.device_type,
                    "profile": d.profile,
                    "device_number": d.extended_device_number,
                    "transmission_type": d.transmission_type,
                    "pages": d.page_count,
                    "description": d.description,
                }
                for d in devices
            ],
            out,
            indent=2,
        )
        out.write("\n")
        return 0
    if not devices:
        out.write(f"no ANT+ devices heard in {args.seconds:g} s\n")
    for d in devices:
        out.write(
            f"{d.profile:<12} #{d.extended_device_number:<7} {d.page_count:>5} pages"
            f"  {d.description or ''}\n"
        )
    return 0


def cmd_simulate(args: argparse.Namespace, out: IO[str]) -> int:
    """Print (or write) the simulator's scripted ride."""
    arrays = generate(demo_ride(), seed=args.seed, hz=args.hz)
    if args.fit is not None:
        ride = Ride.from_columns(
            arrays.t_s,
            power_w=arrays.power_w,
            left_pct=arrays.left_pct,
            cadence_rpm=arrays.cadence_rpm,
            heart_rate_bpm=arrays.heart_rate_bpm,
            te_left_pct=arrays.te_left_pct,
            te_right_pct=arrays.te_right_pct,
            ps_left_pct=arrays.ps_left_pct,
            ps_right_pct=arrays.ps_right_pct,
            indoor=True,
            sub_sport="virtual_activity",
        )
        write_fit(args.fit, ride)
    if args.output is not None:
        with args.output.open("w", encoding="utf-8", newline="") as handle:
            write_csv(handle, arrays)
    elif args.fit is None:
        write_csv(out, arrays)
    return 0


# --- analyze / compare commands ------------------------------------------------------


def _indoor_flag(args: argparse.Namespace) -> bool | None:
    if args.indoor_flag:
        return True
    if args.outdoor_flag:
        return False
    return None


def cmd_analyze(args: argparse.Namespace, out: IO[str]) -> int:
    """Analyse one ride."""
    settings = _settings(args)
    baseline = None
    if args.baseline:
        progress = Progress(len(args.baseline), _progress_enabled(args))
        baseline = learn_baseline(
            args.baseline, settings, args.allow_truncated, progress
        )
    result = analyse_file(
        args.ride, settings, _indoor_flag(args), args.allow_truncated, baseline
    )
    if args.plot is not None:
        plot_analysis(result, args.plot, settings.power_floor_w)
    if args.json:
        json.dump(analysis_json(result), out, indent=2)
        out.write("\n")
    else:
        out.write(render_analysis(result) + "\n")
        if args.plot is not None:
            out.write(f"Plot written to {args.plot}\n")
    return 0


def cmd_compare(args: argparse.Namespace, out: IO[str]) -> int:
    """Indoor rides against outdoor rides, band by band."""
    settings = _settings(args)
    progress = Progress(len(args.indoor) + len(args.outdoor), _progress_enabled(args))
    sides: dict[str, list[Analysis]] = {"indoor": [], "outdoor": []}
    for side, paths in (("indoor", args.indoor), ("outdoor", args.outdoor)):
        for path in paths:
            result = analyse_file(
                path, settings, side == "indoor", args.allow_truncated
            )
            result.ride.require_balance()
            sides[side].append(result)
            progress.step(path.name)
    doc = {
        "version": JSON_VERSION,
        "indoor": _side_totals(sides["indoor"]),
        "outdoor": _side_totals(sides["outdoor"]),
        "bands": compare_sides(sides["indoor"], sides["outdoor"], settings),
        "noise_rule": {
            "z": Z95,
            "min_difference_pts": RESOLUTION_PTS,
            "min_blocks": MIN_BLOCKS,
            "block_s": settings.block_s,
        },
    }
    if args.plot is not None:
        plot_comparison(doc, args.plot)
    if args.json:
        json.dump(doc, out, indent=2)
        out.write("\n")
    else:
        out.write(render_comparison(doc) + "\n")
        if args.plot is not None:
            out.write(f"Plot written to {args.plot}\n")
    return 0


# --- parser ----------------------------------------------------------------------


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ridebalance",
        description="Left/right pedal balance: analyse and compare rides, decode ANT+.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def analysis_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print JSON (docs/cli.md)")
        p.add_argument("--plot", type=Path, metavar="OUT.png", help="write a PNG plot")
        p.add_argument(
            "--power-floor",
            type=_non_negative,
            metavar="W",
            help="ignore balance below this power (default 40 W)",
        )
        p.add_argument("--ftp", type=_positive, metavar="W", help="power bands by FTP")
        p.add_argument(
            "--allow-truncated",
            action="store_true",
            help="use what a cut-off FIT file holds instead of refusing it",
        )
        p.add_argument("--progress", action="store_true", help="progress bar on stderr")

    p_an = sub.add_parser("analyze", help="analyse one ride (FIT or CSV)")
    p_an.add_argument("ride", type=Path, metavar="RIDE")
    where = p_an.add_mutually_exclusive_group()
    where.add_argument("--indoor", dest="indoor_flag", action="store_true")
    where.add_argument("--outdoor", dest="outdoor_flag", action="store_true")
    p_an.add_argument(
        "--baseline",
        nargs="+",
        type=Path,
        metavar="RIDE",
        help="learn your usual balance per power band from these rides first",
    )
    analysis_options(p_an)
    p_an.set_defaults(func=cmd_analyze)

    p_cmp = sub.add_parser("compare", help="indoor vs outdoor balance per power band")
    p_cmp.add_argument("--indoor", nargs="+", type=Path, required=True, metavar="RIDE")
    p_cmp.add_argument("--outdoor", nargs="+", type=Path, required=True, metavar="RIDE")
    analysis_options(p_cmp)
    p_cmp.set_defaults(func=cmd_compare)

    p_dec = sub.add_parser(
        "decode",
        help="decode raw ANT+ pages",
        usage="%(prog)s (--device-type DEVICE | DEVICE) PAGE [PAGE ...] [--json]",
    )
    p_dec.add_argument(
        "--device-type",
        "-d",
        type=_device_type,
        metavar="DEVICE",
        help="power (11), fec (17), hr (120) or a device-type number; "
        "without it the first argument is the device",
    )
    p_dec.add_argument("pages", nargs="+", metavar="PAGE", help="8 bytes in hex")
    p_dec.add_argument("--json", action="store_true")
    p_dec.set_defaults(func=cmd_decode)

    p_scan = sub.add_parser("scan", help="list ANT+ devices in range")
    p_scan.add_argument("--seconds", type=_positive, default=10.0)
    p_scan.add_argument("--json", action="store_true")
    p_scan.set_defaults(func=cmd_scan)

    p_sim = sub.add_parser("simulate", help="the simulator's scripted ride as CSV/FIT")
    p_sim.add_argument("--seed", type=int, default=0)
    p_sim.add_argument("--hz", type=_positive, default=4.0)
    p_sim.add_argument("--output", type=Path, metavar="OUT.csv")
    p_sim.add_argument("--fit", type=Path, metavar="OUT.fit")
    p_sim.set_defaults(func=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    stream = out if out is not None else sys.stdout
    func: Callable[[argparse.Namespace, IO[str]], int] = args.func
    try:
        return func(args, stream)
    except (RideFileError, CliError) as err:
        sys.stderr.write(f"ridebalance {args.command}: {err}\n")
        return 1
    except OSError as err:
        sys.stderr.write(f"ridebalance {args.command}: {err}\n")
        return 1


if __name__ == "__main__":  # pragma: no cover - exercised through scripts/ridebalance
    sys.exit(main())

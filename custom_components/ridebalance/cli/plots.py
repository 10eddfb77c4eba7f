"""PNG plots of a ride and of an indoor/outdoor comparison (matplotlib, off-screen)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis import AnalysisSettings
from ..analysis.cleaning import CleanColumns
from ..rides.ride import FloatArray
from .rides import Analysis

ROLLING_BALANCE_S = 60.0


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


def balance_line(clean: CleanColumns) -> FloatArray:
    """The plotted left share: power-weighted over the trailing minute."""
    return _rolling(clean.t_s, clean.left_pct, clean.power_w, ROLLING_BALANCE_S)


def plot_analysis(result: Analysis, out: Path, settings: AnalysisSettings) -> None:
    """Balance (1-minute), power and cadence over the ride, episodes shaded."""
    figure_cls = _figure()
    # The engine's cleaning on the engine's clock (wall clock, pauses kept):
    # the episodes are timed on it, and a pause shows as a break in the lines.
    clean, _ = result.ride.cleaned(settings, clock="wall")
    t = clean.t_s
    fig = figure_cls(figsize=(11, 6.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    minutes = t / 60
    power = clean.power_w
    left = balance_line(clean)
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
    if np.isfinite(clean.cadence_rpm).any():
        pedalling = np.where(clean.cadence_rpm > 0, clean.cadence_rpm, np.nan)
        cadence = _rolling(t, pedalling, ones, 30.0)
        cad_ax = bottom.twinx()
        cad_ax.plot(minutes, _break_gaps(t, cadence), color="tab:green", linewidth=0.8)
        cad_ax.set_ylabel("cadence rpm (30 s)")
    fig.savefig(out, dpi=100)


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

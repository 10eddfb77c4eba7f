"""The engine fed a whole ride at once (files, the CLI), vectorised with numpy.

The same results as streaming the ride sample by sample (see :mod:`.totals`).
"""

from __future__ import annotations

from collections.abc import Iterable
import math

import numpy as np
import numpy.typing as npt

from ..model import READING_FIELDS, ReadingArrays, Sample
from .baseline import Baseline
from .cleaning import CleanColumns, clean_columns
from .results import SessionSummary
from .settings import AnalysisSettings
from .totals import (
    NP_WINDOW_S,
    BandSums,
    FloatArray,
    IntArray,
    SessionSums,
    default_baseline,
    empty_blocks,
    make_block,
    summarize,
)


def _seq(values: FloatArray) -> float:
    """Sum in index order (like a running ``+=``), unlike numpy's pairwise sum."""
    if values.size == 0:
        return 0.0
    return float(np.bincount(np.zeros(values.size, np.intp), weights=values)[0])


def _bins(idx: IntArray, values: FloatArray, nb: int) -> list[float]:
    return [float(v) for v in np.bincount(idx, weights=values, minlength=nb)]


type SampleColumns = tuple[
    FloatArray,
    FloatArray,
    npt.NDArray[np.bool_],
    FloatArray,
    npt.NDArray[np.bool_],
    FloatArray,
]
"""Per sample: seconds counted, power, has balance, left share, has cadence, cadence."""


def _band_sums(
    idx: IntArray, nb: int, rows: IntArray, columns: SampleColumns
) -> BandSums:
    """Per-band sums over ``rows`` (riding samples only); ``idx`` is each row's band."""
    dt, p, has_bal, left, has_cad, c = columns
    dt, p, left, c = dt[rows], p[rows], left[rows], c[rows]
    has_bal, has_cad = has_bal[rows], has_cad[rows]
    ones = np.ones(idx.size)
    return BandSums(
        ride_s=_bins(idx, dt, nb),
        n=_bins(idx, ones, nb),
        power=_bins(idx, p, nb),
        bal_p=_bins(idx[has_bal], p[has_bal], nb),
        bal_pl=_bins(idx[has_bal], p[has_bal] * left[has_bal], nb),
        n_cad=_bins(idx[has_cad], ones[has_cad], nb),
        cad=_bins(idx[has_cad], c[has_cad], nb),
    )


def _columns_of(
    ride: ReadingArrays | Iterable[Sample],
) -> tuple[FloatArray, dict[str, FloatArray]]:
    if isinstance(ride, ReadingArrays):
        return np.asarray(ride.t_s, dtype=np.float64), {
            name: np.asarray(getattr(ride, name), dtype=np.float64)
            for name in READING_FIELDS
        }
    samples = list(ride)
    t = np.array([s.t_s for s in samples], dtype=np.float64)
    cols = {
        name: np.array(
            [math.nan if (v := getattr(s, name)) is None else v for s in samples],
            dtype=np.float64,
        )
        for name in READING_FIELDS
    }
    return t, cols


def analyze(
    ride: ReadingArrays | Iterable[Sample],
    settings: AnalysisSettings | None = None,
    baseline: Baseline | None = None,
    context: str | None = None,
) -> SessionSummary:
    """Analyse a whole ride (vectorised); the same results as streaming it.

    ``ride`` is arrays (NaN = not measured) or any iterable of :class:`Sample`.
    ``baseline`` is read, not modified (see :meth:`Baseline.learn`).
    Raises ``ValueError`` when the columns differ in length.
    """
    settings = settings or AnalysisSettings()
    baseline = baseline or default_baseline(settings)
    sums = SessionSums.start(settings, baseline)
    tot, det = sums.tot, sums.det
    t_raw, cols = _columns_of(ride)
    cc: CleanColumns = clean_columns(t_raw, cols, settings, sums.counts)
    n = cc.t_s.size
    if n == 0:
        return summarize(sums, settings, baseline, 0.0, context)
    t = cc.t_s
    t0 = float(t[0])
    gaps = np.diff(t)
    sums.counts["gaps"] += int(np.count_nonzero(gaps > settings.max_gap_s))
    dt = np.concatenate(([0.0], np.minimum(gaps, settings.max_gap_s)))
    el = t - t0
    blk_abs = np.floor(el / settings.block_s).astype(np.intp)
    # Occupied blocks only (a clock jump must not allocate empty ones).
    occupied, blk = np.unique(blk_abs, return_inverse=True)
    nblocks = int(occupied.size)

    p = cc.power_w
    riding = cc.riding
    has_p = ~np.isnan(p)
    has_bal = ~np.isnan(cc.left_pct)  # cleaning leaves balance only while riding
    has_cad = riding & ~np.isnan(cc.cadence_rpm)
    pz = np.where(has_p, p, 0.0)
    lz = np.where(has_bal, cc.left_pct, 0.0)
    cz = np.where(has_cad, cc.cadence_rpm, 0.0)

    tot.samples = n
    tot.n_power = float(np.count_nonzero(has_p))
    tot.power = _seq(p[has_p])
    tot.bal_p = _seq(p[has_bal])
    tot.bal_pl = _seq(p[has_bal] * cc.left_pct[has_bal])
    for j, col in enumerate(
        (cc.te_left_pct, cc.te_right_pct, cc.ps_left_pct, cc.ps_right_pct)
    ):
        ok = ~np.isnan(col)
        tot.te_ps_n[j] = float(np.count_nonzero(ok))
        tot.te_ps[j] = _seq(col[ok])
    ok = ~np.isnan(cc.heart_rate_bpm)
    tot.n_hr = float(np.count_nonzero(ok))
    tot.hr = _seq(cc.heart_rate_bpm[ok])
    cad = cc.cadence_rpm[has_cad]
    tot.n_cad = float(cad.size)
    tot.cad = _seq(cad)
    tot.cad_sq = _seq(cad * cad)
    tot.riding_s = _seq(dt[riding])
    tot.below_s = _seq(dt[has_cad & (cz < settings.cadence_low_rpm)])
    tot.above_s = _seq(dt[has_cad & (cz > settings.cadence_high_rpm)])

    # Normalized power: 1 Hz grid of per-second means, 30 s rolling mean.
    _, sec = np.unique(np.floor(el[has_p]).astype(np.intp), return_inverse=True)
    sec_mean = np.bincount(sec, weights=p[has_p]) / np.bincount(sec)
    if sec_mean.size >= NP_WINDOW_S:
        roll = (
            np.lib.stride_tricks.sliding_window_view(sec_mean, NP_WINDOW_S).sum(axis=1)
            / NP_WINDOW_S
        )
        tot.np_sum4 = float(np.sum(roll**4))
        tot.np_n = int(roll.size)

    # Per-band sums over riding samples.
    r_idx = np.flatnonzero(riding)
    pi = np.searchsorted(np.asarray(baseline.power_edges_w), p[r_idx], side="right")
    columns: SampleColumns = (dt, p, has_bal, lz, has_cad, cz)
    sums.power_bands = _band_sums(
        pi.astype(np.intp), len(baseline.labels), r_idx, columns
    )
    c_idx = np.flatnonzero(has_cad)
    ci = np.searchsorted(
        np.asarray(settings.cadence_edges_rpm), cz[c_idx], side="right"
    ).astype(np.intp)
    sums.cadence_bands = _band_sums(ci, len(sums.cadence_bands.n), c_idx, columns)

    # Block sums, in the same layout the streaming path accumulates.
    rb = blk[riding]
    bal_b = blk[has_bal]
    cad_b = blk[has_cad]
    cols9 = [
        np.bincount(blk, minlength=nblocks).astype(np.float64),
        np.bincount(rb, minlength=nblocks).astype(np.float64),
        np.bincount(rb, weights=pz[riding], minlength=nblocks),
        np.bincount(rb, weights=dt[riding], minlength=nblocks),
        np.bincount(bal_b, weights=p[has_bal], minlength=nblocks),
        np.bincount(bal_b, weights=p[has_bal] * lz[has_bal], minlength=nblocks),
        np.bincount(bal_b, minlength=nblocks).astype(np.float64),
        np.bincount(cad_b, minlength=nblocks).astype(np.float64),
        np.bincount(cad_b, weights=cz[has_cad], minlength=nblocks),
    ]
    rows = np.column_stack(cols9).tolist()
    prev = -1
    for b, row in zip(occupied.tolist(), rows, strict=True):
        if prev >= 0:
            for i in empty_blocks(prev, b, settings):
                det.step(make_block(i, settings.block_s, [0.0] * 9))
        det.step(make_block(b, settings.block_s, row))
        prev = b
    duration = float(t[-1]) - t0
    det.finish(duration)
    return summarize(sums, settings, baseline, duration, context)


def build_baseline(
    rides: Iterable[ReadingArrays | Iterable[Sample]],
    settings: AnalysisSettings | None = None,
    baseline: Baseline | None = None,
) -> Baseline:
    """Teach ``baseline`` (or a new one cut with the settings' bands) from rides.

    Returns the (same, when given) baseline after learning every ride in order.
    """
    settings = settings or AnalysisSettings()
    baseline = baseline or default_baseline(settings)
    for ride in rides:
        baseline.learn(analyze(ride, settings, baseline))
    return baseline

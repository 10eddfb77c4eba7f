"""The sums behind a session's figures, and the summary made from them.

Both ways into the engine (:mod:`.streaming` sample by sample, :mod:`.batch` a
whole ride at once) clean with the same rules, cut the ride into the same blocks
(block ``floor((t - t0) / block_s)``) and feed the same :class:`BlockDetector`.
They accumulate these sums in sample order (Python ``+=`` live, ``np.bincount``
in batch, which adds in index order), so blocks, episodes and summary figures
come out the same. Normalized power is the one figure summed in a different
order (numpy's pairwise sums) and agrees to ~1e-12.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
import math

import numpy as np
import numpy.typing as npt

from .baseline import Baseline, Expectation
from .blocks import Block
from .detectors import BlockDetector
from .results import BandSummary, BlockStats, DropCounts, DropTally, SessionSummary
from .settings import AnalysisSettings, band_labels

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.intp]

NP_WINDOW_S = 30
"""Normalized power: rolling mean over this many seconds of a 1 Hz series."""


def symmetry_index(left_pct: float | None) -> float | None:
    """SI = (L - R) / ((L + R) / 2) * 100 on the shares; + means left-dominant."""
    if left_pct is None:
        return None
    right = 100.0 - left_pct
    return (left_pct - right) / ((left_pct + right) / 2.0) * 100.0


def div(num: float, den: float) -> float | None:
    """``num / den``, None when nothing was summed."""
    return num / den if den > 0 else None


@dataclass(slots=True)
class BandSums:
    """Per-band sums over riding samples (index = band)."""

    ride_s: list[float]
    n: list[float]
    power: list[float]
    bal_p: list[float]
    bal_pl: list[float]
    n_cad: list[float]
    cad: list[float]

    @classmethod
    def zeros(cls, nb: int) -> BandSums:
        return cls(*([0.0] * nb for _ in range(7)))


@dataclass(slots=True)
class Totals:
    """Session sums; both paths fill them in sample order."""

    samples: int = 0
    n_power: float = 0.0
    power: float = 0.0
    bal_p: float = 0.0
    bal_pl: float = 0.0
    te_ps_n: list[float] = field(default_factory=lambda: [0.0] * 4)
    te_ps: list[float] = field(default_factory=lambda: [0.0] * 4)
    n_hr: float = 0.0
    hr: float = 0.0
    n_cad: float = 0.0
    cad: float = 0.0
    cad_sq: float = 0.0
    riding_s: float = 0.0
    below_s: float = 0.0
    above_s: float = 0.0
    np_sum4: float = 0.0
    np_n: int = 0


def make_block(i: int, block_s: float, sums: Sequence[float]) -> Block:
    """A block's means; a measure counts only if it covers half the block's samples.

    ``sums``: samples, riding samples, riding power, riding seconds, balance power,
    balance power x left, balance samples, cadence samples, cadence.
    """
    n_all, n_ride, p_ride, ride_s, bal_p, bal_pl, n_bal, n_cad, cad = sums
    riding = n_all > 0 and 2 * n_ride >= n_all and n_ride > 0
    power = p_ride / n_ride if riding else None
    bal_ok = riding and n_bal > 0 and 2 * n_bal >= n_all and bal_p > 0
    left = bal_pl / bal_p if bal_ok else None
    cad_ok = riding and n_cad > 0 and 2 * n_cad >= n_all
    return Block(
        index=i,
        start_s=i * block_s,
        end_s=(i + 1) * block_s,
        left_pct=left,
        power_w=power,
        cadence_rpm=cad / n_cad if cad_ok else None,
        riding_s=ride_s,
        bal_power_sum=bal_p if bal_ok else 0.0,
        bal_power_left_sum=bal_pl if bal_ok else 0.0,
    )


def learning_stats(
    valid_blocks: list[tuple[int, str, float, str | None]],
) -> tuple[dict[str, BlockStats], dict[str, BlockStats]]:
    """Per power band block statistics (with the lag-1 autocovariance of
    residuals), and per cadence band ones."""
    out: dict[str, BlockStats] = {}
    cad: dict[str, BlockStats] = {}
    for _, band, x, cad_band in valid_blocks:
        for st in (
            out.setdefault(band, BlockStats()),
            None if cad_band is None else cad.setdefault(cad_band, BlockStats()),
        ):
            if st is not None:
                st.n += 1
                st.sum += x
                st.sum_sq += x * x
    means = {b: st.sum / st.n for b, st in out.items()}
    prev: tuple[int, str, float, str | None] | None = None
    for item in valid_blocks:
        i, band, x, _ = item
        res = x - means[band]
        st = out[band]
        st.lag_den += res * res
        if prev is not None and prev[0] == i - 1 and prev[1] == band:
            st.lag_num += res * (prev[2] - means[band])
        prev = item
    return out, cad


@dataclass(slots=True)
class SessionSums:
    """All a session accumulates: what both paths hand to :func:`summarize`."""

    tot: Totals
    power_bands: BandSums
    cadence_bands: BandSums
    counts: DropTally
    det: BlockDetector

    @classmethod
    def start(cls, settings: AnalysisSettings, baseline: Baseline) -> SessionSums:
        """Empty sums, with a band for each of the baseline's and settings' bands."""
        return cls(
            Totals(),
            BandSums.zeros(len(baseline.labels)),
            BandSums.zeros(len(settings.cadence_edges_rpm) + 1),
            Counter(),
            BlockDetector(settings, baseline),
        )


def summarize(
    sums: SessionSums,
    settings: AnalysisSettings,
    baseline: Baseline,
    duration_s: float,
    context: str | None,
) -> SessionSummary:
    """The session summary from its sums, detectors and baseline.

    Call it once the detectors have finished (their open episodes closed).
    """
    tot, det = sums.tot, sums.det
    n_cad = tot.n_cad
    cad_mean = div(tot.cad, n_cad)
    cad_sd: float | None = None
    if cad_mean is not None and n_cad >= 2:
        cad_sd = math.sqrt(max(0.0, (tot.cad_sq - n_cad * cad_mean**2) / (n_cad - 1)))
    balance = div(tot.bal_pl, tot.bal_p)
    learning, learning_cadence = learning_stats(det.valid_blocks)

    def bands(
        sums: BandSums,
        labels: tuple[str, ...],
        expect: Callable[[str], Expectation],
    ) -> list[BandSummary]:
        out: list[BandSummary] = []
        for i, label in enumerate(labels):
            if sums.n[i] == 0:
                continue
            left = div(sums.bal_pl[i], sums.bal_p[i])
            exp = expect(label)
            base = exp.mean_left_pct if exp.weight > 0 else None
            out.append(
                BandSummary(
                    label=label,
                    riding_s=sums.ride_s[i],
                    avg_power_w=div(sums.power[i], sums.n[i]),
                    balance_left_pct=left,
                    symmetry_index_pct=symmetry_index(left),
                    cadence_avg_rpm=div(sums.cad[i], sums.n_cad[i]),
                    baseline_left_pct=base,
                    vs_baseline_pts=None
                    if left is None or base is None
                    else left - base,
                )
            )
        return out

    return SessionSummary(
        duration_s=duration_s,
        riding_s=tot.riding_s,
        samples=tot.samples,
        dropped=DropCounts.of(sums.counts),
        avg_power_w=div(tot.power, tot.n_power),
        normalized_power_w=(tot.np_sum4 / tot.np_n) ** 0.25 if tot.np_n else None,
        balance_left_pct=balance,
        symmetry_index_pct=symmetry_index(balance),
        te_left_pct=div(tot.te_ps[0], tot.te_ps_n[0]),
        te_right_pct=div(tot.te_ps[1], tot.te_ps_n[1]),
        ps_left_pct=div(tot.te_ps[2], tot.te_ps_n[2]),
        ps_right_pct=div(tot.te_ps[3], tot.te_ps_n[3]),
        cadence_avg_rpm=cad_mean,
        cadence_sd_rpm=cad_sd,
        cadence_cv_pct=None
        if cad_sd is None or not cad_mean
        else 100.0 * cad_sd / cad_mean,
        heart_rate_avg_bpm=div(tot.hr, tot.n_hr),
        time_below_cadence_band_s=tot.below_s,
        time_above_cadence_band_s=tot.above_s,
        power_bands=bands(sums.power_bands, baseline.labels, baseline.expectation),
        cadence_bands=bands(
            sums.cadence_bands,
            band_labels(settings.cadence_edges_rpm, "rpm"),
            baseline.cadence_expectation,
        ),
        episodes=list(det.episodes),
        balance_reference_left_pct=det.balance_reference_left_pct,
        balance_drift_onset_s=det.drift_onset_s,
        max_drift_pts=det.max_drift_pts,
        learning=learning,
        learning_cadence=learning_cadence,
        power_edges_w=baseline.power_edges_w,
        context=context,
    )


def empty_blocks(last: int, new: int, settings: AnalysisSettings) -> range:
    """Empty blocks between two occupied ones that the detectors need to see.

    Past ``pause_reset_s`` of silence an empty block changes nothing, so a long
    gap (or a clock jump in a file) is not walked block by block.
    """
    needed = math.ceil(settings.pause_reset_s / settings.block_s) + 1
    return range(last + 1, min(new, last + 1 + needed))


def default_baseline(settings: AnalysisSettings) -> Baseline:
    return Baseline(power_edges_w=settings.effective_power_edges())

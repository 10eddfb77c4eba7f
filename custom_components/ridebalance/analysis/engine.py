"""Streaming and batch entry points of the balance engine.

Both paths clean with the same rules, cut the ride into the same blocks (block
``floor((t - t0) / block_s)``) and feed the same :class:`BlockDetector`. The sums
behind blocks and session figures are accumulated in sample order in both (Python
``+=`` live, ``np.bincount`` in batch, which adds in index order), so blocks,
episodes and summary figures come out the same. Normalized power is the one figure
summed in a different order (numpy's pairwise sums) and agrees to ~1e-12.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
import math
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ..model import READING_FIELDS, Sample
from .baseline import Baseline, Expectation
from .cleaning import CleanColumns, clean_columns, clean_values
from .detectors import Block, BlockDetector
from .results import (
    BandSummary,
    BlockStats,
    DropCounts,
    Episode,
    EpisodeKind,
    Event,
    LiveMetrics,
    SessionSummary,
)
from .settings import AnalysisSettings, band_index, band_labels

type FloatArray = npt.NDArray[np.float64]
type IntArray = npt.NDArray[np.intp]

NP_WINDOW_S = 30
WINDOWS_S = (10.0, 60.0, 300.0)


@runtime_checkable
class RideArraysLike(Protocol):
    """A whole ride as equal-length float arrays; NaN means "not measured".

    ``custom_components.ridebalance.sim.RideArrays`` and the ride readers' arrays
    satisfy it. ``t_s`` is seconds; samples whose time goes backwards are dropped.
    """

    @property
    def t_s(self) -> FloatArray: ...
    @property
    def power_w(self) -> FloatArray: ...
    @property
    def left_pct(self) -> FloatArray: ...
    @property
    def cadence_rpm(self) -> FloatArray: ...
    @property
    def heart_rate_bpm(self) -> FloatArray: ...
    @property
    def te_left_pct(self) -> FloatArray: ...
    @property
    def te_right_pct(self) -> FloatArray: ...
    @property
    def ps_left_pct(self) -> FloatArray: ...
    @property
    def ps_right_pct(self) -> FloatArray: ...


def symmetry_index(left_pct: float | None) -> float | None:
    """SI = (L - R) / ((L + R) / 2) * 100 on the shares; + means left-dominant."""
    if left_pct is None:
        return None
    right = 100.0 - left_pct
    return (left_pct - right) / ((left_pct + right) / 2.0) * 100.0


def _div(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


@dataclass(slots=True)
class _BandSums:
    """Per-band sums over riding samples (index = band)."""

    ride_s: list[float]
    n: list[float]
    power: list[float]
    bal_p: list[float]
    bal_pl: list[float]
    n_cad: list[float]
    cad: list[float]

    @classmethod
    def zeros(cls, nb: int) -> _BandSums:
        return cls(*([0.0] * nb for _ in range(7)))


@dataclass(slots=True)
class _Totals:
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


def _make_block(i: int, block_s: float, sums: Sequence[float]) -> Block:
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


def _learning(
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


def _summarize(
    tot: _Totals,
    *,
    power_bands: _BandSums,
    cadence_bands: _BandSums,
    det: BlockDetector,
    counts: DropCounts,
    settings: AnalysisSettings,
    baseline: Baseline,
    duration_s: float,
    context: str | None,
) -> SessionSummary:
    n_cad = tot.n_cad
    cad_mean = _div(tot.cad, n_cad)
    cad_sd: float | None = None
    if cad_mean is not None and n_cad >= 2:
        cad_sd = math.sqrt(max(0.0, (tot.cad_sq - n_cad * cad_mean**2) / (n_cad - 1)))
    balance = _div(tot.bal_pl, tot.bal_p)
    learning, learning_cadence = _learning(det.valid_blocks)

    def bands(
        sums: _BandSums,
        labels: tuple[str, ...],
        expect: Callable[[str], Expectation],
    ) -> list[BandSummary]:
        out: list[BandSummary] = []
        for i, label in enumerate(labels):
            if sums.n[i] == 0:
                continue
            left = _div(sums.bal_pl[i], sums.bal_p[i])
            exp = expect(label)
            base = exp.mean_left_pct if exp.weight > 0 else None
            out.append(
                BandSummary(
                    label=label,
                    riding_s=sums.ride_s[i],
                    avg_power_w=_div(sums.power[i], sums.n[i]),
                    balance_left_pct=left,
                    symmetry_index_pct=symmetry_index(left),
                    cadence_avg_rpm=_div(sums.cad[i], sums.n_cad[i]),
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
        dropped=replace(counts),
        avg_power_w=_div(tot.power, tot.n_power),
        normalized_power_w=(tot.np_sum4 / tot.np_n) ** 0.25 if tot.np_n else None,
        balance_left_pct=balance,
        symmetry_index_pct=symmetry_index(balance),
        te_left_pct=_div(tot.te_ps[0], tot.te_ps_n[0]),
        te_right_pct=_div(tot.te_ps[1], tot.te_ps_n[1]),
        ps_left_pct=_div(tot.te_ps[2], tot.te_ps_n[2]),
        ps_right_pct=_div(tot.te_ps[3], tot.te_ps_n[3]),
        cadence_avg_rpm=cad_mean,
        cadence_sd_rpm=cad_sd,
        cadence_cv_pct=None
        if cad_sd is None or not cad_mean
        else 100.0 * cad_sd / cad_mean,
        heart_rate_avg_bpm=_div(tot.hr, tot.n_hr),
        time_below_cadence_band_s=tot.below_s,
        time_above_cadence_band_s=tot.above_s,
        power_bands=bands(power_bands, baseline.labels, baseline.expectation),
        cadence_bands=bands(
            cadence_bands,
            band_labels(settings.cadence_edges_rpm, "rpm"),
            baseline.cadence_expectation,
        ),
        episodes=[replace(e) for e in det.episodes],
        balance_reference_left_pct=det.balance_reference_left_pct,
        balance_drift_onset_s=det.drift_onset_s,
        max_drift_pts=det.max_drift_pts,
        learning=learning,
        learning_cadence=learning_cadence,
        power_edges_w=baseline.power_edges_w,
        context=context,
    )


def _empty_blocks(last: int, new: int, settings: AnalysisSettings) -> range:
    """Empty blocks between two occupied ones that the detectors need to see.

    Past ``pause_reset_s`` of silence an empty block changes nothing, so a long
    gap (or a clock jump in a file) is not walked block by block.
    """
    needed = math.ceil(settings.pause_reset_s / settings.block_s) + 1
    return range(last + 1, min(new, last + 1 + needed))


def _default_baseline(settings: AnalysisSettings) -> Baseline:
    return Baseline(power_edges_w=settings.effective_power_edges())


class StreamingAnalyzer:
    """The engine fed one :class:`Sample` at a time (live riding).

    ``baseline`` is read, never modified: teach it after the ride with
    ``baseline.learn(analyzer.finish())``. Its power bands are the ones used (a new
    empty baseline cut with the settings' bands when None). ``context``
    ("indoor"/"outdoor") is recorded in the summary.
    """

    def __init__(
        self,
        settings: AnalysisSettings | None = None,
        baseline: Baseline | None = None,
        context: str | None = None,
    ) -> None:
        self.settings = settings or AnalysisSettings()
        self.baseline = baseline or _default_baseline(self.settings)
        self.context = context
        self._det = BlockDetector(self.settings, self.baseline)
        self._counts = DropCounts()
        self._tot = _Totals()
        self._pb = _BandSums.zeros(len(self.baseline.labels))
        self._cb = _BandSums.zeros(len(self.settings.cadence_edges_rpm) + 1)
        self._t0: float | None = None
        self._last_t = -math.inf
        self._last_riding = False
        self._block = 0
        self._bsum = [0.0] * 9
        self._sec = 0
        self._sec_sum = 0.0
        self._sec_n = 0
        self._np_win: deque[float] = deque(maxlen=NP_WINDOW_S)
        # (t, power, bal_p, bal_pl, cadence, hr, te_l, te_r, ps_l, ps_r)
        self._win: deque[tuple[float, ...]] = deque()
        self._finished: SessionSummary | None = None

    @property
    def episodes(self) -> list[Episode]:
        """Every episode so far, open ones included."""
        return self._det.episodes

    def update_settings(self, settings: AnalysisSettings) -> None:
        """Apply new knobs mid-ride (from the UI); they act from the next block.

        Block length and power bands stay as the session started: changing them
        would cut the ride differently halfway through.
        """
        settings = replace(
            settings,
            block_s=self.settings.block_s,
            power_edges_w=self.settings.power_edges_w,
            ftp_w=self.settings.ftp_w,
        )
        self.settings = settings
        self._det.update_settings(settings)

    def baseline_changed(self) -> None:
        """The baseline object was reset or taught mid-ride; use what it says now."""
        self._det.baseline_changed()

    def push(self, sample: Sample) -> list[Event]:
        """Take one reading; return episodes that started or ended because of it."""
        if self._finished is not None:
            raise RuntimeError("the session is finished; start a new analyzer")
        s = self.settings
        t = float(sample.t_s)
        if math.isnan(t) or t < self._last_t:
            self._counts.out_of_order += 1
            return []
        cv = clean_values(sample, s, self._counts)
        events: list[Event] = []
        if self._t0 is None:
            self._t0 = t
            dt = 0.0
        else:
            gap = t - self._last_t
            if gap > s.max_gap_s:
                self._counts.gaps += 1
            dt = min(gap, s.max_gap_s)
        self._last_t = t
        el = t - self._t0
        b = math.floor(el / s.block_s)
        if b != self._block:
            events = self._close_blocks(b)
        sec = math.floor(el)
        if sec != self._sec:
            self._close_second()
            self._sec = sec

        tot = self._tot
        tot.samples += 1
        p = cv.power_w
        riding = cv.riding
        self._last_riding = riding
        bs = self._bsum
        bs[0] += 1.0
        if not math.isnan(p):
            tot.n_power += 1.0
            tot.power += p
            self._sec_sum += p
            self._sec_n += 1
        left = cv.left_pct
        has_bal = not math.isnan(left)
        c = cv.cadence_rpm
        has_cad = riding and not math.isnan(c)
        if riding:
            tot.riding_s += dt
            bs[1] += 1.0
            bs[2] += p
            bs[3] += dt
            pi = band_index(p, self.baseline.power_edges_w)
            pb = self._pb
            pb.ride_s[pi] += dt
            pb.n[pi] += 1.0
            pb.power[pi] += p
            if has_bal:
                pl = p * left
                tot.bal_p += p
                tot.bal_pl += pl
                bs[4] += p
                bs[5] += pl
                bs[6] += 1.0
                pb.bal_p[pi] += p
                pb.bal_pl[pi] += pl
            if has_cad:
                tot.n_cad += 1.0
                tot.cad += c
                tot.cad_sq += c * c
                bs[7] += 1.0
                bs[8] += c
                pb.n_cad[pi] += 1.0
                pb.cad[pi] += c
                if c < s.cadence_low_rpm:
                    tot.below_s += dt
                elif c > s.cadence_high_rpm:
                    tot.above_s += dt
                ci = band_index(c, s.cadence_edges_rpm)
                cb = self._cb
                cb.ride_s[ci] += dt
                cb.n[ci] += 1.0
                cb.power[ci] += p
                cb.n_cad[ci] += 1.0
                cb.cad[ci] += c
                if has_bal:
                    cb.bal_p[ci] += p
                    cb.bal_pl[ci] += p * left
        tp = (cv.te_left_pct, cv.te_right_pct, cv.ps_left_pct, cv.ps_right_pct)
        for j, v in enumerate(tp):
            if not math.isnan(v):
                tot.te_ps_n[j] += 1.0
                tot.te_ps[j] += v
        hr = cv.heart_rate_bpm
        if not math.isnan(hr):
            tot.n_hr += 1.0
            tot.hr += hr
        self._win.append(
            (
                t,
                p,
                p if has_bal else 0.0,
                p * left if has_bal else 0.0,
                c if has_cad else math.nan,
                hr,
                *tp,
            )
        )
        horizon = t - WINDOWS_S[-1]
        while self._win[0][0] <= horizon:
            self._win.popleft()
        return events

    def _close_blocks(self, new_block: int) -> list[Event]:
        events: list[Event] = []
        bs = self._bsum
        block_s = self.settings.block_s
        events.extend(self._det.step(_make_block(self._block, block_s, bs)))
        for i in _empty_blocks(self._block, new_block, self.settings):
            events.extend(self._det.step(_make_block(i, block_s, [0.0] * 9)))
        self._block = new_block
        self._bsum = [0.0] * 9
        return events

    def _close_second(self) -> None:
        if self._sec_n == 0:
            return
        self._np_win.append(self._sec_sum / self._sec_n)
        self._sec_sum = 0.0
        self._sec_n = 0
        if len(self._np_win) == NP_WINDOW_S:
            r = sum(self._np_win) / NP_WINDOW_S
            self._tot.np_sum4 += r**4
            self._tot.np_n += 1

    def snapshot(self) -> LiveMetrics:
        """Metrics of the ride so far (cheap; call at most once a second)."""
        det = self._det
        tot = self._tot
        s = self.settings
        m = LiveMetrics(
            riding_s=tot.riding_s,
            riding=self._last_riding,
            dropped=replace(self._counts),
            time_below_cadence_band_s=tot.below_s,
            time_above_cadence_band_s=tot.above_s,
            balance_session_left_pct=_div(tot.bal_pl, tot.bal_p),
            avg_power_w=_div(tot.power, tot.n_power),
            normalized_power_w=(tot.np_sum4 / tot.np_n) ** 0.25 if tot.np_n else None,
            cadence_reference_rpm=det.cadence_reference_rpm,
            cadence_drift_rpm=det.cadence_drift_rpm,
            balance_reference_left_pct=det.balance_reference_left_pct,
            balance_drift_pts=det.drift_pts,
            balance_drift_onset_s=det.drift_onset_s,
            episode_count=len(det.episodes),
        )
        if self._t0 is None:
            return m
        m.elapsed_s = self._last_t - self._t0
        active = [replace(e) for e in det.active_episodes()]
        m.active_episodes = active
        kinds = {e.kind for e in active}
        m.asymmetry_active = EpisodeKind.ASYMMETRY in kinds
        m.cadence_drift_active = EpisodeKind.CADENCE_DRIFT in kinds
        m.cadence_out_of_band_active = EpisodeKind.CADENCE_OUT_OF_BAND in kinds
        balances: list[float | None] = []
        for w in WINDOWS_S:
            since = self._last_t - w
            bp = sum(r[2] for r in self._win if r[0] > since)
            bpl = sum(r[3] for r in self._win if r[0] > since)
            balances.append(_div(bpl, bp))
        m.balance_10s_left_pct, m.balance_1min_left_pct, m.balance_5min_left_pct = (
            balances
        )
        m.symmetry_index_pct = symmetry_index(m.balance_1min_left_pct)

        def mean(col: int, w: float) -> float | None:
            since = self._last_t - w
            vals = [
                r[col] for r in self._win if r[0] > since and not math.isnan(r[col])
            ]
            return sum(vals) / len(vals) if vals else None

        m.power_w = mean(1, 10.0)
        m.cadence_rpm = mean(4, 10.0)
        m.heart_rate_bpm = mean(5, 10.0)
        m.te_left_pct, m.te_right_pct, m.ps_left_pct, m.ps_right_pct = (
            mean(6, 60.0),
            mean(7, 60.0),
            mean(8, 60.0),
            mean(9, 60.0),
        )
        if m.cadence_rpm is not None:
            m.cadence_in_band = s.cadence_low_rpm <= m.cadence_rpm <= s.cadence_high_rpm
        if m.power_w is not None and m.power_w >= s.power_floor_w:
            m.power_band = det.band_for(m.power_w)
            exp = det.expectation(m.power_band)
            m.baseline_left_pct = exp.mean_left_pct
            if m.balance_1min_left_pct is not None:
                m.vs_baseline_pts = m.balance_1min_left_pct - exp.mean_left_pct
        return m

    def finish(self) -> SessionSummary:
        """Close the last block and any open episode; return the session summary.

        Calling it again returns the same summary.
        """
        if self._finished is not None:
            return self._finished
        duration = 0.0
        if self._t0 is not None:
            duration = self._last_t - self._t0
            self._close_second()
            self._close_blocks(self._block + 1)
            self._det.finish(duration)
        self._finished = _summarize(
            self._tot,
            power_bands=self._pb,
            cadence_bands=self._cb,
            det=self._det,
            counts=self._counts,
            settings=self.settings,
            baseline=self.baseline,
            duration_s=duration,
            context=self.context,
        )
        return self._finished


# ---------------------------------------------------------------------- batch


def _seq(values: FloatArray) -> float:
    """Sum in index order (like a running ``+=``), unlike numpy's pairwise sum."""
    if values.size == 0:
        return 0.0
    return float(np.bincount(np.zeros(values.size, np.intp), weights=values)[0])


def _bins(idx: IntArray, values: FloatArray, nb: int) -> list[float]:
    return [float(v) for v in np.bincount(idx, weights=values, minlength=nb)]


def _band_sums(
    idx: IntArray,
    *,
    nb: int,
    dt: FloatArray,
    p: FloatArray,
    has_bal: npt.NDArray[np.bool_],
    left: FloatArray,
    has_cad: npt.NDArray[np.bool_],
    c: FloatArray,
) -> _BandSums:
    """Per-band sums over the (already riding-only) samples given."""
    ones = np.ones(idx.size)
    return _BandSums(
        ride_s=_bins(idx, dt, nb),
        n=_bins(idx, ones, nb),
        power=_bins(idx, p, nb),
        bal_p=_bins(idx[has_bal], p[has_bal], nb),
        bal_pl=_bins(idx[has_bal], p[has_bal] * left[has_bal], nb),
        n_cad=_bins(idx[has_cad], ones[has_cad], nb),
        cad=_bins(idx[has_cad], c[has_cad], nb),
    )


def _columns_of(
    ride: RideArraysLike | Iterable[Sample],
) -> tuple[FloatArray, dict[str, FloatArray]]:
    if isinstance(ride, RideArraysLike):
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
    ride: RideArraysLike | Iterable[Sample],
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
    baseline = baseline or _default_baseline(settings)
    counts = DropCounts()
    t_raw, cols = _columns_of(ride)
    cc: CleanColumns = clean_columns(t_raw, cols, settings, counts)
    det = BlockDetector(settings, baseline)
    tot = _Totals()
    n = cc.t_s.size
    nb_p = len(baseline.labels)
    nb_c = len(settings.cadence_edges_rpm) + 1
    if n == 0:
        return _summarize(
            tot,
            power_bands=_BandSums.zeros(nb_p),
            cadence_bands=_BandSums.zeros(nb_c),
            det=det,
            counts=counts,
            settings=settings,
            baseline=baseline,
            duration_s=0.0,
            context=context,
        )
    t = cc.t_s
    t0 = float(t[0])
    gaps = np.diff(t)
    counts.gaps += int(np.count_nonzero(gaps > settings.max_gap_s))
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
    pbs = _band_sums(
        pi.astype(np.intp),
        nb=nb_p,
        dt=dt[r_idx],
        p=p[r_idx],
        has_bal=has_bal[r_idx],
        left=lz[r_idx],
        has_cad=has_cad[r_idx],
        c=cz[r_idx],
    )
    c_idx = np.flatnonzero(has_cad)
    ci = np.searchsorted(
        np.asarray(settings.cadence_edges_rpm), cz[c_idx], side="right"
    ).astype(np.intp)
    cbs = _band_sums(
        ci,
        nb=nb_c,
        dt=dt[c_idx],
        p=p[c_idx],
        has_bal=has_bal[c_idx],
        left=lz[c_idx],
        has_cad=np.ones(c_idx.size, dtype=bool),
        c=cz[c_idx],
    )

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
            for i in _empty_blocks(prev, b, settings):
                det.step(_make_block(i, settings.block_s, [0.0] * 9))
        det.step(_make_block(b, settings.block_s, row))
        prev = b
    duration = float(t[-1]) - t0
    det.finish(duration)
    return _summarize(
        tot,
        power_bands=pbs,
        cadence_bands=cbs,
        det=det,
        counts=counts,
        settings=settings,
        baseline=baseline,
        duration_s=duration,
        context=context,
    )


def build_baseline(
    rides: Iterable[RideArraysLike | Iterable[Sample]],
    settings: AnalysisSettings | None = None,
    baseline: Baseline | None = None,
) -> Baseline:
    """Teach ``baseline`` (or a new one cut with the settings' bands) from rides.

    Returns the (same, when given) baseline after learning every ride in order.
    """
    settings = settings or AnalysisSettings()
    baseline = baseline or _default_baseline(settings)
    for ride in rides:
        baseline.learn(analyze(ride, settings, baseline))
    return baseline

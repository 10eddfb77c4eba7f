"""The engine fed one :class:`Sample` at a time (live riding)."""

from __future__ import annotations

from collections import deque
from dataclasses import replace
import math

from ..model import Sample
from .baseline import Baseline
from .cleaning import clean_values
from .results import (
    DropCounts,
    EpisodeChange,
    EpisodeKind,
    LiveMetrics,
    SessionSummary,
)
from .settings import AnalysisSettings, band_index
from .totals import (
    NP_WINDOW_S,
    SessionSums,
    default_baseline,
    div,
    empty_blocks,
    make_block,
    summarize,
    symmetry_index,
)

WINDOWS_S = (10.0, 60.0, 300.0)


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
        self.baseline = baseline or default_baseline(self.settings)
        self.context = context
        self._sums = SessionSums.start(self.settings, self.baseline)
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
        self._sums.det.update_settings(settings)

    def baseline_changed(self) -> None:
        """The baseline object was reset or taught mid-ride; use what it says now."""
        self._sums.det.baseline_changed()

    def push(self, sample: Sample) -> list[EpisodeChange]:
        """Take one reading; return episodes that started or ended because of it."""
        if self._finished is not None:
            raise RuntimeError("the session is finished; start a new analyzer")
        s = self.settings
        t = float(sample.t_s)
        if math.isnan(t) or t < self._last_t:
            self._sums.counts["out_of_order"] += 1
            return []
        cv = clean_values(sample, s, self._sums.counts)
        changes: list[EpisodeChange] = []
        if self._t0 is None:
            self._t0 = t
            dt = 0.0
        else:
            gap = t - self._last_t
            if gap > s.max_gap_s:
                self._sums.counts["gaps"] += 1
            dt = min(gap, s.max_gap_s)
        self._last_t = t
        el = t - self._t0
        b = math.floor(el / s.block_s)
        if b != self._block:
            changes = self._close_blocks(b)
        sec = math.floor(el)
        if sec != self._sec:
            self._close_second()
            self._sec = sec

        tot = self._sums.tot
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
            pb = self._sums.power_bands
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
                cb = self._sums.cadence_bands
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
        return changes

    def _close_blocks(self, new_block: int) -> list[EpisodeChange]:
        changes: list[EpisodeChange] = []
        bs = self._bsum
        block_s = self.settings.block_s
        changes.extend(self._sums.det.step(make_block(self._block, block_s, bs)))
        for i in empty_blocks(self._block, new_block, self.settings):
            changes.extend(self._sums.det.step(make_block(i, block_s, [0.0] * 9)))
        self._block = new_block
        self._bsum = [0.0] * 9
        return changes

    def _close_second(self) -> None:
        if self._sec_n == 0:
            return
        self._np_win.append(self._sec_sum / self._sec_n)
        self._sec_sum = 0.0
        self._sec_n = 0
        if len(self._np_win) == NP_WINDOW_S:
            r = sum(self._np_win) / NP_WINDOW_S
            self._sums.tot.np_sum4 += r**4
            self._sums.tot.np_n += 1

    def snapshot(self) -> LiveMetrics:
        """Metrics of the ride so far (cheap; call at most once a second)."""
        det = self._sums.det
        tot = self._sums.tot
        s = self.settings
        m = LiveMetrics(
            riding_s=tot.riding_s,
            riding=self._last_riding,
            dropped=DropCounts.of(self._sums.counts),
            time_below_cadence_band_s=tot.below_s,
            time_above_cadence_band_s=tot.above_s,
            balance_session_left_pct=div(tot.bal_pl, tot.bal_p),
            avg_power_w=div(tot.power, tot.n_power),
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
        active = tuple(det.active_episodes())
        kinds = {e.kind for e in active}
        balances: list[float | None] = []
        for w in WINDOWS_S:
            since = self._last_t - w
            bp = sum(r[2] for r in self._win if r[0] > since)
            bpl = sum(r[3] for r in self._win if r[0] > since)
            balances.append(div(bpl, bp))
        balance_10s, balance_1min, balance_5min = balances

        def mean(col: int, w: float) -> float | None:
            since = self._last_t - w
            vals = [
                r[col] for r in self._win if r[0] > since and not math.isnan(r[col])
            ]
            return sum(vals) / len(vals) if vals else None

        power = mean(1, 10.0)
        cadence = mean(4, 10.0)
        band: str | None = None
        usual: float | None = None
        if power is not None and power >= s.power_floor_w:
            band = det.band_for(power)
            usual = det.expectation(band).mean_left_pct
        return replace(
            m,
            elapsed_s=self._last_t - self._t0,
            active_episodes=active,
            asymmetry_active=EpisodeKind.ASYMMETRY in kinds,
            cadence_drift_active=EpisodeKind.CADENCE_DRIFT in kinds,
            cadence_out_of_band_active=EpisodeKind.CADENCE_OUT_OF_BAND in kinds,
            balance_10s_left_pct=balance_10s,
            balance_1min_left_pct=balance_1min,
            balance_5min_left_pct=balance_5min,
            symmetry_index_pct=symmetry_index(balance_1min),
            power_w=power,
            cadence_rpm=cadence,
            heart_rate_bpm=mean(5, 10.0),
            te_left_pct=mean(6, 60.0),
            te_right_pct=mean(7, 60.0),
            ps_left_pct=mean(8, 60.0),
            ps_right_pct=mean(9, 60.0),
            cadence_in_band=(
                None
                if cadence is None
                else s.cadence_low_rpm <= cadence <= s.cadence_high_rpm
            ),
            power_band=band,
            baseline_left_pct=usual,
            vs_baseline_pts=(
                None if usual is None or balance_1min is None else balance_1min - usual
            ),
        )

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
            self._sums.det.finish(duration)
        self._finished = summarize(
            self._sums, self.settings, self.baseline, duration, self.context
        )
        return self._finished

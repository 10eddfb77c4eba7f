"""Detectors on 10-second block means (:mod:`.blocks`), shared verbatim by
streaming and batch: both paths build identical blocks and feed them here.

Asymmetry (departure from the rider's usual at the current effort)
    A two-sided tabular CUSUM on each block's departure from the baseline at its
    power band, with a decision interval calibrated per band for one false alarm
    per ``false_alarm_interval_h`` riding hours; the formulas and why CUSUM are in
    :mod:`.blocks`. An episode starts when ``S >= h`` and the run has lasted
    ``min_duration_s``. For ``cooldown_s`` after an episode ends the statistics
    are held at zero, so a new episode needs fresh evidence. Hysteresis: it ends
    when a mirror CUSUM on the flagged side reaches ``cusum_end_h``, i.e. when the
    return to usual is itself a sustained change.

    Suppression: blocks where the rider is coasting, paused, under the power floor
    or without balance for more than half the block are skipped (the statistics
    freeze). A suppression longer than ``pause_reset_s`` ends an open episode at
    the last valid block and restarts the statistics.

Cadence drift
    A one-sided (downward) CUSUM of the same form on ``cadence - reference_b``,
    where the reference is the rider's own mean cadence in power band *b* over the
    first ``cadence_reference_s`` of riding and ``k`` is half of
    ``cadence_drop_rpm``; noise from the reference blocks (floor 1.5 rpm),
    inflated as above with phi = 0.3. Bands not ridden early have no reference.

Cadence out of band
    Block cadence below the target's low edge or above its high edge for
    ``cadence_band_min_s``; ends on the first block back inside the band by at
    least 1 rpm (hysteresis).

Balance drift over the session
    The mean block residual over the first ``cadence_reference_s`` of riding is
    the reference; afterwards the 5-minute mean residual is compared with it. The
    drift is reported once, at the first time the difference exceeds both
    ``drift_threshold_pts`` and ``drift_z`` standard errors of the difference and
    stays so for ``drift_sustain_s``; the onset is when it first crossed. Residuals
    are against the baseline at each block's band, so a change of effort is not
    mistaken for a drift.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import replace
import math

from .baseline import Baseline, Expectation
from .blocks import Block, Cusum, calibrate_h
from .results import Episode, EpisodeChange, EpisodeEdge, EpisodeKind
from .settings import AnalysisSettings, band_index, band_labels

CADENCE_SD_FLOOR_RPM = 1.5
CALIBRATION_TOLERANCE_CAP_PTS = 0.5
CADENCE_INFLATION = math.sqrt(1.3 / 0.7)
DRIFT_WINDOW_S = 300.0
MIN_REFERENCE_BLOCKS = 30
MIN_BAND_REFERENCE_BLOCKS = 3


def fmt_duration(seconds: float) -> str:
    """'70 s' under two minutes, else '4 min'."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def _side(points: float) -> str:
    return "above" if points >= 0 else "below"


class BlockDetector:
    """All detectors, one block at a time."""

    def __init__(self, settings: AnalysisSettings, baseline: Baseline) -> None:
        self.settings = settings
        self.baseline = baseline
        self.episodes: list[Episode] = []
        self._exp_cache: dict[str, Expectation] = {}
        self._labels = baseline.labels
        self._edges = baseline.power_edges_w
        self._h_cache: dict[str, float] = {}
        self.riding_total_s = 0.0
        self.last_valid_end_s: float | None = None
        self._reset_done = False
        # asymmetry
        self._up = Cusum()
        self._dn = Cusum()
        self._asym: Episode | None = None
        self._asym_up = True
        self._cooldown_until = -math.inf
        # references (first cadence_reference_s of riding)
        self._cad_ref: dict[str, list[float]] = {}
        self._cad_ref_frozen = False
        self._cad_sigma = CADENCE_SD_FLOOR_RPM
        self._bal_ref_sum = 0.0
        self._bal_ref_n = 0
        self._bal_ref_pw = 0.0
        self._bal_ref_pl = 0.0
        # cadence drift
        self._cad = Cusum()
        self._cad_ep: Episode | None = None
        self._cad_cooldown_until = -math.inf
        self.cadence_drift_rpm: float | None = None
        self.cadence_reference_rpm: float | None = None
        # cadence out of band
        self._oob_start: float | None = None
        self._oob_low = False
        self._oob_sum = 0.0
        self._oob_n = 0
        self._oob_ep: Episode | None = None
        # balance drift
        self._win: deque[tuple[float, float]] = deque()
        self._win_sum = 0.0
        self._drift_run_start: float | None = None
        self._drift_ep: Episode | None = None
        self.drift_pts: float | None = None
        self.max_drift_pts: float | None = None
        # learning: (block index, power band, left, cadence band) of valid blocks
        self.valid_blocks: list[tuple[int, str, float, str | None]] = []
        self._cad_labels = band_labels(settings.cadence_edges_rpm, "rpm")

    # ------------------------------------------------------------------ helpers
    def expectation(self, band: str) -> Expectation:
        """Cached baseline expectation for a band."""
        e = self._exp_cache.get(band)
        if e is None:
            e = self.baseline.expectation(band)
            self._exp_cache[band] = e
        return e

    def update_settings(self, settings: AnalysisSettings) -> None:
        """Take new knobs; decision intervals are recalibrated on next use."""
        self.settings = settings
        self._h_cache.clear()

    def baseline_changed(self) -> None:
        """The baseline was reset or taught: read it afresh from the next block."""
        self._exp_cache.clear()
        self._h_cache.clear()

    def band_for(self, power_w: float) -> str:
        """The baseline band label for a power (labels cached for the session)."""
        return self._labels[band_index(power_w, self._edges)]

    def _h_for(self, key: str, k: float, sides: int) -> float:
        """Decision interval for this band's k (cached: k is fixed per session)."""
        h = self._h_cache.get(key)
        if h is None:
            s = self.settings
            if s.cusum_h is not None:
                h = s.cusum_h
            else:
                blocks = s.false_alarm_interval_h * 3600.0 / s.block_s
                h = calibrate_h(k, blocks * sides)
            self._h_cache[key] = h
        return h

    @property
    def balance_reference_left_pct(self) -> float | None:
        """Power-weighted left share over the reference period."""
        return self._bal_ref_pl / self._bal_ref_pw if self._bal_ref_pw > 0 else None

    @property
    def drift_onset_s(self) -> float | None:
        """When the session's balance drift was found to start."""
        return None if self._drift_ep is None else self._drift_ep.onset_s

    def active_episodes(self) -> list[Episode]:
        """Episodes not yet ended."""
        return [e for e in self.episodes if e.active]

    def _start(self, changes: list[EpisodeChange], ep: Episode, t_s: float) -> Episode:
        self.episodes.append(ep)
        changes.append(EpisodeChange(EpisodeEdge.STARTED, t_s, ep))
        return ep

    def _update(self, old: Episode, new: Episode) -> Episode:
        """Put ``new`` in the place of ``old`` (episodes are frozen)."""
        for i in range(len(self.episodes) - 1, -1, -1):
            if self.episodes[i] is old:
                self.episodes[i] = new
                break
        return new

    def _end(
        self, changes: list[EpisodeChange], ep: Episode, end_s: float, t_s: float
    ) -> Episode:
        ended = self._update(ep, replace(ep, end_s=end_s))
        changes.append(EpisodeChange(EpisodeEdge.ENDED, t_s, ended))
        return ended

    # --------------------------------------------------------------- reasons
    def _asym_reason(self, ep: Episode, until_s: float) -> str:
        return (
            f"Left share {abs(ep.magnitude):.1f} points {_side(ep.magnitude)} your "
            f"usual {ep.reference:.1f} % at {ep.power_band} for "
            f"{fmt_duration(until_s - ep.onset_s)}"
        )

    def _cad_reason(self, ep: Episode, until_s: float) -> str:
        return (
            f"Cadence {abs(ep.magnitude):.0f} rpm below your early-ride "
            f"{ep.reference:.0f} rpm at {ep.power_band} for "
            f"{fmt_duration(until_s - ep.onset_s)}"
        )

    def _oob_reason(self, ep: Episode, until_s: float) -> str:
        s = self.settings
        where = "below" if ep.magnitude < 0 else "above"
        return (
            f"Cadence {ep.reference + ep.magnitude:.0f} rpm, {where} your target "
            f"{s.cadence_low_rpm:.0f}-{s.cadence_high_rpm:.0f} rpm for "
            f"{fmt_duration(until_s - ep.onset_s)}"
        )

    @staticmethod
    def _drift_reason(ep: Episode) -> str:
        side = "more left" if ep.magnitude > 0 else "more right"
        return (
            f"5-minute balance {abs(ep.magnitude):.1f} points {side} than in your "
            f"first 15 minutes ({ep.reference:.1f} % left) from "
            f"{ep.onset_s / 60:.0f} min into the ride"
        )

    # ------------------------------------------------------------------- step
    def step(self, block: Block) -> list[EpisodeChange]:
        """Process one closed block; return episodes started or ended by it."""
        changes: list[EpisodeChange] = []
        s = self.settings
        in_reference = self.riding_total_s < s.cadence_reference_s
        self.riding_total_s += block.riding_s
        valid = block.left_pct is not None or block.cadence_rpm is not None
        if valid:
            self.last_valid_end_s = block.end_s
            self._reset_done = False
        elif (
            not self._reset_done
            and self.last_valid_end_s is not None
            and block.end_s - self.last_valid_end_s >= s.pause_reset_s
        ):
            self._pause_reset(changes, self.last_valid_end_s, block.end_s)
        if block.left_pct is not None and block.power_w is not None:
            band = self.band_for(block.power_w)
            exp = self.expectation(band)
            cad_band = (
                None
                if block.cadence_rpm is None
                else self._cad_labels[
                    band_index(block.cadence_rpm, self.settings.cadence_edges_rpm)
                ]
            )
            self.valid_blocks.append((block.index, band, block.left_pct, cad_band))
            self._asymmetry(changes, block, band, exp)
            self._drift(changes, block, exp, in_reference)
        if block.cadence_rpm is not None and block.power_w is not None:
            band = self.band_for(block.power_w)
            self._cadence(changes, block, band, in_reference)
            self._out_of_band(changes, block, band)
        elif block.riding_s == 0.0:
            self.cadence_drift_rpm = None
        return changes

    def _pause_reset(
        self, changes: list[EpisodeChange], last_s: float, now_s: float
    ) -> None:
        self._reset_done = True
        if self._asym is not None:
            self._end(changes, self._asym, last_s, now_s)
            self._asym = None
            self._cooldown_until = now_s + self.settings.cooldown_s
        if self._cad_ep is not None:
            self._end(changes, self._cad_ep, last_s, now_s)
            self._cad_ep = None
        if self._oob_ep is not None:
            self._end(changes, self._oob_ep, last_s, now_s)
            self._oob_ep = None
        self._up.reset()
        self._dn.reset()
        self._cad.reset()
        self._oob_start = None

    def _asymmetry(
        self, changes: list[EpisodeChange], block: Block, band: str, exp: Expectation
    ) -> None:
        s = self.settings
        assert block.left_pct is not None
        r = block.left_pct - exp.mean_left_pct
        sd = exp.sd_long_run_pts
        k = 0.5 * s.asymmetry_threshold_pts / sd
        u_up = (r - exp.tolerance_pts) / sd
        u_dn = (-r - exp.tolerance_pts) / sd
        tol_cal = min(exp.tolerance_pts, CALIBRATION_TOLERANCE_CAP_PTS)
        h = self._h_for(band, k + tol_cal / sd, sides=2)
        if self._asym is None:
            if block.end_s < self._cooldown_until:
                # Restart after a signal: a new episode needs fresh evidence, not
                # what piled up (and may already be over) during the cooldown.
                self._up.reset()
                self._dn.reset()
                return
            self._up.step(block, u_up, k, r)
            self._dn.step(block, u_dn, k, r)
            for up, c in ((True, self._up), (False, self._dn)):
                if c.s >= h and block.end_s - c.onset_s >= s.min_duration_s:
                    ep = c.start_episode(
                        block, EpisodeKind.ASYMMETRY, "points", exp.mean_left_pct, band
                    )
                    ep = replace(ep, reason=self._asym_reason(ep, block.end_s))
                    self._asym = self._start(changes, ep, block.end_s)
                    self._asym_up = up
                    return
            return
        c = self._up if self._asym_up else self._dn
        u = u_up if self._asym_up else u_dn
        self._asym = self._run_end(
            changes, c, self._asym, block, (u, k, r), reason=self._asym_reason
        )
        if self._asym is None:
            self._cooldown_until = block.end_s + s.cooldown_s
            self._up.reset()
            self._dn.reset()

    def _run_end(
        self,
        changes: list[EpisodeChange],
        cus: Cusum,
        ep: Episode,
        block: Block,
        step: tuple[float, float, float],
        *,
        reason: Callable[[Episode, float], str],
    ) -> Episode | None:
        """Advance an open episode's end CUSUM by ``step`` (u, k, value): the episode
        as it stands, or None once the return to usual is itself sustained and the
        episode has ended."""
        u, k, value = step
        cus.step_end(block, u, k, value)
        moved = replace(ep, magnitude=cus.magnitude())
        ended = cus.e >= self.settings.cusum_end_h
        until_s = cus.end_zero_s if ended else block.end_s
        ep = self._update(ep, replace(moved, reason=reason(moved, until_s)))
        if not ended:
            return ep
        self._end(changes, ep, cus.end_zero_s, block.end_s)
        return None

    def _drift(
        self,
        changes: list[EpisodeChange],
        block: Block,
        exp: Expectation,
        in_reference: bool,
    ) -> None:
        s = self.settings
        assert block.left_pct is not None
        r = block.left_pct - exp.mean_left_pct
        if in_reference:
            self._bal_ref_sum += r
            self._bal_ref_n += 1
            self._bal_ref_pw += block.bal_power_sum
            self._bal_ref_pl += block.bal_power_left_sum
            return
        win = self._win
        win.append((block.end_s, r))
        self._win_sum += r
        while win[0][0] <= block.end_s - DRIFT_WINDOW_S:
            self._win_sum -= win.popleft()[1]
        n_ref = self._bal_ref_n
        if n_ref < MIN_REFERENCE_BLOCKS or len(win) < MIN_REFERENCE_BLOCKS // 2:
            return
        d = self._win_sum / len(win) - self._bal_ref_sum / n_ref
        self.drift_pts = d
        if self.max_drift_pts is None or abs(d) > abs(self.max_drift_pts):
            self.max_drift_pts = d
        se = exp.sd_long_run_pts * math.sqrt(1.0 / len(win) + 1.0 / n_ref)
        thr = max(s.drift_threshold_pts, s.drift_z * se)
        ep = self._drift_ep
        if ep is not None:
            if ep.end_s is None:
                if abs(d) < 0.5 * thr or d * ep.magnitude < 0:
                    self._drift_ep = self._end(changes, ep, block.end_s, block.end_s)
                elif abs(d) > abs(ep.magnitude):
                    moved = replace(ep, magnitude=d)
                    moved = replace(moved, reason=self._drift_reason(moved))
                    self._drift_ep = self._update(ep, moved)
            return
        if abs(d) <= thr:
            self._drift_run_start = None
            return
        if self._drift_run_start is None:
            self._drift_run_start = block.end_s
        if block.end_s - self._drift_run_start >= s.drift_sustain_s:
            ref = self.balance_reference_left_pct
            ep = Episode(
                kind=EpisodeKind.BALANCE_DRIFT,
                onset_s=self._drift_run_start,
                detected_s=block.end_s,
                magnitude=d,
                unit="points",
                reference=ref if ref is not None else exp.mean_left_pct,
                power_band=None,
                reason="",
            )
            ep = replace(ep, reason=self._drift_reason(ep))
            self._drift_ep = self._start(changes, ep, block.end_s)

    def _freeze_cadence_reference(self) -> None:
        self._cad_ref_frozen = True
        ss = 0.0
        dof = 0
        for n, total, sq in self._cad_ref.values():
            if n >= 2:
                ss += max(0.0, sq - total * total / n)
                dof += int(n) - 1
        sd = math.sqrt(ss / dof) if dof > 0 else 0.0
        self._cad_sigma = max(sd, CADENCE_SD_FLOOR_RPM) * CADENCE_INFLATION

    def _cadence(
        self, changes: list[EpisodeChange], block: Block, band: str, in_reference: bool
    ) -> None:
        s = self.settings
        c = block.cadence_rpm
        assert c is not None
        if in_reference:
            acc = self._cad_ref.setdefault(band, [0.0, 0.0, 0.0])
            acc[0] += 1.0
            acc[1] += c
            acc[2] += c * c
            return
        if not self._cad_ref_frozen:
            self._freeze_cadence_reference()
        ref_acc = self._cad_ref.get(band)
        if ref_acc is None or ref_acc[0] < MIN_BAND_REFERENCE_BLOCKS:
            self.cadence_drift_rpm = None
            self.cadence_reference_rpm = None
            return
        ref = ref_acc[1] / ref_acc[0]
        d = c - ref
        self.cadence_drift_rpm = d
        self.cadence_reference_rpm = ref
        sigma = self._cad_sigma
        k = 0.5 * s.cadence_drop_rpm / sigma
        u = -d / sigma
        cus = self._cad
        if self._cad_ep is None:
            if block.end_s < self._cad_cooldown_until:
                cus.reset()
                return
            cus.step(block, u, k, d)
            h = self._h_for("cadence", k, sides=1)
            if cus.s >= h and block.end_s - cus.onset_s >= s.min_duration_s:
                ep = cus.start_episode(
                    block, EpisodeKind.CADENCE_DRIFT, "rpm", ref, band
                )
                ep = replace(ep, reason=self._cad_reason(ep, block.end_s))
                self._cad_ep = self._start(changes, ep, block.end_s)
            return
        self._cad_ep = self._run_end(
            changes, cus, self._cad_ep, block, (u, k, d), reason=self._cad_reason
        )
        if self._cad_ep is None:
            self._cad_cooldown_until = block.end_s + s.cooldown_s
            cus.reset()

    def _out_of_band(
        self, changes: list[EpisodeChange], block: Block, band: str
    ) -> None:
        s = self.settings
        c = block.cadence_rpm
        assert c is not None
        low, high = s.cadence_low_rpm, s.cadence_high_rpm
        ep = self._oob_ep
        if ep is not None:
            if low + 1.0 <= c <= high - 1.0:
                final = replace(ep, reason=self._oob_reason(ep, block.start_s))
                self._end(changes, self._update(ep, final), block.start_s, block.end_s)
                self._oob_ep = None
                self._oob_start = None
            else:
                self._oob_sum += c
                self._oob_n += 1
                moved = replace(
                    ep, magnitude=self._oob_sum / self._oob_n - ep.reference
                )
                moved = replace(moved, reason=self._oob_reason(moved, block.end_s))
                self._oob_ep = self._update(ep, moved)
            return
        if low <= c <= high:
            self._oob_start = None
            return
        is_low = c < low
        if self._oob_start is None or is_low != self._oob_low:
            self._oob_start = block.start_s
            self._oob_low = is_low
            self._oob_sum = 0.0
            self._oob_n = 0
        self._oob_sum += c
        self._oob_n += 1
        if block.end_s - self._oob_start >= s.cadence_band_min_s:
            edge = low if is_low else high
            ep = Episode(
                kind=EpisodeKind.CADENCE_OUT_OF_BAND,
                onset_s=self._oob_start,
                detected_s=block.end_s,
                magnitude=self._oob_sum / self._oob_n - edge,
                unit="rpm",
                reference=edge,
                power_band=band,
                reason="",
            )
            ep = replace(ep, reason=self._oob_reason(ep, block.end_s))
            self._oob_ep = self._start(changes, ep, block.end_s)

    def finish(self, end_s: float) -> list[EpisodeChange]:
        """End of session: close open episodes at ``end_s``."""
        changes: list[EpisodeChange] = []
        for ep in list(self.episodes):
            if ep.end_s is None:
                ended = self._end(changes, ep, end_s, end_s)
                if ep is self._drift_ep:
                    self._drift_ep = ended
        self._asym = self._cad_ep = self._oob_ep = None
        return changes

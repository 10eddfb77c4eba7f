"""Performance: batch analysis of 10 hours at 4 Hz, and the cost of live streaming.

Run: ``.venv/bin/python -m benchmarks.bench_analysis``.

The reference is a straightforward pure-Python implementation of the same session
metrics (cleaning, power-weighted balance, per-band balance, cadence mean and SD,
TE/PS, average and normalized power, 10 s block means fed to the same detectors),
looping over plain lists; it runs in the same process on the same data, and its
figures are checked against the engine's before the timings are printed.
"""

from __future__ import annotations

import math
import time

from custom_components.ridebalance.analysis import (
    AnalysisSettings,
    Baseline,
    StreamingAnalyzer,
    analyze,
)
from custom_components.ridebalance.analysis.blocks import Block
from custom_components.ridebalance.analysis.detectors import BlockDetector
from custom_components.ridebalance.analysis.settings import band_index
from custom_components.ridebalance.model import Sample
from custom_components.ridebalance.sim import (
    RideArrays,
    RideScript,
    demo_ride,
    generate,
)

HOURS = 10


def ten_hours() -> RideArrays:
    """Ten demo hours back to back (shifts, drifts, sags, coasting)."""
    demo = demo_ride()
    segments = demo.segments * math.ceil(HOURS * 3600 / demo.duration_s)
    script = RideScript(segments, rider=demo.rider, shifts=demo.shifts)
    return generate(script, seed=1)


def reference(ride: RideArrays, settings: AnalysisSettings) -> dict[str, float]:
    """The same metrics, the plain way: one Python loop over lists."""
    t = ride.t_s.tolist()
    p = ride.power_w.tolist()
    left = ride.left_pct.tolist()
    cad = ride.cadence_rpm.tolist()
    te_l = ride.te_left_pct.tolist()
    edges = settings.power_edges_w
    sum_p = n_p = bal_p = bal_pl = 0.0
    cad_n = cad_s = cad_sq = te_n = te_s = 0.0
    band_p = [0.0] * (len(edges) + 1)
    band_pl = [0.0] * (len(edges) + 1)
    seconds: dict[int, list[float]] = {}
    blocks: dict[int, list[float]] = {}
    t0 = t[0]
    for i in range(len(t)):
        pw = p[i]
        if math.isnan(pw):
            continue
        sum_p += pw
        n_p += 1
        seconds.setdefault(math.floor(t[i] - t0), []).append(pw)
        riding = pw >= settings.power_floor_w and cad[i] != 0
        b = blocks.setdefault(math.floor((t[i] - t0) / settings.block_s), [0.0] * 5)
        b[0] += 1
        if not riding:
            continue
        b[1] += 1
        b[2] += pw
        lv = left[i]
        if not math.isnan(lv) and 0 < lv < 100:
            bal_p += pw
            bal_pl += pw * lv
            band = band_index(pw, edges)
            band_p[band] += pw
            band_pl[band] += pw * lv
            b[3] += pw
            b[4] += pw * lv
        c = cad[i]
        if not math.isnan(c):
            cad_n += 1
            cad_s += c
            cad_sq += c * c
        if not math.isnan(te_l[i]):
            te_n += 1
            te_s += te_l[i]
    series = [sum(v) / len(v) for _, v in sorted(seconds.items())]
    rolling = [sum(series[j - 30 : j]) / 30 for j in range(30, len(series) + 1)]
    np_w = (sum(r**4 for r in rolling) / len(rolling)) ** 0.25
    det = BlockDetector(settings, Baseline())
    for k in range(max(blocks) + 1):
        n_all, n_ride, p_ride, bp, bpl = blocks.get(k, [0.0] * 5)
        ok = n_all > 0 and 2 * n_ride >= n_all
        det.step(
            Block(
                k,
                k * settings.block_s,
                (k + 1) * settings.block_s,
                bpl / bp if ok and bp > 0 else None,
                p_ride / n_ride if ok else None,
                None,
                0.0,
                bp,
                bpl,
            )
        )
    cad_mean = cad_s / cad_n
    return {
        "avg_power_w": sum_p / n_p,
        "normalized_power_w": np_w,
        "balance_left_pct": bal_pl / bal_p,
        "cadence_avg_rpm": cad_mean,
        "cadence_sd_rpm": math.sqrt((cad_sq - cad_n * cad_mean**2) / (cad_n - 1)),
        "te_left_pct": te_s / te_n,
        "bands": sum(1 for x in band_p if x > 0),
        "episodes": len(det.episodes),
    }


def _best(fn: object, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Time batch, streaming and the pure-Python reference; print the ratios."""
    settings = AnalysisSettings()
    ride = ten_hours()
    n = len(ride)
    samples: list[Sample] = list(ride.samples())
    summary = analyze(ride, settings)
    ref = reference(ride, settings)
    for key in ("avg_power_w", "normalized_power_w", "balance_left_pct"):
        ours = getattr(summary, key)
        assert abs(ours - ref[key]) < 1e-6 * abs(ref[key]), (key, ours, ref[key])
    for key in ("cadence_avg_rpm", "cadence_sd_rpm", "te_left_pct"):
        assert abs(getattr(summary, key) - ref[key]) < 1e-6 * ref[key], key

    t_batch = _best(lambda: analyze(ride, settings), 3)
    t_ref = _best(lambda: reference(ride, settings), 1)

    def stream() -> None:
        live = StreamingAnalyzer(settings)
        push = live.push
        for s in samples:
            push(s)
        live.finish()

    t_stream = _best(stream, 1)
    live = StreamingAnalyzer(settings)
    for s in samples[: n // 2]:
        live.push(s)
    t_snap = _best(live.snapshot, 20)

    print(f"{HOURS} h at 4 Hz = {n} samples, {len(summary.episodes)} episodes")
    print(f"batch analyze()            {t_batch * 1e3:8.1f} ms")
    print(f"pure-Python reference      {t_ref * 1e3:8.1f} ms")
    print(f"  ratio reference / batch  {t_ref / t_batch:8.1f} x")
    print(f"streaming push() total     {t_stream * 1e3:8.1f} ms")
    print(f"  per sample               {t_stream / n * 1e6:8.2f} us")
    print(f"  ratio streaming / batch  {t_stream / t_batch:8.1f} x")
    print(f"snapshot() (5 min window)  {t_snap * 1e3:8.2f} ms")
    print(f"  4 Hz live budget used    {100 * t_stream / n * 4:8.3f} % of one core")
    print(f"(reference: {ref['episodes']} episodes without cadence detectors)")


if __name__ == "__main__":
    main()

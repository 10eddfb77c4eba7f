"""Ride files: FIT reading and writing time, against fitdecode's decoding alone.

Run: ``.venv/bin/python -m benchmarks.bench_rides`` (a few seconds; needs the real
rides in ``../shared/fit``, skipped when absent).

For each real file: wall time of ``read_ride`` (header and CRC checks, fitdecode
with raw values, masks, arrays) next to a bare iteration over
``fitdecode.FitReader`` of the same bytes with its defaults (CRC checked, units
and datetimes converted), the reference in the same process. Then the time to
encode a one-hour 1 Hz ride with our FIT writer, next to decoding those bytes
again with fitdecode. Best of several repeats; figures are printed, not asserted.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
import io
from pathlib import Path
import time

import fitdecode
import numpy as np

from custom_components.ridebalance.rides import Ride, read_ride
from custom_components.ridebalance.rides.fit_writer import encode_fit

SHARED_FIT = Path(__file__).resolve().parents[1].parent / "shared" / "fit"
FILES = (
    "wahoo-elemnt-no-side-bit.fit",
    "edge530-powertap-p1-pedals.fit",
    "edge810-vector-pedals.fit",
)


def best_of(func: Callable[[], object], repeats: int = 3) -> float:
    """Fastest wall time of ``repeats`` calls, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def fitdecode_read(data: bytes) -> None:
    """The reference: fitdecode's own decode with its default conversions."""
    with fitdecode.FitReader(io.BytesIO(data)) as fit:
        for _ in fit:
            pass


def hour_ride() -> Ride:
    """A one-hour 1 Hz ride with every field the writer encodes."""
    rng = np.random.default_rng(0)
    n = 3600
    t = np.arange(n, dtype=float)
    return Ride.from_columns(
        t,
        power_w=200 + rng.normal(0, 20, n),
        left_pct=50 + rng.normal(0, 3, n),
        cadence_rpm=90 + rng.normal(0, 3, n),
        heart_rate_bpm=140 + rng.normal(0, 3, n),
        te_left_pct=78 + rng.normal(0, 2, n),
        te_right_pct=77 + rng.normal(0, 2, n),
        ps_left_pct=23 + rng.normal(0, 1, n),
        ps_right_pct=22 + rng.normal(0, 1, n),
    )


def main() -> None:
    """Print the figures."""
    if not SHARED_FIT.is_dir():
        print(f"skipped: no real rides at {SHARED_FIT}")
        return
    print(f"{'file':<34}{'records':>8}{'read_ride':>11}{'fitdecode':>10}{'ratio':>7}")
    for name in FILES:
        path = SHARED_FIT / name
        data = path.read_bytes()
        ours = best_of(partial(read_ride, path))
        reference = best_of(partial(fitdecode_read, data))
        records = len(read_ride(path))
        print(
            f"{name:<34}{records:>8}{ours * 1000:>9.0f}ms{reference * 1000:>8.0f}ms"
            f"{ours / reference:>7.2f}"
        )
    ride = hour_ride()
    encoded = encode_fit(ride)
    write = best_of(lambda: encode_fit(ride))
    reread = best_of(lambda: fitdecode_read(encoded))
    print(
        f"encode 1 h at 1 Hz ({len(encoded) / 1024:.0f} kB): {write * 1000:.0f} ms; "
        f"fitdecode decoding it back: {reread * 1000:.0f} ms "
        f"(ratio {write / reread:.2f})"
    )


if __name__ == "__main__":
    main()

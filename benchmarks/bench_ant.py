"""ANT+ layer cost: decoding and tracking pages, next to one Home Assistant state write.

Run: ``.venv/bin/python -m benchmarks.bench_ant`` (a few seconds).

Pages come from the simulated devices in ``ant/encode.py``, in the mix a real
session sends: pedals (power-only, TE/PS, common pages), an FE-C trainer (its own
power channel included) and a heart-rate strap, each at 4 Hz. Figures are CPU
time (``time.process_time``) per page, best of several repeats, and the CPU
seconds one hour of riding costs at 4 Hz x 3 devices. The reference is
``StateMachine.async_set`` on a bare ``HomeAssistant`` instance in this process:
no recorder or frontend listening, so it is a lower bound of a real state write.
Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import tempfile
import time

from custom_components.ridebalance.ant.merger import RiderMerger
from custom_components.ridebalance.ant.pages import RawPage, decode_page
from custom_components.ridebalance.sim.emulators import (
    HeartRateEncoder,
    PedalEncoder,
    TrainerEncoder,
)

PAGES_PER_HOUR_PER_DEVICE = 4 * 3600
DEVICES = 3


def session_pages(seconds: float) -> list[RawPage]:
    """A steady ride with small variations, as the receiver would hand it over."""
    pedals = PedalEncoder(1001)
    trainer = TrainerEncoder(2002)
    strap = HeartRateEncoder(3003)
    pages: list[RawPage] = []
    for i in range(round(seconds * 4)):
        t_s = i * 0.25
        power = 200.0 + (i % 40)
        pages.append(
            pedals.page(
                t_s, power, 49.0 + (i % 3), 88.0, te_left_pct=72.0, te_right_pct=74.0
            )
        )
        pages += trainer.pages(t_s + 0.01, power * 0.96, 88.0, speed_mps=9.2)
        pages.append(strap.page(t_s + 0.02, 140.0 + (i % 7)))
    return pages


def best_cpu_seconds(run: Callable[[], None], repeats: int) -> float:
    """The lowest CPU time of ``repeats`` runs (the least disturbed one)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def bench_decode(pages: list[RawPage], repeats: int) -> float:
    """CPU seconds per page for decode_page alone."""

    def run() -> None:
        # The simulated devices send only pages we decode: no exception path here.
        for page in pages:
            decode_page(page.device_type, page.data)

    return best_cpu_seconds(run, repeats) / len(pages)


def bench_track(pages: list[RawPage], repeats: int, batch: int) -> float:
    """CPU seconds per page for RiderMerger.feed (decode + track + Samples)."""
    batches = [pages[i : i + batch] for i in range(0, len(pages), batch)]

    def run() -> None:
        merger = RiderMerger()
        for chunk in batches:
            merger.feed(chunk)

    return best_cpu_seconds(run, repeats) / len(pages)


async def _state_writes(count: int, repeats: int) -> float:
    from homeassistant.core import HomeAssistant

    with tempfile.TemporaryDirectory() as config_dir:
        hass = HomeAssistant(config_dir)
        attributes = {
            "unit_of_measurement": "%",
            "friendly_name": "RideBalance Left balance",
            "state_class": "measurement",
        }

        def run() -> None:
            for i in range(count):
                # A changing value, like a 1 Hz snapshot: every call is a real write.
                hass.states.async_set(
                    "sensor.ridebalance_left_balance", str(i), attributes
                )

        per_write = best_cpu_seconds(run, repeats) / count
        await hass.async_stop(force=True)
    return per_write


def bench_state_write(count: int, repeats: int) -> float:
    """CPU seconds per HA state write (StateMachine.async_set in the event loop)."""
    return asyncio.run(_state_writes(count, repeats))


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="ride length")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8, help="pages per feed()")
    args = parser.parse_args()

    pages = session_pages(args.minutes * 60)
    decode_s = bench_decode(pages, args.repeats)
    track_s = bench_track(pages, args.repeats, args.batch)
    write_s = bench_state_write(20000, args.repeats)

    pages_per_hour = PAGES_PER_HOUR_PER_DEVICE * DEVICES
    hour_cpu_s = track_s * pages_per_hour
    print(f"pages: {len(pages)} ({args.minutes:g} min, 4 channels incl. trainer power)")
    print(f"decode_page:               {decode_s * 1e6:8.2f} µs/page")
    print(f"decode + track (feed):     {track_s * 1e6:8.2f} µs/page")
    print(f"HA state write (async_set):{write_s * 1e6:8.2f} µs/write")
    print(
        f"one hour at 4 Hz x {DEVICES} devices ({pages_per_hour} pages): "
        f"{hour_cpu_s:.3f} CPU s ({hour_cpu_s / 3600 * 100:.4f} % of one core)"
    )
    print(f"ratio decode+track page / state write: {track_s / write_s:.2f}")
    print(f"ratio decode-only page / state write:  {decode_s / write_s:.2f}")
    print(
        "one hour of ANT+ processing costs as much CPU as "
        f"{hour_cpu_s / write_s:.0f} state writes "
        f"({hour_cpu_s / write_s / 3600:.1f} per second of riding)"
    )


if __name__ == "__main__":
    main()

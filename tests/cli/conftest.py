"""Running the command line in-process, and the rides it is given."""

from __future__ import annotations

import io
from pathlib import Path

from custom_components.ridebalance.cli import main
from custom_components.ridebalance.rides.csv_writer import write_csv
from custom_components.ridebalance.sim import Rider, RideScript, Segment, generate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*argv: str) -> tuple[int, str]:
    """Exit status and standard output of ``ridebalance ARGV``."""
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def ride_csv(path: Path, rider: Rider, seed: int) -> Path:
    """A 40-minute ride over three efforts, written as 1 Hz CSV."""
    m = 60.0
    script = RideScript(
        segments=(
            Segment(5 * m, 120, 92),
            Segment(15 * m, 175, 90),
            Segment(15 * m, 230, 88),
            Segment(5 * m, 120, 92),
        ),
        rider=rider,
        coasting_artefacts=False,
    )
    arrays = generate(script, seed=seed, hz=1.0)
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_csv(handle, arrays)
    return path

"""RideBalance on the command line: ``scripts/ridebalance <command> ...``.

Commands
--------
``analyze RIDE [--json] [--plot OUT.png] [--power-floor W] [--ftp W]``
    One ride (FIT or CSV): duration, average and normalized power, power-weighted
    L/R balance overall and per power band, TE/PS, cadence, and the flagged
    episodes with their times. ``--baseline RIDE...`` first learns the rider's
    usual balance per power band from other rides (else 50/50 is assumed).
    ``--indoor``/``--outdoor`` override what the file says; ``--allow-truncated``
    uses what a cut-off FIT file holds.
``compare --indoor A.fit [...] --outdoor B.fit [...] [--json] [--plot OUT.png]``
    Balance per power band indoors against outdoors, the difference, and whether
    it is larger than measurement noise (see "Noise" below). Each side learns
    its rides as the import does; a ride left out is named on stderr.
``decode DEVICE PAGE [PAGE ...] [--json]``
    Decode raw ANT+ pages (16 hex digits each) of a device type
    (``power``/``11``, ``fec``/``17``, ``hr``/``120``).
``scan [--seconds S] [--json]``
    List the ANT+ devices the stick hears.
``simulate [--seed N] [--hz HZ] [--output OUT.csv] [--fit OUT.fit]``
    The simulator's scripted ride as CSV (stdout unless ``--output``) or FIT.

Exit status: 0 success, 1 the input could not be used (the message names the
file and the reason), 2 bad command-line usage.

Where the figures come from: duration, average/normalized power, overall
balance, TE/PS and cadence are computed the way a head unit computes its session
(``rides.summary``; pauses excluded, NP on a 1 Hz grid of timer time); bands and
episodes come from the analysis engine. The head unit's own session figures are
shown beside ours when the file has them.

Noise (``compare``): each side's rides teach a baseline, as the ``import_rides``
action does, and :mod:`..analysis.compare` (the rule the Home Assistant sensor
uses) says whether each band's difference is beyond noise; see docs/cli.md.

JSON output is described key by key in docs/cli.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
import sys
from typing import IO

from ..rides import RideFileError
from .commands import (
    CliError,
    cmd_analyze,
    cmd_compare,
    cmd_decode,
    cmd_scan,
    cmd_simulate,
    device_type,
)
from .rides import Progress

__all__ = ["CliError", "Progress", "build_parser", "main"]


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ridebalance",
        description="Left/right pedal balance: analyse and compare rides, decode ANT+.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def analysis_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print JSON (docs/cli.md)")
        p.add_argument("--plot", type=Path, metavar="OUT.png", help="write a PNG plot")
        p.add_argument(
            "--power-floor",
            type=_non_negative,
            metavar="W",
            help="ignore balance below this power (default 40 W)",
        )
        p.add_argument("--ftp", type=_positive, metavar="W", help="power bands by FTP")
        p.add_argument(
            "--allow-truncated",
            action="store_true",
            help="use what a cut-off FIT file holds instead of refusing it",
        )
        p.add_argument("--progress", action="store_true", help="progress bar on stderr")

    p_an = sub.add_parser("analyze", help="analyse one ride (FIT or CSV)")
    p_an.add_argument("ride", type=Path, metavar="RIDE")
    where = p_an.add_mutually_exclusive_group()
    where.add_argument("--indoor", dest="indoor_flag", action="store_true")
    where.add_argument("--outdoor", dest="outdoor_flag", action="store_true")
    p_an.add_argument(
        "--baseline",
        nargs="+",
        type=Path,
        metavar="RIDE",
        help="learn your usual balance per power band from these rides first",
    )
    analysis_options(p_an)
    p_an.set_defaults(func=cmd_analyze)

    p_cmp = sub.add_parser("compare", help="indoor vs outdoor balance per power band")
    p_cmp.add_argument("--indoor", nargs="+", type=Path, required=True, metavar="RIDE")
    p_cmp.add_argument("--outdoor", nargs="+", type=Path, required=True, metavar="RIDE")
    analysis_options(p_cmp)
    p_cmp.set_defaults(func=cmd_compare)

    p_dec = sub.add_parser(
        "decode",
        help="decode raw ANT+ pages",
        usage="%(prog)s (--device-type DEVICE | DEVICE) PAGE [PAGE ...] [--json]",
    )
    p_dec.add_argument(
        "--device-type",
        "-d",
        type=device_type,
        metavar="DEVICE",
        help="power (11), fec (17), hr (120) or a device-type number; "
        "without it the first argument is the device",
    )
    p_dec.add_argument("pages", nargs="+", metavar="PAGE", help="8 bytes in hex")
    p_dec.add_argument("--json", action="store_true")
    p_dec.set_defaults(func=cmd_decode)

    p_scan = sub.add_parser("scan", help="list ANT+ devices in range")
    p_scan.add_argument("--seconds", type=_positive, default=10.0)
    p_scan.add_argument("--json", action="store_true")
    p_scan.set_defaults(func=cmd_scan)

    p_sim = sub.add_parser("simulate", help="the simulator's scripted ride as CSV/FIT")
    p_sim.add_argument("--seed", type=int, default=0)
    p_sim.add_argument("--hz", type=_positive, default=4.0)
    p_sim.add_argument("--output", type=Path, metavar="OUT.csv")
    p_sim.add_argument("--fit", type=Path, metavar="OUT.fit")
    p_sim.set_defaults(func=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    stream = out if out is not None else sys.stdout
    func: Callable[[argparse.Namespace, IO[str]], int] = args.func
    try:
        return func(args, stream)
    except (RideFileError, CliError) as err:
        sys.stderr.write(f"ridebalance {args.command}: {err}\n")
        return 1
    except OSError as err:
        sys.stderr.write(f"ridebalance {args.command}: {err}\n")
        return 1

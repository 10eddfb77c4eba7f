"""The subcommands: each takes the parsed arguments and the output stream."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
from typing import IO, Any

from ..analysis.compare import MIN_BLOCKS, RESOLUTION_PTS, Z95
from ..ant.identity import describe_heard
from ..ant.pages import MalformedPage, decode_page, page_to_dict
from ..model import READING_FIELDS
from ..rides import Ride
from ..rides.analyze import analyze_ride_dynamics
from ..rides.csv_writer import write_csv
from ..rides.fit_writer import write_fit
from ..sim import demo_ride, generate
from .dynamics import (
    compare_dynamics,
    dynamics_json,
    render_dynamics,
    render_dynamics_comparison,
)
from .plots import plot_analysis, plot_comparison
from .render import JSON_VERSION, analysis_json, render_analysis, render_comparison
from .rides import (
    Analysis,
    FileAnalysis,
    LearntRides,
    Progress,
    analyze_rides,
    compare_sides,
    indoor_flag,
    learn_baseline,
    learn_side,
    progress_enabled,
    settings_from_args,
    side_totals,
)


class CliError(Exception):
    """A problem worth one line on stderr and exit status 1."""


DEVICE_NAMES = {
    "power": 11,
    "bike_power": 11,
    "fec": 17,
    "fe": 17,
    "trainer": 17,
    "hr": 120,
}


def device_type(text: str) -> int:
    key = text.strip().lower()
    if key in DEVICE_NAMES:
        return DEVICE_NAMES[key]
    try:
        return int(key, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown device type {text!r} (power, fec, hr, or a number)"
        ) from None


def _page_bytes(text: str) -> bytes:
    cleaned = text.replace(":", "").replace(" ", "").replace("-", "")
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise CliError(f"page {text!r} is not hexadecimal") from None


def cmd_decode(args: argparse.Namespace, out: IO[str]) -> int:
    """Decode raw ANT+ pages; with --device-type they print as JSON."""
    pages = list(args.pages)
    device = args.device_type
    if device is None:
        if len(pages) < 2:
            raise CliError("decode needs a device type and at least one page")
        try:
            device = device_type(pages.pop(0))
        except argparse.ArgumentTypeError as err:
            raise CliError(str(err)) from None
    as_json = args.json or args.device_type is not None
    decoded: list[dict[str, object]] = []
    for text in pages:
        try:
            decoded.append(page_to_dict(decode_page(device, _page_bytes(text))))
        except MalformedPage as err:
            raise CliError(f"page {text}: {err}") from None
    if as_json:
        json.dump(
            decoded if len(decoded) > 1 else decoded[0], out, indent=2, default=str
        )
        out.write("\n")
    else:
        for page in decoded:
            out.write(", ".join(f"{k}={v}" for k, v in page.items()) + "\n")
    return 0


def cmd_scan(args: argparse.Namespace, out: IO[str]) -> int:
    """List ANT+ devices heard within the given time."""
    try:
        # openant and pyusb load only for the command that talks to the stick.
        from ..ant.scan import scan  # noqa: PLC0415
        from ..ant.usb_errors import AntStickError  # noqa: PLC0415
    except ImportError as err:  # pragma: no cover - only without openant/pyusb
        raise CliError(f"scanning needs the ANT+ receiver ({err})") from None
    try:
        devices = scan(args.seconds, describe=describe_heard)
    except AntStickError as err:
        raise CliError(f"ANT+ stick: {err}") from None
    if args.json:
        json.dump(
            [
                {
                    "device_type": d.device_type,
                    "profile": d.profile,
                    "device_number": d.extended_device_number,
                    "transmission_type": d.transmission_type,
                    "pages": d.page_count,
                    "description": d.description,
                }
                for d in devices
            ],
            out,
            indent=2,
        )
        out.write("\n")
        return 0
    if not devices:
        out.write(f"no ANT+ devices heard in {args.seconds:g} s\n")
    for d in devices:
        out.write(
            f"{d.profile:<12} #{d.extended_device_number:<7} {d.page_count:>5} pages"
            f"  {d.description or ''}\n"
        )
    return 0


def cmd_simulate(args: argparse.Namespace, out: IO[str]) -> int:
    """Print (or write) the simulator's scripted ride."""
    arrays = generate(demo_ride(), seed=args.seed, hz=args.hz)
    if args.fit is not None:
        ride = Ride.from_columns(
            arrays.t_s,
            **{name: getattr(arrays, name) for name in READING_FIELDS},
            indoor=True,
            sub_sport="virtual_activity",
        )
        write_fit(args.fit, ride)
    if args.output is not None:
        with args.output.open("w", encoding="utf-8", newline="") as handle:
            write_csv(handle, arrays)
    elif args.fit is None:
        write_csv(out, arrays)
    return 0


def _plot_path(plot: Path, index: int) -> Path:
    """The first ride's plot where asked; the next rides' beside it (-2, -3...)."""
    return plot if index == 0 else plot.with_stem(f"{plot.stem}-{index + 1}")


def _ride_heading(index: int, found: FileAnalysis) -> str:
    ride = found.rides[index].ride
    started = "start unknown"
    if ride.start_time is not None:
        started = f"started {ride.start_time:%Y-%m-%d %H:%M} UTC"
    sport = f"{ride.sport or 'ride'}{'/' + ride.sub_sport if ride.sub_sport else ''}"
    session = "" if ride.session is None else f", session {ride.session}"
    return f"=== Ride {index + 1} of {len(found.rides)}: {started}, {sport}{session}"


def analyze_json(found: FileAnalysis) -> dict[str, Any]:
    """The first ride's document (as for a file of one ride), every ride's under
    ``rides`` and the sessions that are not rides under ``skipped``."""
    docs = [{**analysis_json(r), **dynamics_json(r)} for r in found.rides]
    per_ride = [
        {key: value for key, value in doc.items() if key not in ("version", "file")}
        for doc in docs
    ]
    return {**docs[0], "rides": per_ride, "skipped": list(found.skipped)}


def cmd_analyze(args: argparse.Namespace, out: IO[str]) -> int:
    """Analyse every ride of a file."""
    settings = settings_from_args(args)
    baseline = None
    if args.baseline:
        progress = Progress(len(args.baseline), progress_enabled(args))
        baseline, left_out = learn_baseline(
            args.baseline, settings, args.allow_truncated, progress
        )
        for note in left_out:
            sys.stderr.write(f"ridebalance analyze: --baseline: {note}; not learnt\n")
    found = analyze_rides(
        args.ride, settings, indoor_flag(args), args.allow_truncated, baseline
    )
    plots: list[Path] = []
    if args.plot is not None:
        for index, result in enumerate(found.rides):
            plots.append(_plot_path(args.plot, index))
            plot_analysis(result, plots[-1], settings)
    if args.json:
        json.dump(analyze_json(found), out, indent=2)
        out.write("\n")
        return 0
    blocks: list[str] = []
    for index, result in enumerate(found.rides):
        lines = [render_analysis(result), *render_dynamics(result)]
        if len(found.rides) > 1:
            lines.insert(0, _ride_heading(index, found))
        blocks.append("\n".join(lines))
    out.write("\n\n".join(blocks) + "\n")
    for reason in found.skipped:
        out.write(f"Skipped: {reason}\n")
    for plot in plots:
        out.write(f"Plot written to {plot}\n")
    return 0


def cmd_compare(args: argparse.Namespace, out: IO[str]) -> int:
    """Indoor rides against outdoor rides, band by band."""
    settings = settings_from_args(args)
    progress = Progress(len(args.indoor) + len(args.outdoor), progress_enabled(args))
    learnt: set[str] = set()  # each ride once, over both sides
    sides: dict[str, LearntRides[Analysis]] = {}
    for side, paths in (("indoor", args.indoor), ("outdoor", args.outdoor)):
        sides[side] = learn_side(
            paths,
            settings,
            side,
            allow_truncated=args.allow_truncated,
            learnt=learnt,
            progress=progress,
        )
        for note in sides[side].left_out:
            sys.stderr.write(f"ridebalance compare: --{side}: {note}; not learnt\n")
        if not sides[side].rides:
            raise CliError(f"no {side} ride is left to compare")
    dynamics = compare_dynamics(
        sides["indoor"].rides,
        sides["outdoor"].rides,
        {
            side: analyze_ride_dynamics([r.ride for r in found.rides], settings)
            for side, found in sides.items()
        },
    )
    doc = {
        "version": JSON_VERSION,
        "indoor": side_totals(sides["indoor"].rides),
        "outdoor": side_totals(sides["outdoor"].rides),
        "bands": compare_sides(sides["indoor"], sides["outdoor"]),
        "noise_rule": {
            "z": Z95,
            "min_difference_pts": RESOLUTION_PTS,
            "min_blocks": MIN_BLOCKS,
            "block_s": settings.block_s,
        },
        "dynamics": dynamics,
    }
    if args.plot is not None:
        plot_comparison(doc, args.plot)
    if args.json:
        json.dump(doc, out, indent=2)
        out.write("\n")
    else:
        lines = [render_comparison(doc), *render_dynamics_comparison(dynamics)]
        out.write("\n".join(lines) + "\n")
        if args.plot is not None:
            out.write(f"Plot written to {args.plot}\n")
    return 0

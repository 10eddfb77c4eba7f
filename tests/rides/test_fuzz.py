"""Damaged ride files: a clear one-line error or a sound ride, never a crash.

Hundreds of mutated FIT files (real head-unit files and the project's own
writer's: cut short, bits flipped, header and size fields changed, CRCs zeroed,
garbage appended, files chained; with the CRCs rewritten or not, so damage
reaches the decoder too) and malformed CSVs go through the reader and
the analysis in-process; a handful go through the ``ridebalance`` command.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
import math
from pathlib import Path
import struct
import subprocess
import tracemalloc

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ridebalance.analysis import AnalysisSettings
from custom_components.ridebalance.rides import RideFileError
from custom_components.ridebalance.rides.analyze import (
    analyze_ride,
    analyze_ride_dynamics,
)
from custom_components.ridebalance.rides.fit_crc import fit_crc
from custom_components.ridebalance.rides.fit_writer import encode_fit
from custom_components.ridebalance.rides.learn import rides_to_learn
from custom_components.ridebalance.rides.summary import session_figures
from tests.conftest import SHARED_FIT

from . import fit_files

REPO = Path(__file__).resolve().parents[2]
# Small real files: each case runs in milliseconds.
SHARED_BASES = (
    "wahoo-bolt-short.fit",
    "edge820-bike-no-power.fit",
    "fenix5-run-not-cycling.fit",
    "truncated-eof.fit",
    "corrupt-header.fit",
)
MAX_ERROR_CHARS = 300


@cache
def fit_bases() -> tuple[bytes, ...]:
    """The files the mutations start from."""
    own = (
        encode_fit(fit_files.ride(240)),
        fit_files.triathlon(),
        fit_files.chained_newest_first()[0],
    )
    if not SHARED_FIT.is_dir():
        return own
    real = tuple((SHARED_FIT / name).read_bytes() for name in SHARED_BASES)
    # The first 20 kB of a long Edge 810 ride: real Vector pedal records.
    edge = (SHARED_FIT / "edge810-vector-pedals.fit").read_bytes()
    return (*own, *real, edge[:20_000])


@dataclass(frozen=True)
class Mutation:
    """One way of damaging a file, shown by hypothesis when a case fails."""

    kind: str
    position: float
    value: int

    def apply(self, data: bytes, other: bytes) -> bytes:
        at = min(len(data) - 1, int(self.position * len(data)))
        out = bytearray(data)
        if self.kind == "truncate":
            return data[:at]
        if self.kind == "flip":
            out[at] ^= 1 << (self.value % 8)
        elif self.kind == "header_size":
            out[0] = self.value % 256
        elif self.kind == "data_size":
            struct.pack_into("<I", out, 4, self.value)
        elif self.kind == "zero_crcs":
            out[12:14] = b"\0\0"
            out[-2:] = b"\0\0"
        elif self.kind == "garbage":
            return data + bytes((self.value * k) % 256 for k in range(1, 1 + at % 64))
        elif self.kind == "chain":
            return data + other[: max(12, at)]
        elif self.kind == "overwrite":
            out[at : at + 4] = struct.pack("<I", self.value)[: len(out) - at]
        return bytes(out)


def fix_crcs(data: bytes) -> bytes:
    """Rewrite the first file's CRCs, so the damage reaches the decoder."""
    out = bytearray(data)
    if len(out) >= 14 and out[0] == 14:
        struct.pack_into("<H", out, 12, fit_crc(bytes(out[:12])))
    if len(out) >= 12 and out[0] in (12, 14):
        end = out[0] + struct.unpack_from("<I", out, 4)[0]
        if end + 2 <= len(out):
            struct.pack_into("<H", out, end, fit_crc(bytes(out[:end])))
    return bytes(out)


mutations = st.builds(
    Mutation,
    kind=st.sampled_from(
        [
            "truncate",
            "flip",
            "header_size",
            "data_size",
            "zero_crcs",
            "garbage",
            "chain",
            "overwrite",
        ]
    ),
    position=st.floats(0.0, 1.0),
    value=st.integers(0, 2**32 - 1),
)


def _read_and_analyse(path: Path, *, allow_truncated: bool) -> str:
    """What a rider gets, by the paths the CLI and the import take: the rides
    to learn (each analysed on its running time), their figures and dynamics,
    or the error's text."""
    settings = AnalysisSettings()
    try:
        found = rides_to_learn(
            path,
            settings,
            context="indoor",
            allow_truncated=allow_truncated,
            learnt=set(),
        )
    except RideFileError as err:
        _one_short_line(str(err))
        return "error"
    assert found.candidates
    for candidate in found.candidates:
        ride = candidate.ride
        assert len(ride) > 0
        figures = session_figures(ride)
        summary = candidate.summary
        if summary is None:  # left out before the analysis: no side, a repeat
            try:
                summary = analyze_ride(ride, settings)
            except RideFileError as err:  # no power
                _one_short_line(str(err))
                continue
        if candidate.refused is not None:
            _one_short_line(candidate.refused)
        for value in (figures.avg_power_w, summary.avg_power_w):
            assert value is None or 0.0 <= value <= 3000.0
        assert math.isfinite(figures.timer_s)
        assert 0 <= summary.riding_s <= figures.elapsed_s + 60
        dynamics = analyze_ride_dynamics([ride], settings)
        if dynamics is not None:
            known = dynamics.ride.seated_s + dynamics.ride.standing_s
            assert 0 <= known <= figures.elapsed_s + 60
    return "ride"


def _one_short_line(message: str) -> None:
    assert message
    assert "\n" not in message
    assert len(message) <= MAX_ERROR_CHARS


def _bounded(data: bytes, path: Path, *, allow_truncated: bool) -> None:
    path.write_bytes(data)
    tracemalloc.start()
    try:
        _read_and_analyse(path, allow_truncated=allow_truncated)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Memory follows the file's size (its records), never its time span.
    assert peak < 20_000_000 + 2_000 * len(data)


@settings(
    derandomize=True,
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    base=st.integers(0, 100),
    other=st.integers(0, 100),
    damage=st.lists(mutations, min_size=1, max_size=3),
    allow_truncated=st.booleans(),
    crcs_fixed=st.booleans(),
)
def test_mutated_fit_files(
    tmp_path: Path,
    *,
    base: int,
    other: int,
    damage: list[Mutation],
    allow_truncated: bool,
    crcs_fixed: bool,
) -> None:
    bases = fit_bases()
    data = bases[base % len(bases)]
    for mutation in damage:
        if not data:
            break
        data = mutation.apply(data, bases[other % len(bases)])
    if crcs_fixed:
        data = fix_crcs(data)
    _bounded(data, tmp_path / "ride.fit", allow_truncated=allow_truncated)


csv_cells = st.one_of(
    st.sampled_from(
        ["", "0", "12.5", "-3", "nan", "inf", "1e13", "1e308", "101", '"', '"1', "x"]
    ),
    st.text(alphabet='0123456789.,e-+" \r\n\t\x00abc', max_size=12),
)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(
    header=st.lists(
        st.sampled_from(
            ["time_s", "power_w", "left_pct", "right_pct", "cadence_rpm", "x", '"q']
        ),
        min_size=0,
        max_size=5,
    ),
    rows=st.lists(st.lists(csv_cells, max_size=6), max_size=12),
    big_cell=st.sampled_from([0, 0, 0, 140_000]),
)
def test_malformed_csv(
    tmp_path_factory: pytest.TempPathFactory,
    header: list[str],
    rows: list[list[str]],
    big_cell: int,
) -> None:
    lines = [",".join(header)] + [",".join(row) for row in rows]
    if big_cell:
        lines.append("1," + "7" * big_cell)
    path = tmp_path_factory.mktemp("csv") / "ride.csv"
    _bounded("\n".join(lines).encode(), path, allow_truncated=False)


def _cli_cases() -> list[tuple[str, bytes]]:
    bases = fit_bases()
    own, triathlon, chained = bases[0], bases[1], bases[2]
    return [
        ("cut.fit", own[: len(own) // 2]),
        ("flipped.fit", own[:200] + bytes([own[200] ^ 0x10]) + own[201:]),
        ("zero-crcs.fit", Mutation("zero_crcs", 0, 0).apply(own, own)),
        ("garbage.fit", own + b"\x0e\x10garbage after the file"),
        ("chained.fit", chained),
        ("triathlon.fit", triathlon),
        ("quote.csv", b'time_s,power_w\n0,"200\n1,210\n'),
        ("gap.csv", b"time_s,power_w,left_pct\n0,200,49\n1,210,50\n1e13,220,51\n"),
    ]


@pytest.mark.parametrize(("name", "data"), _cli_cases(), ids=lambda v: str(v)[:12])
def test_cli_analyze_never_prints_a_traceback(
    tmp_path: Path, name: str, data: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    done = subprocess.run(
        [str(REPO / "scripts" / "ridebalance"), "analyze", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr
    if done.returncode == 0:
        assert "Balance" in done.stdout
    else:
        assert done.returncode == 1
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith("ridebalance analyze: ")
        assert len(line) <= MAX_ERROR_CHARS

"""FIT files for reader tests, built with the project's own writer.

Multisport and chained files are made the way devices make them: the messages
of several activities in one file (one header, one CRC), or whole files
appended one after another.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import struct

import numpy as np

from custom_components.ridebalance.rides import Ride
from custom_components.ridebalance.rides.fit_crc import fit_crc
from custom_components.ridebalance.rides.fit_reader import parse_header
from custom_components.ridebalance.rides.fit_writer import encode_fit

START = datetime(2026, 3, 14, 7, 0, 0, tzinfo=UTC)


def ride(
    n: int = 600,
    *,
    sport: str | None = None,
    left: float = 48.0,
    seed: int = 3,
    start: datetime = START,
) -> Ride:
    """A 1 Hz ride with power, a sided balance, cadence and heart rate."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    return Ride.from_columns(
        t,
        power_w=np.round(200 + 30 * np.sin(t / 60) + rng.normal(0, 8, n)),
        left_pct=np.round(left + rng.normal(0, 1.5, n)),
        cadence_rpm=np.round(88 + rng.normal(0, 2, n)),
        heart_rate_bpm=np.round(130 + t / 60),
        sport=sport,
        indoor=True,
        start_time=start,
    )


def body(data: bytes) -> bytes:
    """The messages of a FIT file, without its header and trailing CRC."""
    header = parse_header(data)
    return data[header.header_size : header.header_size + header.data_size]


def wrap(messages: bytes) -> bytes:
    """A complete FIT file around ``messages``: 14-byte header, both CRCs."""
    header = struct.pack("<BBHI4s", 14, 0x20, 2160, len(messages), b".FIT")
    header += struct.pack("<H", fit_crc(header))
    data = header + messages
    return data + struct.pack("<H", fit_crc(data))


def triathlon() -> bytes:
    """Swim, bike and run in one file: three sessions, one after another."""
    swim = ride(900, sport="swimming", start=START)
    bike = ride(1200, sport="cycling", start=START + timedelta(minutes=20))
    run = ride(600, sport="running", start=START + timedelta(minutes=45))
    return wrap(b"".join(body(encode_fit(r)) for r in (swim, bike, run)))


def duathlon() -> bytes:
    """Bike, run, bike in one file: two cycling sessions around a run."""
    first = ride(1200, sport="cycling", left=47.0, seed=6, start=START)
    run = ride(600, sport="running", start=START + timedelta(minutes=25))
    second = ride(
        900, sport="cycling", left=52.0, seed=7, start=START + timedelta(minutes=40)
    )
    return wrap(b"".join(body(encode_fit(r)) for r in (first, run, second)))


def chained_newest_first() -> tuple[bytes, Ride, Ride]:
    """Two whole FIT files appended, the later ride first."""
    early = ride(900, left=47.0, seed=4, start=START)
    late = ride(1500, left=51.0, seed=5, start=START + timedelta(hours=3))
    return encode_fit(late) + encode_fit(early), early, late

"""Scripted rides with known truth, for the simulator source, tests and benchmarks."""

from .script import (
    CadenceSag,
    RideArrays,
    Rider,
    RideScript,
    Segment,
    Shift,
    demo_ride,
    generate,
)

__all__ = [
    "CadenceSag",
    "RideArrays",
    "RideScript",
    "Rider",
    "Segment",
    "Shift",
    "demo_ride",
    "generate",
]

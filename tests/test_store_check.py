"""The check of parts read back from the Store, against their type hints."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pytest

from custom_components.ridebalance.store_check import problem


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"


@dataclass
class Band:
    label: str
    weight: float


@dataclass
class Part:
    count: int = 0
    share: float | None = None
    on: bool = True
    side: Side = Side.LEFT
    edges: tuple[float, ...] = ()
    bands: dict[str, Band] = field(default_factory=dict)
    history: list[Band] = field(default_factory=list)
    nothing: None = None


def test_a_sound_part_has_no_problem() -> None:
    part = Part(3, 49.5, False, Side.RIGHT, (100.0, 150), {"a": Band("a", 2)}, [])
    assert problem(part) is None


@pytest.mark.parametrize(
    ("part", "found"),
    [
        (Part(count="3"), "count is '3', not a whole number"),  # type: ignore[arg-type]
        (Part(count=True), "count is True, not a whole number"),
        (Part(share="NaN"), "share is 'NaN', not a number"),  # type: ignore[arg-type]
        (Part(share=float("nan")), "share is nan, not a number"),
        (Part(share=float("inf")), "share is inf, not a number"),
        (Part(on=1), "on is 1"),  # type: ignore[arg-type]
        (Part(side="left"), "side is 'left'"),  # type: ignore[arg-type]
        (Part(edges=[100.0]), "edges is not a tuple"),  # type: ignore[arg-type]
        (Part(edges=(100.0, None)), "edges[1] is None, not a number"),  # type: ignore[arg-type]
        (Part(bands=[]), "bands is not a mapping"),  # type: ignore[arg-type]
        (Part(bands={1: Band("a", 1)}), "bands has a key that is not text"),  # type: ignore[dict-item]
        (Part(bands={"a": Band("a", "x")}), "bands.a.weight is 'x', not a number"),  # type: ignore[arg-type]
        (Part(bands={"a": {"weight": 1}}), "bands.a is not a Band"),  # type: ignore[dict-item]
        (Part(history=[Band(None, 1)]), "history[0].label is None"),  # type: ignore[arg-type]
        (Part(nothing=0), "nothing is not empty"),  # type: ignore[arg-type]
    ],
)
def test_each_kind_of_damage_is_named(part: Part, found: str) -> None:
    assert problem(part) == found

"""Is a part read back from the Store what the code says it holds?

The ``from_dict`` readers are lenient (a ``"NaN"`` string passes through as a
string, a missing optional key takes its default); what they build is checked
here against the dataclasses' own type hints, so a damaged part is found when it
is loaded, not when a sensor does arithmetic with it. Numbers must be finite.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from enum import Enum
from functools import cache
import math
import types
from typing import Any, Union, get_args, get_origin, get_type_hints


def problem(value: object) -> str | None:
    """What is wrong with a decoded dataclass (first problem found), or None."""
    return _check(value, type(value), "")


def _check(value: object, hint: Any, where: str) -> str | None:
    origin, args = _shape(hint)
    if origin in (Union, types.UnionType):
        options = args
        if value is None and type(None) in options:
            return None
        first: str | None = None
        for option in options:  # sound as soon as one option fits
            if (found := _check(value, option, where)) is None:
                return None
            first = first or found
        return first
    if hint is type(None):
        return None if value is None else f"{where or 'value'} is not empty"
    if origin in (tuple, list):
        if not isinstance(value, origin):
            return f"{where} is not a {origin.__name__}"
        items = [a for a in args if a is not Ellipsis]
        inner = items[0] if items else Any
        for i, item in enumerate(value):
            if (wrong := _check(item, inner, f"{where}[{i}]")) is not None:
                return wrong
        return None
    if origin is dict:
        if not isinstance(value, dict):
            return f"{where} is not a mapping"
        _, inner = args
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{where} has a key that is not text"
            if (wrong := _check(item, inner, f"{where}.{key}")) is not None:
                return wrong
        return None
    return _scalar(value, hint, where)


def _scalar(value: object, hint: Any, where: str) -> str | None:
    if hint is Any:
        return None
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not math.isfinite(float(value)):  # type: ignore[arg-type]
            return f"{where} is {value!r}, not a number"
        return None
    if hint is bool or hint is str:
        return None if isinstance(value, hint) else f"{where} is {value!r}"
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{where} is {value!r}, not a whole number"
    if isinstance(hint, type) and issubclass(hint, Enum):
        return None if isinstance(value, hint) else f"{where} is {value!r}"
    if isinstance(hint, type) and is_dataclass(hint):
        if not isinstance(value, hint):
            return f"{where} is not a {hint.__name__}"
        for field_name, field_hint in _field_hints(hint):
            name = f"{where}.{field_name}" if where else field_name
            if (
                found := _check(getattr(value, field_name), field_hint, name)
            ) is not None:
                return found
        return None
    return None  # a type this check does not know: trusted


@cache
def _shape(hint: Any) -> tuple[Any, tuple[Any, ...]]:
    """A hint's origin and arguments (``float | None``: a union of the two)."""
    return get_origin(hint), get_args(hint)


@cache
def _field_hints(cls: type) -> tuple[tuple[str, Any], ...]:
    """A dataclass's fields and their hints, resolved once per class.

    Resolving the hints costs far more than checking a value against them, and
    a running session holds an hour of readings of one class.
    """
    hints = get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in fields(cls))

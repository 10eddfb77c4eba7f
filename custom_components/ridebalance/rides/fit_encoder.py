"""The FIT byte layer the writer uses: base types and a message encoder.

Layout facts (FIT protocol): 14-byte header with its own CRC, then definition
messages (header byte 0x40 | local type) and data messages (local type), all
little-endian, then the CRC-16 of everything before it. A field may be an array
of its base type (the struct code says how many, e.g. ``"2B"``).
"""

from __future__ import annotations

from collections.abc import Sequence
import struct

from .fit_crc import fit_crc

PROTOCOL_VERSION = 0x20  # 2.0
PROFILE_VERSION = 2160

# (base type byte, struct code, invalid value)
ENUM = (0x00, "B", 0xFF)
SINT8 = (0x01, "b", 0x7F)
UINT8 = (0x02, "B", 0xFF)
UINT16 = (0x84, "H", 0xFFFF)
UINT32 = (0x86, "I", 0xFFFFFFFF)
UINT32Z = (0x8C, "I", 0)
UINT8_PAIR = (0x02, "2B", 0xFF)
UINT16_PAIR = (0x84, "2H", 0xFFFF)

type BaseType = tuple[int, str, int]
type Field = tuple[int, BaseType]  # (field number, base type)
type Value = float | tuple[float | None, ...] | None
"""A field's value: None = invalid; a tuple for an array field."""


def _items(code: str, invalid: int, value: Value) -> tuple[int, ...]:
    count = struct.calcsize(code) // struct.calcsize(code[-1])
    if value is None:
        return (invalid,) * count
    if isinstance(value, tuple):
        return tuple(invalid if v is None else int(v) for v in value)
    return (int(value),)


class FitEncoder:
    """Definition + data messages with local types assigned on first use."""

    def __init__(self) -> None:
        self._body = bytearray()
        self._locals: dict[tuple[int, tuple[Field, ...]], int] = {}

    def message(
        self, global_num: int, fields: Sequence[Field], values: Sequence[Value]
    ) -> None:
        """Append one data message (and its definition when new)."""
        key = (global_num, tuple(fields))
        local = self._locals.get(key)
        if local is None:
            local = len(self._locals) % 16
            self._locals = {k: v for k, v in self._locals.items() if v != local}
            self._locals[key] = local
            self._body += struct.pack(
                "<BBBHB", 0x40 | local, 0, 0, global_num, len(fields)
            )
            for number, (base, code, _) in fields:
                self._body += struct.pack("<BBB", number, struct.calcsize(code), base)
        self._body.append(local)
        for (_, (_, code, invalid)), value in zip(fields, values, strict=True):
            self._body += struct.pack("<" + code, *_items(code, invalid, value))

    def finish(self) -> bytes:
        """The whole file: header, messages, CRC."""
        header = struct.pack(
            "<BBHI4s", 14, PROTOCOL_VERSION, PROFILE_VERSION, len(self._body), b".FIT"
        )
        header += struct.pack("<H", fit_crc(header))
        data = header + bytes(self._body)
        return data + struct.pack("<H", fit_crc(data))

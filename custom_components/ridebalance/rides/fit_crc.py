"""The FIT CRC-16 (the nibble-table variant from the FIT protocol description)."""

from __future__ import annotations

_NIBBLE_TABLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip


def _nibble_crc(byte: int, crc: int) -> int:
    """One byte through the FIT description's two nibble steps."""
    tmp = _NIBBLE_TABLE[crc & 0xF]
    crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ _NIBBLE_TABLE[byte & 0xF]
    tmp = _NIBBLE_TABLE[crc & 0xF]
    return ((crc >> 4) & 0x0FFF) ^ tmp ^ _NIBBLE_TABLE[(byte >> 4) & 0xF]


# The same CRC a byte at a time (it is CRC-16/ARC): one lookup per byte makes a
# whole-file check several times faster in pure Python.
_BYTE_TABLE = tuple(_nibble_crc(i, 0) for i in range(256))


def fit_crc(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC of ``data``, continuing from ``crc``."""
    table = _BYTE_TABLE
    for byte in bytes(data):
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc

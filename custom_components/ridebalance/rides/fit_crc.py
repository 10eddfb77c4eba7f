"""The FIT CRC-16 (the nibble-table variant from the FIT protocol description)."""

from __future__ import annotations

_TABLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip


def fit_crc(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC of ``data``, continuing from ``crc``."""
    for byte in bytes(data):
        tmp = _TABLE[crc & 0xF]
        crc = (crc >> 4) & 0x0FFF
        crc = crc ^ tmp ^ _TABLE[byte & 0xF]
        tmp = _TABLE[crc & 0xF]
        crc = (crc >> 4) & 0x0FFF
        crc = crc ^ tmp ^ _TABLE[(byte >> 4) & 0xF]
    return crc

"""Writing FIT: our encoder's files checked byte by byte and read back by fitdecode."""

from __future__ import annotations

from datetime import UTC, datetime
import io
from pathlib import Path
import struct
from typing import Any

import fitdecode
import numpy as np
import pytest

from custom_components.ridebalance.rides import Ride, RideFileError, read_ride
from custom_components.ridebalance.rides.fit_crc import fit_crc
from custom_components.ridebalance.rides.fit_reader import parse_header
from custom_components.ridebalance.rides.fit_writer import (
    encode_fit,
    fit_timestamp,
    write_fit,
)
from custom_components.ridebalance.rides.summary import session_figures

START = datetime(2026, 1, 10, 18, 0, 0, tzinfo=UTC)


def _trainer_ride(n: int = 1800) -> Ride:
    rng = np.random.default_rng(7)
    t = np.arange(n, dtype=float)
    power = 180 + 40 * np.sin(t / 120) + rng.normal(0, 10, n)
    left = 50.5 + rng.normal(0, 2, n)
    power[100:110] = 0.0  # a coast
    left[100:110] = np.nan
    return Ride.from_columns(
        t,
        power_w=power,
        left_pct=left,
        cadence_rpm=88 + rng.normal(0, 3, n),
        heart_rate_bpm=np.round(135 + t / 60),
        te_left_pct=78 + rng.normal(0, 2, n),
        te_right_pct=76 + rng.normal(0, 2, n),
        ps_left_pct=22 + rng.normal(0, 1, n),
        ps_right_pct=21 + rng.normal(0, 1, n),
        indoor=True,
        start_time=START,
    )


def _check_integrity(data: bytes) -> None:
    """Header and both CRCs by our own reading of the layout."""
    header = parse_header(data)  # size, magic and header CRC
    assert header.header_size == 14
    (header_crc,) = struct.unpack_from("<H", data, 12)
    assert header_crc == fit_crc(data[:12])  # written, not the optional 0
    assert header.end == len(data)  # data size as declared, nothing after
    (file_crc,) = struct.unpack_from("<H", data, len(data) - 2)
    assert file_crc == fit_crc(data[:-2])


def _fitdecode_read(data: bytes) -> dict[str, list[Any]]:
    """Data messages by name, decoded by fitdecode with its CRC check raising."""
    _check_integrity(data)
    messages: dict[str, list[Any]] = {}
    crcs = []
    with fitdecode.FitReader(
        io.BytesIO(data),
        check_crc=fitdecode.CrcCheck.RAISE,
        error_handling=fitdecode.ErrorHandling.RAISE,
    ) as fit:
        for frame in fit:
            if frame.frame_type == fitdecode.FIT_FRAME_DATA:
                messages.setdefault(frame.name, []).append(frame)
            elif frame.frame_type == fitdecode.FIT_FRAME_CRC:
                crcs.append(frame)
    assert [crc.matched for crc in crcs] == [True]  # one file, its CRC checked
    return messages


def test_round_trip_within_encoding_resolution(tmp_path: Path) -> None:
    ride = _trainer_ride()
    path = tmp_path / "trainer.fit"
    write_fit(path, ride)
    back = read_ride(path)
    assert len(back) == len(ride)
    assert back.start_time == START
    assert back.sub_sport == "indoor_cycling"
    assert back.indoor is True
    assert back.balance_side == "right"
    measured = np.isfinite(ride.left_pct)
    assert np.array_equal(np.isfinite(back.left_pct), measured)
    # Balance in whole percent, power/cadence/HR whole units, TE/PS 0.5 % steps.
    assert np.nanmax(np.abs(back.left_pct - ride.left_pct)) <= 0.5
    assert np.nanmax(np.abs(back.power_w - ride.power_w)) <= 0.5
    assert np.nanmax(np.abs(back.cadence_rpm - ride.cadence_rpm)) <= 0.5
    assert np.array_equal(back.heart_rate_bpm, ride.heart_rate_bpm)
    for name in ("te_left_pct", "te_right_pct", "ps_left_pct", "ps_right_pct"):
        assert np.nanmax(np.abs(getattr(back, name) - getattr(ride, name))) <= 0.25


def test_session_message_carries_our_figures() -> None:
    ride = _trainer_ride()
    figures = session_figures(ride)
    messages = _fitdecode_read(encode_fit(ride))
    (session,) = messages["session"]
    assert session.get_value("sport") == "cycling"
    assert session.get_value("sub_sport") == "indoor_cycling"
    assert session.get_value("avg_power") == round(figures.avg_power_w or 0)
    assert session.get_value("normalized_power") == round(
        figures.normalized_power_w or 0
    )
    assert session.get_value("total_timer_time") == 1800
    raw = session.get_raw_value("left_right_balance")
    assert isinstance(raw, int)
    assert raw & 0x8000
    assert (raw & 0x3FFF) / 100 == pytest.approx(figures.right_pct, abs=0.005)
    assert session.get_value("avg_left_torque_effectiveness") == pytest.approx(
        figures.te_left_pct, abs=0.25
    )
    assert len(messages["lap"]) == 1
    assert len(messages["activity"]) == 1
    record = messages["record"][0]
    # The raw record balance: right bit + right share.
    assert record.get_raw_value("left_right_balance") == 0x80 | round(
        100 - ride.left_pct[0]
    )


def test_rewritten_head_unit_ride_keeps_its_figures(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit")
    buffer = io.BytesIO()
    write_fit(buffer, ride)
    data = buffer.getvalue()
    session = _fitdecode_read(data)["session"][0]
    original = session_figures(ride)
    # Pauses survive as timer events, so timer time and NP are unchanged.
    assert session.get_value("total_timer_time") == pytest.approx(
        original.timer_s, abs=1
    )
    assert session.get_value("normalized_power") == round(
        original.normalized_power_w or 0
    )
    again = session_figures(read_ride_bytes(data))
    assert again.normalized_power_w == pytest.approx(original.normalized_power_w)
    assert again.right_pct == pytest.approx(original.right_pct, abs=0.01)
    assert again.avg_power_w == pytest.approx(original.avg_power_w)


def test_four_hz_session_is_recorded_per_second() -> None:
    t = np.arange(0, 120, 0.25)
    power = np.where((t * 4).astype(int) % 2 == 0, 100.0, 300.0)
    left = np.where(power > 200, 48.0, 56.0)
    ride = Ride.from_columns(t, power_w=power, left_pct=left, start_time=START)
    back = read_ride_bytes(encode_fit(ride))
    assert len(back) == 120
    assert np.allclose(back.power_w, 200.0)
    # Power-weighted within each second: (100*56 + 300*48) / 400 = 50.
    assert np.allclose(back.left_pct, 50.0)


def test_crc_is_the_fit_one() -> None:
    # Reference value for the ASCII digits (CRC-16/ARC, which FIT's table computes).
    assert fit_crc(b"123456789") == 0xBB3D


def test_empty_ride_is_refused() -> None:
    with pytest.raises(ValueError, match="without records"):
        encode_fit(Ride.from_columns([]))


def read_ride_bytes(data: bytes) -> Ride:
    return read_ride(Path("memory.fit"), data=data)


def test_raw_fields_hold_the_encoded_values(tmp_path: Path) -> None:
    ride = _trainer_ride(600)
    path = tmp_path / "trainer.fit"
    write_fit(path, ride)
    records: list[dict[str, object]] = []
    sessions: list[dict[str, object]] = []
    with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.ENABLED) as fit:
        for frame in fit:
            if frame.frame_type != fitdecode.FIT_FRAME_DATA:
                continue
            raw = {f.name: f.raw_value for f in frame.fields}
            if frame.name == "record":
                records.append(raw)
            elif frame.name == "session":
                sessions.append(raw)
    assert len(records) == 600
    for i in (0, 50, 599):
        assert records[i]["power"] == round(ride.power_w[i])
        assert records[i]["left_right_balance"] == 0x80 | round(100 - ride.left_pct[i])
        assert records[i]["left_torque_effectiveness"] == round(ride.te_left_pct[i] * 2)
    # Coasting seconds carry no balance: the invalid marker, not a 100/0 split.
    assert records[105]["left_right_balance"] is None
    figures = session_figures(ride)
    assert sessions[0]["left_right_balance"] == 0x8000 | round(
        (figures.right_pct or 0) * 100
    )


def test_a_changed_reading_fails_the_file_crc() -> None:
    ride = _trainer_ride(600)
    data = bytearray(encode_fit(ride))
    # Record 300: its timestamp, then its power (uint16); a 1 W change still
    # decodes as a valid message, so only the CRC can catch it.
    stamp = struct.pack("<I", fit_timestamp(START) + 300)
    at = data.index(stamp, 100) + len(stamp)
    assert data[at] == round(ride.power_w[300]) & 0xFF
    data[at] ^= 0x01
    with pytest.raises(RideFileError, match=r"decoding failed.*CRC"):
        read_ride_bytes(bytes(data))


def test_undecodable_message_with_a_valid_crc_is_refused() -> None:
    data = bytearray(encode_fit(_trainer_ride(60)))
    # Record 30's header byte names local type 15, which was never defined.
    at = data.index(struct.pack("<I", fit_timestamp(START) + 30), 100) - 1
    data[at] = 0x0F
    body = bytes(data[:-2])
    damaged = body + struct.pack("<H", fit_crc(body))
    with pytest.raises(RideFileError, match=r"decoding failed.*15 not defined"):
        read_ride_bytes(damaged)


def _with_file_id(data: bytes, manufacturer: int, product: int) -> bytes:
    """Our file with another maker and product in its file_id, CRC redone."""
    # 14-byte header, file_id definition (6 + 5 x 3 bytes), then its data:
    # record header, type (enum), manufacturer (uint16), product (uint16).
    body = bytearray(data[:-2])
    struct.pack_into("<HH", body, 14 + 21 + 2, manufacturer, product)
    return bytes(body) + struct.pack("<H", fit_crc(body))


def test_newer_profile_names_are_read_and_written() -> None:
    ride = Ride.from_columns(
        np.arange(60.0),
        power_w=np.full(60, 220.0),
        left_pct=np.full(60, 49.0),
        start_time=START,
        sub_sport="e_bike_enduro",  # added to the FIT profile in 2025
    )
    data = encode_fit(ride)
    back = read_ride_bytes(data)
    assert back.sub_sport == "e_bike_enduro"
    # An Edge 550 (Garmin product 4633) and a Peloton export (maker 340).
    edge = read_ride_bytes(_with_file_id(data, 1, 4633))
    assert (edge.manufacturer, edge.device) == ("garmin", "edge_550")
    peloton = read_ride_bytes(_with_file_id(data, 340, 7))
    assert (peloton.manufacturer, peloton.device) == ("peloton", "7")

"""Writing FIT: our encoder's files read back through Garmin's SDK."""

from __future__ import annotations

from datetime import UTC, datetime
import io
from pathlib import Path

from garmin_fit_sdk import Decoder, Stream
import numpy as np
import pytest

from custom_components.ridebalance.rides import Ride, read_ride
from custom_components.ridebalance.rides.fit_crc import fit_crc
from custom_components.ridebalance.rides.fit_writer import encode_fit, write_fit
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


def _sdk_read(data: bytes) -> dict[str, list[dict[str, object]]]:
    assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity()
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    return messages  # type: ignore[return-value]


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
    messages = _sdk_read(encode_fit(ride))
    (session,) = messages["session_mesgs"]
    assert session["sport"] == "cycling"
    assert session["avg_power"] == round(figures.avg_power_w or 0)
    assert session["normalized_power"] == round(figures.normalized_power_w or 0)
    assert session["total_timer_time"] == 1800
    raw = session["left_right_balance"]
    assert isinstance(raw, int)
    assert raw & 0x8000
    assert (raw & 0x3FFF) / 100 == pytest.approx(figures.right_pct, abs=0.005)
    assert session["avg_left_torque_effectiveness"] == pytest.approx(
        figures.te_left_pct, abs=0.25
    )
    assert len(messages["lap_mesgs"]) == 1
    assert len(messages["activity_mesgs"]) == 1
    record = messages["record_mesgs"][0]
    # The SDK returns the raw record balance: right bit + right share.
    assert record["left_right_balance"] == 0x80 | round(100 - ride.left_pct[0])


def test_rewritten_head_unit_ride_keeps_its_figures(shared_fit: Path) -> None:
    ride = read_ride(shared_fit / "edge530-powertap-p1-pedals.fit")
    buffer = io.BytesIO()
    write_fit(buffer, ride)
    data = buffer.getvalue()
    session = _sdk_read(data)["session_mesgs"][0]
    original = session_figures(ride)
    # Pauses survive as timer events, so timer time and NP are unchanged.
    assert session["total_timer_time"] == pytest.approx(original.timer_s, abs=1)
    assert session["normalized_power"] == round(original.normalized_power_w or 0)
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
    from custom_components.ridebalance.rides.fit_reader import read_fit

    return read_fit(Path("memory.fit"), data=data)


def test_independent_reader_agrees(tmp_path: Path) -> None:
    fitdecode = pytest.importorskip("fitdecode")
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

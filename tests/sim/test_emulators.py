"""Device emulators read back by the trackers and the merger."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from custom_components.ridebalance.ant.encode import encode_page
from custom_components.ridebalance.ant.merger import RiderMerger
from custom_components.ridebalance.ant.pages import (
    BatteryStatus,
    HeartRatePage,
    RawPage,
    decode_page,
)
from custom_components.ridebalance.ant.pairing import Pairing
from custom_components.ridebalance.model import PowerSource, Sample
from custom_components.ridebalance.sim.emulators import (
    HeartRateEncoder,
    PedalEncoder,
    TrainerEncoder,
)

POWER, FEC, HR = 11, 17, 120


def ride(
    seconds: float,
    *,
    pedals: PedalEncoder | None = None,
    trainer: TrainerEncoder | None = None,
    strap: HeartRateEncoder | None = None,
    power_w: float = 250.0,
    left_pct: float | None = 48.0,
    cadence_rpm: float | None = 90.0,
    heart_rate_bpm: float = 140.0,
    merger: RiderMerger | None = None,
    start_s: float = 0.0,
) -> list[Sample]:
    """Broadcast ``seconds`` of steady riding at 4 Hz through a merger."""
    merger = merger or RiderMerger()
    samples: list[Sample] = []
    for i in range(round(seconds * 4)):
        t_s = start_s + i * 0.25
        pages: list[RawPage] = []
        if pedals is not None:
            pages.append(
                pedals.page(
                    t_s,
                    power_w,
                    left_pct,
                    cadence_rpm,
                    te_left_pct=71.5,
                    te_right_pct=73.0,
                    ps_left_pct=21.0,
                    ps_right_pct=22.5,
                )
            )
        if trainer is not None:
            pages += trainer.pages(
                t_s + 0.01,
                power_w * 0.95,
                cadence_rpm,
                speed_mps=9.0,
                heart_rate_bpm=heart_rate_bpm,
            )
        if strap is not None:
            pages.append(strap.page(t_s + 0.02, heart_rate_bpm))
        samples += merger.feed(pages)
    return samples


def test_pedals_round_trip_across_both_rollovers() -> None:
    pedals = PedalEncoder(1001, event_count=200, accumulated_power_w=60000)
    samples = ride(60, pedals=pedals, strap=HeartRateEncoder(3003))
    assert len(samples) > 150
    assert {s.power_w for s in samples} == {250.0}
    assert {s.left_pct for s in samples} == {48.0}
    assert {s.cadence_rpm for s in samples} == {90.0}
    late = samples[-1]
    assert (late.te_left_pct, late.te_right_pct) == (71.5, 73.0)
    assert (late.ps_left_pct, late.ps_right_pct) == (21.0, 22.5)
    assert late.heart_rate_bpm == 140
    assert late.power_source is PowerSource.PEDALS


def test_fractional_power_is_reproduced_on_average() -> None:
    samples = ride(30, pedals=PedalEncoder(1001), power_w=233.4)
    powers = [s.power_w or 0.0 for s in samples]
    assert all(abs(p - 233.4) <= 1.0 for p in powers)
    assert sum(powers) / len(powers) == pytest.approx(233.4, abs=0.05)


def test_pedal_encoder_interleaves_te_ps_and_common_pages() -> None:
    pedals = PedalEncoder(1001, battery_status=BatteryStatus.LOW)
    pages = [
        pedals.page(i * 0.25, 200, 50, 80, te_left_pct=70, te_right_pct=70)
        for i in range(192)
    ]
    first_bytes = [p.data[0] for p in pages]
    assert [b for b in first_bytes if b >= 0x50] == [0x50, 0x51, 0x52]
    assert [i for i, b in enumerate(first_bytes) if b >= 0x50] == [63, 127, 191]
    # Every 5th message (4, 9, ... 189); none of them collides with a common page.
    assert first_bytes.count(0x13) == 38
    merger = RiderMerger()
    merger.feed(pages)
    state = merger.device_states(48.0)[0]
    assert state.identity.manufacturer == "Favero Electronics"
    assert state.battery is not None
    assert state.battery.status is BatteryStatus.LOW


def test_pedals_stop_and_the_trackers_coast_to_zero() -> None:
    pedals = PedalEncoder(1001)
    merger = RiderMerger()
    riding = ride(5, pedals=pedals, merger=merger)
    coasting = ride(
        6, pedals=pedals, merger=merger, start_s=5.0, power_w=0, cadence_rpm=0
    )
    assert {s.power_w for s in riding} == {250.0}
    assert coasting
    # The last power event was at 4.5 s (the 4.75 s message carried TE/PS).
    assert coasting[0].t_s == 7.5
    assert {(s.power_w, s.cadence_rpm, s.left_pct) for s in coasting} == {
        (0.0, 0.0, None)
    }


def test_trainer_alone_is_the_fallback_with_its_heart_rate() -> None:
    trainer = TrainerEncoder(2002, event_count=250, accumulated_power_w=65300)
    samples = ride(30, trainer=trainer, power_w=200)
    assert samples
    assert {(s.power_w, s.power_source) for s in samples} == {
        (190.0, PowerSource.TRAINER)
    }
    assert samples[-1].heart_rate_bpm == 140
    assert samples[-1].cadence_rpm == 90


def test_trainer_power_channel_never_replaces_the_pedals() -> None:
    merger = RiderMerger()
    samples = ride(
        20,
        pedals=PedalEncoder(1001),
        trainer=TrainerEncoder(2002),
        merger=merger,
    )
    assert {(s.power_w, s.power_source) for s in samples} == {
        (250.0, PowerSource.PEDALS)
    }
    roles = {(d.device_type, d.device_number): d.role for d in merger.device_states(20)}
    assert roles[(POWER, 2002)] == "trainer_power"
    assert roles[(POWER, 1001)] == "pedals"


def test_trainer_started_first_with_everything_unpaired() -> None:
    merger = RiderMerger(Pairing())
    trainer = TrainerEncoder(2002)
    ride(3, trainer=trainer, merger=merger)
    samples = ride(
        5, pedals=PedalEncoder(1001), trainer=trainer, merger=merger, start_s=3.0
    )
    assert samples[-1].power_source is PowerSource.PEDALS
    assert samples[-1].left_pct == 48.0


def test_heart_rate_encoder_beats_and_background_pages() -> None:
    strap = HeartRateEncoder(3003, manufacturer_id=123)
    pages = [strap.page(i * 0.25, 150) for i in range(260)]
    decoded = [decode_page(HR, p.data) for p in pages]
    hr_pages = [p for p in decoded if isinstance(p, HeartRatePage)]
    assert len(hr_pages) == 260
    assert {p.heart_rate_bpm for p in hr_pages} == {150}
    assert sorted({p.page_number for p in hr_pages}) == [1, 2, 3, 4, 7]
    # 150 bpm for 64.75 s: 161 beats, counted mod 256.
    assert hr_pages[-1].beat_count == 161
    rr = [
        (p.beat_time - p.previous_beat_time) % 65536 / 1024
        for p in hr_pages[8:]
        if p.previous_beat_time is not None
    ]
    assert all(r == pytest.approx(0.4, abs=0.002) for r in rr)
    assert {p.toggle for p in hr_pages[:8]} == {False, True}
    merger = RiderMerger()
    merger.feed(pages)
    strap_state = merger.device_states(65.0)[0]
    assert strap_state.identity.manufacturer == "Polar"


def test_legacy_heart_rate_strap_sends_page_0() -> None:
    strap = HeartRateEncoder(3003, legacy=True)
    pages = [strap.page(i * 0.25, 72) for i in range(8)]
    assert {p.data[0] for p in pages} == {0}
    decoded = decode_page(HR, pages[-1].data)
    assert isinstance(decoded, HeartRatePage)
    assert decoded.heart_rate_bpm == 72


def test_heart_rate_encoder_without_a_reading() -> None:
    strap = HeartRateEncoder(3003)
    decoded = decode_page(HR, strap.page(0.0, None).data)
    assert isinstance(decoded, HeartRatePage)
    assert decoded.heart_rate_bpm is None


def test_trainer_without_power_channel_coasts_to_zero() -> None:
    trainer = TrainerEncoder(2002, power_channel=False)
    merger = RiderMerger()
    assert len(trainer.pages(0.0, 150, 80)) == 1
    riding = ride(3, trainer=trainer, merger=merger, start_s=0.25, power_w=200)
    stopped = ride(
        5, trainer=trainer, merger=merger, start_s=3.25, power_w=0, cadence_rpm=0
    )
    assert {s.power_w for s in riding} == {190.0}
    assert stopped
    assert {(s.power_w, s.power_source) for s in stopped} == {
        (0.0, PowerSource.TRAINER)
    }
    assert [s.device_number for s in merger.device_states(8.0)] == [2002]


def test_heart_rate_battery_page_without_voltage() -> None:
    page = HeartRatePage(7, True, 100, 3, 61, battery_pct=None, battery_status=None)
    data = encode_page(page)
    assert data == bytes.fromhex("87 FF FF 7F 64 00 03 3D")
    assert decode_page(HR, data) == page


@given(
    st.lists(
        st.tuples(st.floats(0, 2000), st.integers(0, 100), st.integers(1, 200)),
        min_size=2,
        max_size=80,
    ),
    st.integers(0, 255),
    st.integers(0, 65535),
)
def test_encoded_pedals_read_back_within_a_watt(
    efforts: list[tuple[float, int, int]], events: int, accumulated: int
) -> None:
    pedals = PedalEncoder(
        1, event_count=events, accumulated_power_w=accumulated, te_ps_every=0
    )
    merger = RiderMerger()
    samples = []
    expected = []
    for i, (power, left, cadence) in enumerate(efforts):
        samples += merger.feed([pedals.page(i * 0.25, power, left, cadence)])
        expected.append((power, left, cadence))
    # One sample per page after the reference (common pages aside).
    readable = [e for i, e in enumerate(expected) if i % 64 != 63][1:]
    assert len(samples) == len(readable)
    for sample, (power, left, cadence) in zip(samples, readable, strict=True):
        assert sample.power_w is not None
        assert abs(sample.power_w - power) <= 1.0
        assert sample.cadence_rpm == cadence
        assert sample.left_pct == left

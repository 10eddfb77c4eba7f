"""The rider merger: which device is whose, and the Samples it builds."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ridebalance.ant.merger import RiderMerger
from custom_components.ridebalance.ant.pages import BatteryStatus, RawPage
from custom_components.ridebalance.ant.pairing import DeviceRole, Pairing
from custom_components.ridebalance.model import PowerSource, RiderPosition, Sample

from .page_streams import (
    DEVICE_TYPES,
    FEC,
    HR,
    PEDALS,
    POWER,
    STRAP,
    TRAINER,
    fe_general,
    fe_trainer,
    hr_page,
    payloads,
    pedal_ride,
    power_only,
    raw,
)


def interleave(*streams: list[RawPage]) -> list[RawPage]:
    return sorted((p for s in streams for p in s), key=lambda p: p.timestamp_s)


def trainer_ride(start_s: float, seconds: float, watts: int) -> list[RawPage]:
    return [
        raw(start_s + i * 0.25 + 0.01, FEC, TRAINER, fe_trainer(i, i * watts))
        for i in range(round(seconds * 4))
    ]


def trainer_power_channel(start_s: float, seconds: float, watts: int) -> list[RawPage]:
    return pedal_ride(start_s + 0.02, seconds, watts, pedal=0xFF, number=TRAINER)


def test_pedals_power_and_balance_win_over_the_trainer() -> None:
    merger = RiderMerger(Pairing(pedals=PEDALS, trainer=TRAINER))
    samples = merger.feed(
        interleave(pedal_ride(0.0, 5, 250, pedal=0xB0), trainer_ride(0.0, 5, 235))
    )
    assert samples
    assert {s.power_source for s in samples} == {PowerSource.PEDALS}
    assert {(s.power_w, s.left_pct) for s in samples} == {(250.0, 52.0)}


def test_trainer_fills_in_while_the_pedals_are_gone() -> None:
    merger = RiderMerger(Pairing(pedals=PEDALS, trainer=TRAINER))
    pages = interleave(
        pedal_ride(0.0, 5, 250),  # pedal batteries die at 5 s
        trainer_ride(0.0, 20, 235),
        pedal_ride(20.0, 5, 260, events=100, accumulated=100 * 260),
    )
    samples = merger.feed(pages)
    sources = [(s.t_s, s.power_source) for s in samples]
    trainer = [s for s in samples if s.power_source is PowerSource.TRAINER]
    assert all(t < 5 for t, src in sources if src is PowerSource.PEDALS and t < 20)
    # The pedals' last figure stays current 5 s; after that the trainer takes over.
    assert min(s.t_s for s in trainer) == pytest.approx(10.01, abs=0.3)
    assert {(s.power_w, s.left_pct) for s in trainer} == {(235.0, None)}
    assert samples[-1].power_source is PowerSource.PEDALS
    assert samples[-1].power_w == 260.0


def test_trainer_only_rider() -> None:
    merger = RiderMerger()
    samples = merger.feed(trainer_ride(0.0, 3, 180))
    assert {(s.power_w, s.power_source) for s in samples} == {
        (180.0, PowerSource.TRAINER)
    }


def test_paired_trainer_power_channel_is_never_the_pedals() -> None:
    merger = RiderMerger(Pairing(trainer=TRAINER))
    # The trainer's own power channel is heard before anything else.
    samples = merger.feed(
        interleave(trainer_power_channel(0.0, 3, 300), pedal_ride(1.0, 3, 250))
    )
    assert merger.pedals is not None
    assert merger.pedals.device_number == PEDALS
    assert {s.power_w for s in samples} == {250.0}
    roles = {(d.device_type, d.device_number): d.role for d in merger.device_states(4)}
    assert roles[(POWER, TRAINER)] is DeviceRole.TRAINER_POWER


def test_unpaired_trainer_power_channel_is_released_when_fe_c_shows_up() -> None:
    merger = RiderMerger()
    first = merger.feed(trainer_power_channel(0.0, 1, 300))
    # With nothing paired and nothing else in range it looked like pedals...
    assert {s.power_w for s in first} == {300.0}
    # ...until the same device number turns up as a trainer.
    merger.feed(
        interleave(
            trainer_power_channel(1.0, 4, 300),
            trainer_ride(1.0, 4, 300),
            pedal_ride(1.0, 4, 250),
        )
    )
    assert merger.pedals is not None
    assert merger.pedals.device_number == PEDALS
    assert merger.trainer is not None
    assert merger.trainer.device_number == TRAINER
    later = merger.feed(pedal_ride(5.0, 1, 250, events=16, accumulated=16 * 250))
    assert {(s.power_w, s.power_source) for s in later} == {(250.0, PowerSource.PEDALS)}


def test_paired_devices_ignore_the_neighbours() -> None:
    merger = RiderMerger(Pairing(pedals=PEDALS, heart_rate=STRAP))
    samples = merger.feed(
        interleave(
            pedal_ride(0.0, 2, 400, number=4444),
            pedal_ride(0.0, 2, 200),
            [raw(i * 0.25, HR, 5555, hr_page(i, 180)) for i in range(8)],
            [raw(i * 0.25 + 0.1, HR, STRAP, hr_page(i, 130)) for i in range(8)],
        )
    )
    assert {s.power_w for s in samples} == {200.0}
    assert samples[-1].heart_rate_bpm == 130
    roles = {d.device_number: d.role for d in merger.device_states(2)}
    assert roles[4444] is DeviceRole.OTHER
    assert roles[5555] is DeviceRole.OTHER


def test_heart_rate_from_the_strap_else_from_the_trainer() -> None:
    merger = RiderMerger()
    with_trainer_hr = [raw(0.1, FEC, TRAINER, fe_general(150))]
    samples = merger.feed(interleave(with_trainer_hr, pedal_ride(0.0, 1, 200)))
    assert samples[-1].heart_rate_bpm == 150
    samples = merger.feed(
        [
            raw(1.0, HR, STRAP, hr_page(1, 128)),
            *pedal_ride(1.1, 1, 200, events=4, accumulated=800),
        ]
    )
    assert samples[-1].heart_rate_bpm == 128


def test_pedals_without_cadence_borrow_the_trainers() -> None:
    merger = RiderMerger()
    samples = merger.feed(
        interleave(trainer_ride(0.0, 2, 200), pedal_ride(0.0, 2, 210, cadence=0xFF))
    )
    assert samples[-1].power_source is PowerSource.PEDALS
    assert samples[-1].cadence_rpm == 85


def test_extended_device_number_pairing() -> None:
    merger = RiderMerger(Pairing(pedals=0x31234))
    near = RawPage(0.0, POWER, 0x1234, 0x05, bytes.fromhex(power_only(0, 0)))
    ours = [
        RawPage(i * 0.25, POWER, 0x1234, 0x35, bytes.fromhex(power_only(i, i * 150)))
        for i in range(3)
    ]
    samples = merger.feed([near, *ours])
    assert [s.power_w for s in samples] == [150.0, 150.0]


def test_unsupported_device_types_and_device_limit() -> None:
    merger = RiderMerger(max_devices=2)
    merger.feed(
        [
            raw(0.0, 121, 7, "00 00 00 00 00 00 00 00"),  # speed/cadence sensor
            raw(0.0, POWER, 1, power_only(0, 0)),
            raw(0.0, POWER, 2, power_only(0, 0)),
            raw(0.0, POWER, 3, power_only(0, 0)),
        ]
    )
    assert merger.ignored_pages == 2
    assert len(merger.device_states(0.0)) == 2


def test_device_states_for_entities() -> None:
    merger = RiderMerger()
    merger.feed(
        interleave(
            [raw(0.0, HR, STRAP, hr_page(0, 120))],
            pedal_ride(0.0, 1, 200),
            [raw(0.5, POWER, PEDALS, "52 FF FF 10 0E 00 C0 43")],
            trainer_ride(0.0, 1, 190),
        )
    )
    states = merger.device_states(7.0)
    assert [s.role for s in states] == [
        DeviceRole.PEDALS,
        DeviceRole.TRAINER,
        DeviceRole.HEART_RATE,
    ]
    pedals = states[0]
    assert pedals.battery is not None
    assert pedals.battery.status is BatteryStatus.LOW
    assert pedals.counters.pages == 5
    assert not any(s.connected for s in states)
    assert all(s.connected for s in merger.device_states(1.0))


def test_samples_are_model_samples_in_page_order() -> None:
    samples = RiderMerger().feed(pedal_ride(0.0, 3, 200))
    assert all(isinstance(s, Sample) for s in samples)
    assert [s.t_s for s in samples] == sorted(s.t_s for s in samples)


def test_a_crowded_room_does_not_crowd_out_the_riders_strap() -> None:
    merger = RiderMerger(Pairing(heart_rate=STRAP), max_devices=4)
    bystanders = [raw(0.0, HR, 100 + i, hr_page(0, 150)) for i in range(10)]
    merger.feed([*bystanders, raw(0.5, HR, STRAP, hr_page(0, 118))])
    assert merger.heart_rate is not None
    assert merger.heart_rate.reading(0.5).heart_rate_bpm == 118
    # Four bystanders fill the limit; the strap is tracked beyond it.
    roles = [state.role for state in merger.device_states(0.5)]
    assert roles == [DeviceRole.HEART_RATE] + [DeviceRole.OTHER] * 4
    assert merger.ignored_pages == 6


raw_pages = st.builds(
    RawPage,
    timestamp_s=st.just(0.0),
    device_type=st.sampled_from((*DEVICE_TYPES, 121)),
    device_number=st.sampled_from((1, 2, 3)),
    transmission_type=st.sampled_from((0, 5, 0x15)),
    data=payloads(),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.floats(0, 2.0), raw_pages), max_size=120),
    st.sampled_from(
        (Pairing(), Pairing(pedals=1, trainer=2), Pairing(trainer=1, heart_rate=3))
    ),
)
def test_merger_survives_any_sequence(
    steps: list[tuple[float, RawPage]], pairing: Pairing
) -> None:
    merger = RiderMerger(pairing)
    t_s = 0.0
    pages = []
    for dt, page in steps:
        t_s += dt
        pages.append(
            RawPage(
                t_s,
                page.device_type,
                page.device_number,
                page.transmission_type,
                page.data,
            )
        )
    samples = merger.feed(pages)
    for sample in samples:
        assert sample.power_w is None or (
            math.isfinite(sample.power_w) and sample.power_w >= 0
        )
        assert sample.left_pct is None or 0 <= sample.left_pct <= 100
        assert sample.cadence_rpm is None or sample.cadence_rpm >= 0
    assert [s.t_s for s in samples] == sorted(s.t_s for s in samples)
    states = merger.device_states(t_s)
    assert sum(s.counters.pages for s in states) + merger.ignored_pages == len(pages)
    # Whatever the order, a trainer's number is never the pedals'.
    if merger.pedals is not None and merger.trainer is not None:
        assert merger.pedals.device_number != merger.trainer.device_number


def _dynamics_pages(start_s: float, seconds: float, position: int) -> list[RawPage]:
    """0xE2 (PCO, position), 0xE0 and 0xE1 twice a second, as a head unit asks."""
    pages = []
    for i in range(round(seconds * 2)):
        t = start_s + i * 0.5 + 0.13
        body = {
            0: f"E2 {i:02X} {position << 6:02X} 5A FE 03 FF FF",
            1: f"E0 {i:02X} 04 A4 30 68 40 06",
        }[i % 2]
        pages.append(raw(t, POWER, PEDALS, body))
        left = f"E1 {i:02X} FA A2 2E 66 40 06"
        pages.append(raw(t + 0.05, POWER, PEDALS, left))
    return pages


def test_pedals_pass_their_dynamics_through_when_a_head_unit_switched_them_on() -> None:
    merger = RiderMerger(Pairing(pedals=PEDALS))
    samples = merger.feed(
        interleave(pedal_ride(0.0, 6, 250, pedal=0xB0), _dynamics_pages(2.0, 4, 2))
    )
    before = [s for s in samples if s.t_s < 2.0]
    after = [s for s in samples if s.t_s > 2.7]
    assert before
    assert all(s.rider_position is None and s.pco_left_mm is None for s in before)
    assert after
    last = after[-1]
    assert last.rider_position is RiderPosition.STANDING  # ANT+ bits 2
    assert (last.pco_left_mm, last.pco_right_mm) == (3, -2)
    assert last.phase_right_start_deg == pytest.approx(5.625)
    assert last.phase_right_end_deg == pytest.approx(230.625)
    assert last.phase_left_start_deg == pytest.approx(351.5625)
    assert last.peak_left_start_deg == pytest.approx(64.6875)
    # The head unit switched them off: after the stale window they are gone.
    later = merger.feed(pedal_ride(6.0, 8, 250, pedal=0xB0))
    assert later[-1].rider_position is None
    assert later[-1].pco_left_mm is None
    assert later[-1].power_w == 250.0

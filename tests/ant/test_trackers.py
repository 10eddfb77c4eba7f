"""Device trackers, fed with realistic page sequences."""

from __future__ import annotations

from collections import Counter
import math

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ridebalance.analysis.cleaning import CleanValues, clean_values
from custom_components.ridebalance.analysis.settings import AnalysisSettings
from custom_components.ridebalance.ant.merger import RiderMerger
from custom_components.ridebalance.ant.pages import BatteryStatus, RawPage
from custom_components.ridebalance.ant.readings import BatteryState
from custom_components.ridebalance.ant.trackers import (
    HeartRateTracker,
    PowerMeterTracker,
    TrackerConfig,
    TrainerTracker,
)
from custom_components.ridebalance.model import Sample
from custom_components.ridebalance.sim.emulators import PedalEncoder
from tests.usbstick.air import CrankTorqueModel, Effort

from .page_streams import (
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

# --- ANT_NOTES.md vectors through the trackers -------------------------------------


def test_vector_average_power_from_accumulated() -> None:
    tracker = PowerMeterTracker(PEDALS)
    assert not tracker.update(raw(0.0, POWER, PEDALS, "10 00 00 00 00 00 00 00"))
    assert tracker.update(raw(0.25, POWER, PEDALS, "10 01 00 00 2B 01 00 00"))
    assert tracker.reading(0.25).power_w == 299


def test_an_average_no_rider_can_produce_is_not_a_reading() -> None:
    """The notes' vector (8721 W in one event) is a counter glitch on a bike."""
    tracker = PowerMeterTracker(PEDALS)
    assert not tracker.update(raw(0.0, POWER, PEDALS, "10 00 00 00 00 00 00 00"))
    assert not tracker.update(raw(0.25, POWER, PEDALS, "10 01 00 00 11 22 00 00"))
    assert tracker.reading(0.25).power_w is None
    assert tracker.update(raw(0.5, POWER, PEDALS, "10 02 00 5A 3D 23 00 00"))
    assert tracker.reading(0.5).power_w == 300  # measured from the glitch on


def test_vector_crank_torque_power_and_cadence() -> None:
    tracker = PowerMeterTracker(PEDALS)
    tracker.update(raw(0.0, POWER, PEDALS, "12 00 00 00 00 00 00 00"))
    assert tracker.update(raw(1.0, POWER, PEDALS, "12 01 01 3C 00 08 9C 05"))
    reading = tracker.reading(1.0)
    assert reading.cadence_rpm == 60
    # 44.875 Nm at 1 rev/s: 2π · 44.875 W.
    assert reading.power_w == pytest.approx(2 * math.pi * 44.875)
    assert reading.power_w == pytest.approx(282, abs=0.5)


@pytest.mark.parametrize(
    ("pedal_byte", "left"), [(0xB2, 50.0), (0xB0, 52.0), (0x32, None), (0xFF, None)]
)
def test_vector_balance_only_when_bit7_marks_right(
    pedal_byte: int, left: float | None
) -> None:
    merger = RiderMerger()
    samples = merger.feed(pedal_ride(0.0, 2, 200, pedal=pedal_byte))
    assert samples
    assert {s.left_pct for s in samples} == {left}


# --- rollovers, references, repeats ----------------------------------------------


def test_first_page_is_only_a_reference() -> None:
    merger = RiderMerger()
    # A meter that has been running a while: counters far from zero.
    assert merger.feed([raw(0.0, POWER, PEDALS, power_only(200, 40000))]) == []
    samples = merger.feed([raw(0.25, POWER, PEDALS, power_only(201, 40250))])
    assert [s.power_w for s in samples] == [250.0]


def test_rollover_of_event_count_and_accumulated_power() -> None:
    pages = pedal_ride(0.0, 10, 310, events=240, accumulated=65000)
    samples = RiderMerger().feed(pages)
    # Both counters wrap during these 10 s; every event still reads 310 W.
    assert len(samples) == len(pages) - 1
    assert {s.power_w for s in samples} == {310.0}


def test_missed_pages_average_over_the_events_in_between() -> None:
    tracker = PowerMeterTracker(PEDALS)
    tracker.update(raw(0.0, POWER, PEDALS, power_only(254, 65436)))
    # Three pages lost: 4 events, 100 + 200 + 300 + 400 W across both wraps.
    assert tracker.update(raw(1.0, POWER, PEDALS, power_only(2, 65436 + 1000)))
    assert tracker.reading(1.0).power_w == 250.0


def test_repeated_page_is_not_a_new_event() -> None:
    merger = RiderMerger()
    merger.feed([raw(0.0, POWER, PEDALS, power_only(1, 100))])
    assert merger.feed([raw(0.25, POWER, PEDALS, power_only(2, 300))])
    assert merger.feed([raw(0.5, POWER, PEDALS, power_only(2, 300))]) == []
    assert merger.pedals is not None
    assert merger.pedals.reading(0.5).power_w == 200.0


def test_long_reception_gap_starts_a_new_reference() -> None:
    tracker = PowerMeterTracker(PEDALS)
    tracker.update(raw(0.0, POWER, PEDALS, power_only(0, 0)))
    # 70 s later the event count has wrapped unseen: no average can be trusted.
    assert not tracker.update(raw(70.0, POWER, PEDALS, power_only(24, 5000)))
    assert tracker.update(raw(70.25, POWER, PEDALS, power_only(25, 5180)))
    assert tracker.reading(70.25).power_w == 180.0


def test_crank_torque_rollover_of_period_and_torque() -> None:
    tracker = PowerMeterTracker(PEDALS)
    start = bytes((0x12, 0xFF, 0, 90)) + (65000).to_bytes(2, "little")
    start += (65000).to_bytes(2, "little")
    tracker.update(RawPage(0.0, POWER, PEDALS, 5, start))
    # One revolution in 2/3 s (90 rpm) with 40 Nm: period and torque both wrap.
    period, torque = (65000 + 1365) % 65536, (65000 + 1280) % 65536
    data = bytes((0x12, 0x00, 1, 90)) + period.to_bytes(2, "little")
    data += torque.to_bytes(2, "little")
    assert tracker.update(RawPage(0.67, POWER, PEDALS, 5, data))
    reading = tracker.reading(0.67)
    assert reading.cadence_rpm == pytest.approx(90, abs=0.1)
    assert reading.power_w == pytest.approx(40 * 2 * math.pi * 1.5, rel=0.001)


def test_crank_torque_events_without_period_give_no_figure() -> None:
    tracker = PowerMeterTracker(PEDALS)
    tracker.update(raw(0.0, POWER, PEDALS, "12 00 00 3C 00 08 00 00"))
    assert not tracker.update(raw(0.25, POWER, PEDALS, "12 01 01 3C 00 08 9C 05"))
    assert tracker.reading(0.25).power_w is None


def test_torque_meter_power_comes_from_crank_torque_not_power_only() -> None:
    tracker = PowerMeterTracker(PEDALS)
    tracker.update(raw(0.0, POWER, PEDALS, "12 00 00 3C 00 00 00 00"))
    tracker.update(raw(0.25, POWER, PEDALS, power_only(0, 0)))
    assert tracker.update(raw(1.0, POWER, PEDALS, "12 01 01 3C 00 08 9C 05"))
    # Its power-only page still brings the balance, not a second power figure.
    assert not tracker.update(raw(1.25, POWER, PEDALS, power_only(1, 282)))
    reading = tracker.reading(1.25)
    assert reading.power_w == pytest.approx(282, abs=0.5)
    assert reading.left_pct == 50.0


# --- coasting and artefacts --------------------------------------------------------


def test_coasting_reads_zero_after_timeout_not_before() -> None:
    merger = RiderMerger()
    pages = pedal_ride(0.0, 2, 250)
    last_events = len(pages) - 1
    # The rider stops pedalling: the pedals keep repeating their last page.
    for i in range(1, 21):
        pages.append(
            raw(
                1.75 + i * 0.25,
                POWER,
                PEDALS,
                power_only(last_events, 250 * last_events),
            )
        )
    samples = merger.feed(pages)
    riding = [s for s in samples if s.t_s <= 1.75]
    coasting = [s for s in samples if s.t_s > 1.75]
    assert {s.power_w for s in riding} == {250.0}
    assert coasting[0].t_s == pytest.approx(1.75 + 3.0)
    assert {(s.power_w, s.cadence_rpm, s.left_pct) for s in coasting} == {
        (0.0, 0.0, None)
    }


def test_coasting_from_the_first_page() -> None:
    tracker = PowerMeterTracker(PEDALS)
    emitted = [
        tracker.update(raw(i * 0.25, POWER, PEDALS, power_only(7, 700)))
        for i in range(16)
    ]
    assert emitted.index(True) == 12
    assert tracker.reading(4.0).power_w == 0.0


def cleaned(samples: list[Sample], floor_w: float = 40.0) -> list[CleanValues]:
    """The samples as the analysis sees them, with the rider's power floor."""
    settings = AnalysisSettings(power_floor_w=floor_w)
    return [clean_values(s, settings, Counter()) for s in samples]


def test_coasting_artefact_100_0_at_zero_cadence_is_not_balance() -> None:
    # Assioma-style: left pedal "100 %" (right share 0) while not turning the cranks.
    samples = RiderMerger().feed(pedal_ride(0.0, 2, 60, pedal=0x80, cadence=0))
    assert samples
    assert all(s.power_w == 60.0 for s in samples)
    assert all(math.isnan(c.left_pct) for c in cleaned(samples))


def test_balance_below_the_riders_power_floor_is_blanked_by_the_analysis() -> None:
    samples = RiderMerger().feed(pedal_ride(0.0, 2, 30, pedal=0x80 | 45, cadence=40))
    # The trackers pass the pedals' figure on; the rider's floor decides.
    assert {s.left_pct for s in samples} == {55.0}
    assert all(math.isnan(c.left_pct) for c in cleaned(samples, floor_w=40))
    assert {c.left_pct for c in cleaned(samples, floor_w=20)} == {55.0}


def test_te_ps_kept_under_load_and_dropped_when_coasting() -> None:
    merger = RiderMerger()
    pages = pedal_ride(0.0, 1, 220)
    pages.append(raw(1.0, POWER, PEDALS, "13 03 91 95 2D 2F FF FF"))
    pages.append(raw(1.1, POWER, PEDALS, power_only(4, 4 * 220)))
    samples = merger.feed(pages)
    last = cleaned(samples)[-1]
    assert (last.te_left_pct, last.te_right_pct) == (72.5, 74.5)
    assert (last.ps_left_pct, last.ps_right_pct) == (22.5, 23.5)
    # At 20 W the same page is an artefact.
    low = RiderMerger()
    pages = pedal_ride(0.0, 1, 20)
    pages.append(raw(1.0, POWER, PEDALS, "13 03 91 95 2D 2F FF FF"))
    pages.append(raw(1.1, POWER, PEDALS, power_only(4, 4 * 20)))
    last = cleaned(low.feed(pages))[-1]
    assert math.isnan(last.te_left_pct)
    assert math.isnan(last.ps_left_pct)
    # Coasting: the pedals' repeated TE/PS are no longer measured at all.
    pages = pedal_ride(0.0, 1, 220)
    pages.append(raw(1.0, POWER, PEDALS, "13 03 91 95 2D 2F FF FF"))
    pages += [
        raw(1.0 + i * 0.25, POWER, PEDALS, power_only(3, 3 * 220)) for i in range(1, 17)
    ]
    last_sample = RiderMerger().feed(pages)[-1]
    assert (last_sample.power_w, last_sample.te_left_pct) == (0.0, None)


def test_combined_smoothness_is_kept_but_not_split_into_sides() -> None:
    tracker = PowerMeterTracker(PEDALS)
    for page in pedal_ride(0.0, 1, 200):
        tracker.update(page)
    tracker.update(raw(1.0, POWER, PEDALS, "13 03 C8 C8 50 FE FF FF"))
    reading = tracker.reading(1.0)
    assert reading.ps_combined_pct == 40.0
    assert (reading.ps_left_pct, reading.ps_right_pct) == (None, None)


# --- staleness ---------------------------------------------------------------------


def test_metrics_go_stale_one_by_one() -> None:
    tracker = PowerMeterTracker(PEDALS)
    for page in pedal_ride(0.0, 2, 200):
        tracker.update(page)
    tracker.update(raw(2.0, POWER, PEDALS, "13 08 91 95 2D 2F FF FF"))
    assert tracker.reading(4.5).power_w == 200.0
    assert tracker.reading(4.5).te_left_pct == 72.5
    assert tracker.connected(7.0)
    assert not tracker.connected(7.1)
    assert tracker.reading(7.1).power_w is None
    assert tracker.reading(7.1).te_left_pct is None


def test_coasting_is_judged_by_time_not_by_repeats() -> None:
    """openant drops the repeats: other pages, or none, must do."""
    tracker = PowerMeterTracker(PEDALS)
    for page in pedal_ride(0.0, 2, 200):
        tracker.update(page)
    last_event = 1.75
    assert tracker.reading(last_event + 2.9).power_w == 200.0
    reading = tracker.reading(last_event + 3.0)  # not one page since
    assert (reading.power_w, reading.cadence_rpm) == (0.0, 0.0)
    # A TE/PS page (no repeat of 0x10) while coasting: a 0 W figure to emit.
    assert tracker.update(raw(5.0, POWER, PEDALS, "13 08 91 95 2D 2F FF FF"))
    assert tracker.reading(5.0).power_w == 0.0


def test_strap_repeating_an_old_beat_goes_stale() -> None:
    tracker = HeartRateTracker(STRAP)
    for i in range(4):
        tracker.update(raw(i * 0.25, HR, STRAP, hr_page(i // 2, 120)))
    # Off the chest: pages keep coming, the beat count stands still.
    for i in range(4, 40):
        tracker.update(raw(i * 0.25, HR, STRAP, hr_page(1, 120)))
    assert tracker.connected(9.75)
    assert tracker.reading(5.5).heart_rate_bpm == 120
    assert tracker.reading(5.6).heart_rate_bpm is None


def test_heart_rate_rr_interval() -> None:
    tracker = HeartRateTracker(STRAP)
    tracker.update(raw(0.0, HR, STRAP, "84 FF 00 04 00 08 10 3C"))
    assert tracker.reading(0.0).rr_interval_s == 1.0
    assert tracker.reading(0.0).heart_rate_bpm == 60


def test_tracker_config_rejects_coasting_longer_than_staleness() -> None:
    with pytest.raises(ValueError, match="coasting"):
        TrackerConfig(coasting_timeout_s=6.0, stale_after_s=5.0)


# --- identity, battery, counters -----------------------------------------------------


def test_identity_battery_and_counters_from_common_pages() -> None:
    tracker = PowerMeterTracker(PEDALS, 5)
    for hex_bytes in (
        "50 FF FF 03 07 01 0C 00",
        "51 FF FF 2A 15 CD 5B 07",
        "52 FF FF 10 0E 00 C0 23",
        "10 01 B2",  # truncated
        "20 00 00 00 00 00 00 00",  # unknown page
    ):
        assert not tracker.update(raw(0.0, POWER, PEDALS, hex_bytes))
    identity = tracker.identity
    assert identity.manufacturer == "Favero Electronics"
    assert (identity.model_number, identity.hardware_revision) == (12, 3)
    assert identity.software_version == "4.2"
    assert identity.serial_number == 123456789
    assert tracker.battery == BatteryState(
        voltage_v=3.75, status=BatteryStatus.GOOD, operating_time_s=3600 * 16
    )
    counters = tracker.counters
    assert (counters.pages, counters.malformed, counters.unknown) == (5, 1, 1)


def test_heart_rate_identity_and_battery_from_background_pages() -> None:
    tracker = HeartRateTracker(0x0ABC)
    for hex_bytes in (
        "02 7B 34 12 00 04 05 46",
        "83 07 0C 09 00 04 05 46",
        "01 10 00 00 00 04 05 46",
        "87 50 E6 22 00 04 05 46",
    ):
        tracker.update(raw(0.0, HR, 0x0ABC, hex_bytes))
    identity = tracker.identity
    assert identity.manufacturer == "Polar"
    assert identity.serial_number == 0x12340ABC
    assert (identity.model_number, identity.software_version) == (9, "12")
    battery = tracker.battery
    assert battery is not None
    assert battery.level_pct == 80
    assert battery.operating_time_s == 32
    assert battery.status is BatteryStatus.GOOD


def test_calibration_response_is_kept() -> None:
    tracker = PowerMeterTracker(PEDALS)
    tracker.update(raw(3.0, POWER, PEDALS, "01 AC 01 FF FF FF FB FF"))
    calibration = tracker.last_calibration
    assert calibration is not None
    assert calibration.success
    assert calibration.calibration_value == -5


# --- trainer -------------------------------------------------------------------------


def test_trainer_power_incline_and_heart_rate() -> None:
    tracker = TrainerTracker(TRAINER)
    tracker.update(raw(0.0, FEC, TRAINER, fe_trainer(254, 65400)))
    assert tracker.update(raw(0.25, FEC, TRAINER, fe_trainer(1, 65400 + 3 * 240)))
    tracker.update(raw(0.5, FEC, TRAINER, fe_general(142)))
    tracker.update(raw(0.75, FEC, TRAINER, "11 FF FF D2 18 FC 50 30"))
    reading = tracker.reading(1.0)
    assert reading.power_w == 240.0
    assert reading.cadence_rpm == 85
    assert reading.heart_rate_bpm == 142
    assert reading.incline_pct == -10.0
    assert reading.speed_mps == 9.0


def test_trainer_heart_rate_byte_zero_is_no_strap() -> None:
    tracker = TrainerTracker(TRAINER)
    tracker.update(raw(0.0, FEC, TRAINER, fe_general(0)))
    assert tracker.reading(0.0).heart_rate_bpm is None


def test_trainer_coasts_to_zero() -> None:
    tracker = TrainerTracker(TRAINER)
    emitted = [
        tracker.update(raw(i * 0.25, FEC, TRAINER, fe_trainer(3, 900)))
        for i in range(13)
    ]
    assert emitted[-1]
    assert tracker.reading(3.0).power_w == 0.0


def test_trainer_torque_page_is_kept_for_diagnostics() -> None:
    tracker = TrainerTracker(TRAINER)
    assert not tracker.update(raw(0.0, FEC, TRAINER, "1A 05 10 00 08 40 01 30"))
    assert tracker.last_torque_page is not None
    assert tracker.last_torque_page.wheel_period == 2048


def test_reception_gap_is_a_new_reference_not_coasting() -> None:
    trainer = TrainerTracker(TRAINER)
    torque = PowerMeterTracker(PEDALS)
    trainer.update(raw(0.0, FEC, TRAINER, fe_trainer(1, 200)))
    torque.update(raw(0.0, POWER, PEDALS, "12 00 00 3C 00 00 00 00"))
    # Back after 30 s out of range: a reference, neither a figure nor 0 W.
    assert not trainer.update(raw(30.0, FEC, TRAINER, fe_trainer(121, 24200)))
    assert not torque.update(raw(30.0, POWER, PEDALS, "12 78 78 3C 00 00 00 00"))
    assert trainer.reading(30.0).power_w is None
    assert torque.reading(30.0).power_w is None
    assert trainer.update(raw(30.25, FEC, TRAINER, fe_trainer(122, 24400)))
    assert trainer.reading(30.25).power_w == 200.0


def test_crank_torque_meter_coasts_to_zero() -> None:
    tracker = PowerMeterTracker(PEDALS)
    tracker.update(raw(0.0, POWER, PEDALS, "12 00 00 3C 00 00 00 00"))
    assert tracker.update(raw(1.0, POWER, PEDALS, "12 01 01 3C 00 08 9C 05"))
    repeats = [
        tracker.update(raw(1.0 + i * 0.25, POWER, PEDALS, "12 01 01 3C 00 08 9C 05"))
        for i in range(1, 13)
    ]
    assert repeats == [False] * 11 + [True]
    assert (tracker.reading(4.0).power_w, tracker.reading(4.0).cadence_rpm) == (0, 0)


@pytest.mark.parametrize("first_byte", ["FF", "05", "89", "3F"])
def test_heart_rate_from_pages_we_do_not_decode(first_byte: str) -> None:
    # Legacy straps fill bytes 0-3 as they like; newer ones send pages 5, 6, 9...
    tracker = HeartRateTracker(STRAP)
    tracker.update(raw(0.0, HR, STRAP, f"{first_byte} 12 34 56 00 04 05 4B"))
    assert tracker.counters.unknown == 1
    assert tracker.reading(0.0).heart_rate_bpm == 75


def test_unknown_common_page_from_a_strap_gives_no_heart_rate() -> None:
    tracker = HeartRateTracker(STRAP)
    tracker.update(raw(0.0, HR, STRAP, "46 FF FF FF FF 04 05 4B"))
    assert tracker.counters.unknown == 1
    assert tracker.reading(0.0).heart_rate_bpm is None


@given(st.lists(st.tuples(st.floats(0, 0.5), payloads()), max_size=60))
def test_trackers_count_and_drop_bad_pages(
    steps: list[tuple[float, bytes]],
) -> None:
    trackers = (PowerMeterTracker(1), TrainerTracker(1), HeartRateTracker(1))
    for tracker in trackers:
        t_s = 0.0
        for dt, data in steps:
            t_s += dt
            tracker.update(RawPage(t_s, tracker.device_type, 1, 5, data))
        counters = tracker.counters
        assert counters.pages == len(steps)
        assert counters.malformed + counters.unknown <= counters.pages


# --- no spikes, and 0 W by time: whatever the meter and the radio do ----------------

_SEGMENTS = st.lists(
    st.tuples(
        st.sampled_from(("ride", "coast", "lost")),  # lost: riding, pages not heard
        st.floats(0.25, 45.0),
        st.floats(0.0, 2500.0),
        st.floats(15.0, 200.0),
    ),
    min_size=1,
    max_size=8,
)


def _ride_through(
    meter: str, segments: list[tuple[str, float, float, float]]
) -> list[tuple[float, float | None, float | None, float | None]]:
    """(time, power, cadence, last crank turn heard) after every page heard."""
    tracker = PowerMeterTracker(PEDALS)
    crank = CrankTorqueModel(time_synchronous=meter == "time-synchronous")
    pedals = PedalEncoder(PEDALS, common_every=0)
    t, heard_t, last_count = 0.0, -math.inf, None
    turn_t: float | None = None
    out: list[tuple[float, float | None, float | None, float | None]] = []
    for kind, seconds, watts, rpm in segments:
        effort = Effort(power_w=watts, cadence_rpm=0.0 if kind == "coast" else rpm)
        for _ in range(int(seconds * 4)):
            t += 0.25
            if meter == "power-only":
                data = pedals.page(t, effort.power_w, 50.0, effort.cadence_rpm).data
                count = data[1]  # a power event
            else:
                crank.advance(t, effort)
                data, count = crank.page(), crank.ticks  # a crank turn
            if kind == "lost":
                continue
            if count != last_count or t - heard_t > TrackerConfig().max_gap_s:
                turn_t = t  # a turn (or a fresh start after a gap) was heard
            last_count, heard_t = count, t
            tracker.update(RawPage(t, POWER, PEDALS, 5, data))
            reading = tracker.reading(t)
            out.append((t, reading.power_w, reading.cadence_rpm, turn_t))
    return out


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.sampled_from(("power-only", "crank torque", "time-synchronous")), _SEGMENTS)
def test_no_page_sequence_makes_power_spike_or_hang_on(
    meter: str, segments: list[tuple[str, float, float, float]]
) -> None:
    """Gaps, coasts of any length, lost pages: never above 3000 W or 250 rpm, and
    0 W at the latest 3 s after the last crank turn heard, pages or no pages."""
    for t, power, cadence, turn_t in _ride_through(meter, segments):
        assert power is None or 0 <= power <= 3000
        assert cadence is None or 0 <= cadence <= 250
        if turn_t is not None and t - turn_t >= 3.0:
            assert (power, cadence) == (0.0, 0.0)


def test_the_first_turn_after_a_32_s_coast_is_no_spike() -> None:
    """The crank period wraps every 32 s; a turn 32.05 s after the last would
    read 0.05 s: 1200 rpm and 3300 W."""
    tracker = PowerMeterTracker(PEDALS)
    tracker.update(raw(0.0, POWER, PEDALS, "12 10 10 5A 00 10 00 20"))
    tracker.update(raw(0.67, POWER, PEDALS, "12 11 11 5A 56 15 50 23"))
    for step in range(1, 129):  # the same page while the cranks stand still
        tracker.update(raw(0.67 + step / 4, POWER, PEDALS, "12 11 11 5A 56 15 50 23"))
    assert tracker.reading(32.5).power_w == 0.0
    assert tracker.update(raw(32.72, POWER, PEDALS, "12 12 12 5A BC 15 A0 26"))
    reading = tracker.reading(32.72)
    assert reading.cadence_rpm is not None
    assert reading.cadence_rpm < 2
    assert reading.power_w is not None
    assert reading.power_w < 10


def test_a_time_synchronous_meter_reads_0_w_when_the_cranks_stop() -> None:
    """Events keep coming on its timer; ticks and period stand: 0 W, not unknown."""
    tracker = PowerMeterTracker(PEDALS)
    crank = CrankTorqueModel(time_synchronous=True)
    riding, stopped = Effort(power_w=220, cadence_rpm=80), Effort(cadence_rpm=0.0)
    for step in range(1, 81):
        t = step / 4
        crank.advance(t, riding if t <= 10 else stopped)
        tracker.update(RawPage(t, POWER, PEDALS, 5, crank.page()))
        if t == 10:
            assert tracker.reading(t).power_w == pytest.approx(220, rel=0.05)
    reading = tracker.reading(20.0)  # 10 s standing, pages all the while
    assert (reading.power_w, reading.cadence_rpm) == (0.0, 0.0)

"""Device emulators: pedals, a trainer and a heart-rate strap on the air.

Each one plays a device: it keeps event counts and accumulated values with their
wire rollovers and interleaves the background pages the way real sensors do,
producing :class:`RawPage` values the trackers accept exactly like received ones.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from ..ant.dynamics import (
    ForceAnglePage,
    PedalPositionPage,
    TorqueBarycentrePage,
)
from ..ant.encode import encode_page
from ..ant.pages import (
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
    DEVICE_TYPE_HEART_RATE,
    BatteryPage,
    BatteryStatus,
    FeGeneralPage,
    FeState,
    FeTrainerPage,
    HeartRatePage,
    HrSource,
    ManufacturerPage,
    Page,
    PowerOnlyPage,
    ProductPage,
    RawPage,
    TorqueEffectivenessPage,
)
from ..model import Sample

# ANT+ sensors use transmission type 5: independent channel, common pages in use.
DEFAULT_TRANSMISSION_TYPE = 0x05


def _cadence_byte(cadence_rpm: float | None) -> int | None:
    return None if cadence_rpm is None else min(254, max(0, round(cadence_rpm)))


class _PowerEvents:
    """Event count (mod 256) and accumulated power (mod 65536) of one channel.

    The exact sum is kept in floating point so rounding never drifts: over n
    events the wire total is within 1 W of n times the mean power.
    """

    __slots__ = ("_exact", "events")

    def __init__(self, events: int, accumulated_w: int) -> None:
        self.events = events % 256
        self._exact = float(accumulated_w)

    def add(self, power_w: float) -> None:
        self.events = (self.events + 1) % 256
        self._exact += max(0.0, power_w)

    @property
    def accumulated_w(self) -> int:
        return round(self._exact) % 65536


def _coasting(power_w: float, cadence_rpm: float | None) -> bool:
    # With no load and no crank rotation a sensor has no event to report: it
    # repeats its last page until the rider pedals again.
    return power_w <= 0 and not cadence_rpm


class _PowerOnlyPages:
    """Power-only pages 0x10 of one Bicycle Power channel (pedals, a trainer's).

    Each page while the rider pedals is a new power event; while coasting the
    last page is repeated.
    """

    def __init__(self, events: int, accumulated_w: int) -> None:
        self._events = _PowerEvents(events, accumulated_w)
        self._right_pct: int | None = None
        self._cadence: int | None = None
        self._instantaneous = 0

    @property
    def events(self) -> int:
        return self._events.events

    def next_bytes(
        self, power_w: float, cadence_rpm: float | None, right_pct: float | None
    ) -> bytes:
        if not _coasting(power_w, cadence_rpm):
            self._events.add(power_w)
            self._right_pct = None if right_pct is None else round(right_pct)
            self._cadence = _cadence_byte(cadence_rpm)
            self._instantaneous = min(0xFFFF, max(0, round(power_w)))
        return encode_page(
            PowerOnlyPage(
                self._events.events,
                self._right_pct,
                None,
                self._cadence,
                self._events.accumulated_w,
                self._instantaneous,
            )
        )


class _CommonPages:
    """Common pages 0x50/0x51 (and 0x52 for battery devices) in rotation."""

    def __init__(
        self,
        manufacturer: ManufacturerPage,
        product: ProductPage,
        battery: BatteryPage | None,
    ) -> None:
        self._pages: list[Page] = [manufacturer, product]
        if battery is not None:
            self._pages.append(battery)
        self._next = 0

    def next_bytes(self) -> bytes:
        page = self._pages[self._next % len(self._pages)]
        self._next += 1
        return encode_page(page)


class _Channel:
    """One device's channel on the air: its identity and its message count."""

    def __init__(self, device_number: int, transmission_type: int) -> None:
        self.device_number = device_number
        self.transmission_type = transmission_type
        self._messages = 0

    def _next_message(self) -> int:
        """The number of the message about to be sent (0, 1, 2, ...)."""
        n = self._messages
        self._messages += 1
        return n

    def _raw(self, t_s: float, device_type: int, data: bytes) -> RawPage:
        return RawPage(
            t_s, device_type, self.device_number, self.transmission_type, data
        )


def _turn(n: int, every: int) -> bool:
    """Whether message ``n`` is an ``every``-th one (never when ``every`` is 0)."""
    return bool(every) and n % every == every - 1


class PedalEncoder(_Channel):
    """Dual-sided power pedals: 0x10 each message, 0x13 and common pages between.

    Every ``te_ps_every``-th message is a TE/PS page (when TE or PS is given) and
    every ``common_every``-th a common page (0x50, 0x51, 0x52 in turn); all
    others are power-only pages, each one new power event.
    """

    def __init__(
        self,
        device_number: int,
        *,
        transmission_type: int = DEFAULT_TRANSMISSION_TYPE,
        manufacturer_id: int = 263,
        model_number: int = 12,
        hardware_revision: int = 3,
        software_main: int = 42,
        serial_number: int = 123456789,
        battery_voltage_v: float = 3.75,
        battery_status: BatteryStatus = BatteryStatus.GOOD,
        operating_time_s: int = 3600,
        te_ps_every: int = 5,
        common_every: int = 64,
        dynamics_every: int = 3,
        event_count: int = 0,
        accumulated_power_w: int = 0,
    ) -> None:
        """A pedal pair with the given identity and starting counters."""
        super().__init__(device_number, transmission_type)
        self.te_ps_every = te_ps_every
        self.common_every = common_every
        self.dynamics_every = dynamics_every
        self._dynamics_turn = 0
        self._power = _PowerOnlyPages(event_count, accumulated_power_w)
        self._common = _CommonPages(
            ManufacturerPage(hardware_revision, manufacturer_id, model_number),
            ProductPage(software_main, None, serial_number),
            BatteryPage(None, operating_time_s, battery_voltage_v, battery_status),
        )

    def page(
        self,
        t_s: float,
        power_w: float,
        left_pct: float | None,
        cadence_rpm: float | None,
        *,
        te_left_pct: float | None = None,
        te_right_pct: float | None = None,
        ps_left_pct: float | None = None,
        ps_right_pct: float | None = None,
        dynamics: Sample | None = None,
        torque_nm: float = 0.0,
    ) -> RawPage:
        """The next broadcast at ``t_s`` for the rider's current output.

        With ``dynamics`` (a reading of the cycling-dynamics fields, as when a
        head unit has switched them on), every
        ``dynamics_every``-th message is a cycling-dynamics page, 0xE2, 0xE0,
        0xE1 and 0x14 in turn; ``torque_nm`` is each leg's average torque.
        """
        n = self._next_message()
        data: bytes
        if _turn(n, self.common_every):
            data = self._common.next_bytes()
        elif dynamics is not None and _turn(n, self.dynamics_every):
            data = self._dynamics_bytes(dynamics, cadence_rpm, torque_nm)
        elif _turn(n, self.te_ps_every) and any(
            v is not None for v in (te_left_pct, te_right_pct, ps_left_pct)
        ):
            data = encode_page(
                TorqueEffectivenessPage(
                    self._power.events,
                    te_left_pct,
                    te_right_pct,
                    ps_left_pct,
                    ps_right_pct,
                    None,
                )
            )
        else:
            right = None if left_pct is None else 100 - left_pct
            data = self._power.next_bytes(power_w, cadence_rpm, right)
        return self._raw(t_s, DEVICE_TYPE_BICYCLE_POWER, data)

    def _dynamics_bytes(
        self, d: Sample, cadence_rpm: float | None, torque_nm: float
    ) -> bytes:
        turn = self._dynamics_turn % 4
        self._dynamics_turn += 1
        events = self._power.events
        if turn == 0 and d.rider_position is not None:
            pco = (d.pco_left_mm, d.pco_right_mm)
            left, right = (None if v is None else round(v) for v in pco)
            return encode_page(
                PedalPositionPage(
                    events, d.rider_position, _cadence_byte(cadence_rpm), right, left
                )
            )
        if turn == 3:
            return encode_page(TorqueBarycentrePage(d.torque_barycentre_deg))
        side: Literal["left", "right"] = "right" if turn == 1 else "left"
        return encode_page(
            ForceAnglePage(
                side,
                events,
                getattr(d, f"phase_{side}_start_deg"),
                getattr(d, f"phase_{side}_end_deg"),
                getattr(d, f"peak_{side}_start_deg"),
                getattr(d, f"peak_{side}_end_deg"),
                torque_nm,
            )
        )


class TrainerEncoder(_Channel):
    """An FE-C smart trainer, plus the Bicycle Power channel trainers also send.

    FE-C: a common page (0x50/0x51) every ``common_every``-th message, general
    page 0x10 every ``general_every``-th, else the trainer page 0x19 (one new
    event each). The power channel (same device number, type 11) sends
    power-only pages without a balance byte.
    """

    def __init__(
        self,
        device_number: int,
        *,
        transmission_type: int = DEFAULT_TRANSMISSION_TYPE,
        manufacturer_id: int = 89,
        model_number: int = 2875,
        hardware_revision: int = 1,
        software_main: int = 50,
        serial_number: int = 987654,
        general_every: int = 4,
        common_every: int = 64,
        power_channel: bool = True,
        event_count: int = 0,
        accumulated_power_w: int = 0,
    ) -> None:
        """A trainer with the given identity and starting counters."""
        super().__init__(device_number, transmission_type)
        self.general_every = general_every
        self.common_every = common_every
        self.power_channel = power_channel
        self._fe_events = _PowerEvents(event_count, accumulated_power_w)
        self._power = _PowerOnlyPages(event_count, accumulated_power_w)
        # Both channels say the same about the trainer, each in its own turn.
        manufacturer = ManufacturerPage(
            hardware_revision, manufacturer_id, model_number
        )
        product = ProductPage(software_main, None, serial_number)
        self._common = _CommonPages(manufacturer, product, None)
        self._power_common = _CommonPages(manufacturer, product, None)
        self._start_s: float | None = None
        self._last_s: float | None = None
        self._distance_m = 0.0
        self._cadence: int | None = None
        self._instantaneous = 0

    def pages(
        self,
        t_s: float,
        power_w: float,
        cadence_rpm: float | None,
        *,
        speed_mps: float = 0.0,
        heart_rate_bpm: float | None = None,
        fe_state: FeState = FeState.IN_USE,
    ) -> list[RawPage]:
        """The FE-C broadcast (and the power channel's, if enabled) at ``t_s``."""
        if self._start_s is None:
            self._start_s = t_s
        if self._last_s is not None:
            self._distance_m += max(0.0, speed_mps) * max(0.0, t_s - self._last_s)
        self._last_s = t_s
        n = self._next_message()
        data: bytes
        if _turn(n, self.common_every):
            data = self._common.next_bytes()
        elif _turn(n, self.general_every):
            heart = None if heart_rate_bpm is None else round(heart_rate_bpm)
            data = encode_page(
                FeGeneralPage(
                    equipment_type=25,
                    elapsed_time_s=int((t_s - self._start_s) * 4) % 256 / 4,
                    distance_m=int(self._distance_m) % 256,
                    speed_mps=min(65.534, max(0.0, round(speed_mps, 3))),
                    heart_rate_bpm=None if not heart else min(254, heart),
                    capabilities=0 if not heart else HrSource.ANT_PLUS,
                    fe_state=fe_state,
                    lap_toggle=False,
                )
            )
        else:
            if not _coasting(power_w, cadence_rpm):
                self._fe_events.add(power_w)
                self._cadence = _cadence_byte(cadence_rpm)
                self._instantaneous = min(0xFFE, max(0, round(power_w)))
            data = encode_page(
                FeTrainerPage(
                    event_count=self._fe_events.events,
                    cadence_rpm=self._cadence,
                    accumulated_power_w=self._fe_events.accumulated_w,
                    instantaneous_power_w=self._instantaneous,
                    trainer_status=0,
                    target_power_flag=0,
                    fe_state=fe_state,
                    lap_toggle=False,
                )
            )
        out = [self._raw(t_s, DEVICE_TYPE_FITNESS_EQUIPMENT, data)]
        if self.power_channel:
            out.append(self._power_page(t_s, n, power_w, cadence_rpm))
        return out

    def _power_page(
        self, t_s: float, n: int, power_w: float, cadence_rpm: float | None
    ) -> RawPage:
        if _turn(n, self.common_every):
            data = self._power_common.next_bytes()
        else:
            # A trainer's power channel sends no balance.
            data = self._power.next_bytes(power_w, cadence_rpm, None)
        return self._raw(t_s, DEVICE_TYPE_BICYCLE_POWER, data)


class HeartRateEncoder(_Channel):
    """A heart-rate strap: page 4 (or legacy page 0) with background pages.

    Beats are generated at the given rate; the page toggle bit flips every four
    messages and every ``background_every``-th message is a background page
    (2 manufacturer, 3 product, 1 operating time, 7 battery in turn).
    """

    def __init__(
        self,
        device_number: int,
        *,
        transmission_type: int = DEFAULT_TRANSMISSION_TYPE,
        legacy: bool = False,
        manufacturer_id: int = 1,
        serial_upper: int = 0x1234,
        hardware_version: int = 7,
        software_version: int = 12,
        model_number: int = 9,
        battery_pct: int = 80,
        battery_voltage_v: float = 2.9,
        battery_status: BatteryStatus = BatteryStatus.GOOD,
        operating_time_s: int = 7200,
        background_every: int = 65,
    ) -> None:
        """A strap with the given identity; ``legacy`` sends page 0 only."""
        super().__init__(device_number, transmission_type)
        self.legacy = legacy
        self.background_every = background_every
        self._background = [
            HeartRatePage(
                2, False, 0, 0, None, manufacturer_id=manufacturer_id,
                serial_upper=serial_upper,
            ),
            HeartRatePage(
                3, False, 0, 0, None, hardware_version=hardware_version,
                software_version=software_version, model_number=model_number,
            ),
            HeartRatePage(1, False, 0, 0, None, operating_time_s=operating_time_s),
            HeartRatePage(
                7, False, 0, 0, None, battery_pct=battery_pct,
                battery_voltage_v=battery_voltage_v, battery_status=battery_status,
            ),
        ]  # fmt: skip
        self._next_background = 0
        self._beat_count = 0
        self._last_beat_s: float | None = None
        self._previous_beat_s: float | None = None
        self._heart_rate: int | None = None

    def _beat_until(self, t_s: float, heart_rate_bpm: float | None) -> None:
        if heart_rate_bpm is None or heart_rate_bpm <= 0:
            self._heart_rate = None
            return
        self._heart_rate = min(255, max(1, round(heart_rate_bpm)))
        period = 60.0 / heart_rate_bpm
        if self._last_beat_s is None:
            self._last_beat_s = t_s
            return
        while self._last_beat_s + period <= t_s:
            self._previous_beat_s = self._last_beat_s
            self._last_beat_s += period
            self._beat_count = (self._beat_count + 1) % 256

    def page(self, t_s: float, heart_rate_bpm: float | None) -> RawPage:
        """The next broadcast at ``t_s`` for the rider's current heart rate."""
        self._beat_until(t_s, heart_rate_bpm)
        n = self._next_message()
        beat_time = round((self._last_beat_s or 0.0) * 1024) % 65536
        toggle = (n // 4) % 2 == 1
        page: HeartRatePage
        if self.legacy:
            page = HeartRatePage(
                0, False, beat_time, self._beat_count, self._heart_rate
            )
        elif _turn(n, self.background_every):
            template = self._background[self._next_background % len(self._background)]
            self._next_background += 1
            page = replace(
                template,
                toggle=toggle,
                beat_time=beat_time,
                beat_count=self._beat_count,
                heart_rate_bpm=self._heart_rate,
            )
        else:
            previous = round((self._previous_beat_s or 0.0) * 1024) % 65536
            page = HeartRatePage(
                4,
                toggle,
                beat_time,
                self._beat_count,
                self._heart_rate,
                previous_beat_time=previous,
            )
        return self._raw(t_s, DEVICE_TYPE_HEART_RATE, encode_page(page))

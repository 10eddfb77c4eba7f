"""The rider's ANT+ devices on the air, built from the project's page encoders.

Each :class:`Transmitter` sends at its profile's channel period from a phase of
its own; at each slot it produces its next page from the rider's current
:class:`Effort`. A slot can be lost (the device is out of range or off, or the
test drops it), so a channel tracking that device sees ``EVENT_RX_FAIL`` there.
Nothing repeats a page for the receiver's benefit: a coasting meter sends the same
bytes again, exactly as the encoders (and real meters) do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import math

from custom_components.ridebalance.ant.encode import encode_page
from custom_components.ridebalance.ant.pages import (
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
    DEVICE_TYPE_HEART_RATE,
    CrankTorquePage,
)
from custom_components.ridebalance.sim.emulators import (
    HeartRateEncoder,
    PedalEncoder,
    TrainerEncoder,
)

ANTPLUS_RF = 57
PERIOD_POWER = 8182  # 1/32768 s
PERIOD_FEC = 8192
PERIOD_HR = 8070
TT_ANTPLUS = 0x05


@dataclass
class Effort:
    """What the rider does right now; every device reads it at its next slot."""

    power_w: float = 0.0
    cadence_rpm: float | None = 0.0
    left_pct: float | None = 50.0
    heart_rate_bpm: float | None = None
    speed_mps: float = 0.0
    te_pct: float | None = None  # torque effectiveness, both sides


@dataclass(frozen=True, slots=True)
class Transmission:
    """One slot of one device: the page, or ``None`` when the slot was lost."""

    t_s: float
    device_number: int
    device_type: int
    transmission_type: int
    page: bytes | None


class Transmitter:
    """One ANT+ channel of a device (a trainer has two: FE-C and power)."""

    device_type: int = 0
    period: int = PERIOD_POWER

    def __init__(
        self,
        device_number: int,
        *,
        transmission_type: int = TT_ANTPLUS,
        phase_s: float = 0.0,
    ) -> None:
        """A device with this identity, first slot ``phase_s`` after start."""
        self.device_number = device_number
        self.transmission_type = transmission_type
        self.phase_s = phase_s
        self.on = True  # False: switched off or out of range
        self.drop: Callable[[int], bool] = lambda _slot: False
        self.next_s: float | None = None
        self.slot = 0
        self.rf_channel = ANTPLUS_RF

    @property
    def period_s(self) -> float:
        """Seconds between two slots."""
        return self.period / 32768

    def page(self, t_s: float, effort: Effort) -> bytes:
        """The next 8 bytes this device sends."""
        raise NotImplementedError

    def transmit(self, t_s: float, effort: Effort) -> Transmission:
        """This slot's transmission (the page is built even when it is lost)."""
        page = self.page(t_s, effort)
        lost = not self.on or self.drop(self.slot)
        self.slot += 1
        return Transmission(
            t_s,
            self.device_number,
            self.device_type,
            self.transmission_type,
            None if lost else page,
        )


class Pedals(Transmitter):
    """Assioma-like dual pedals: 0x10 with the balance byte, 0x13, common pages.

    ``crank_torque=True`` makes three slots in four crank-torque pages (0x12)
    with a power-only page between, as meters that measure torque do.
    """

    device_type = DEVICE_TYPE_BICYCLE_POWER
    period = PERIOD_POWER

    def __init__(
        self,
        device_number: int,
        *,
        crank_torque: bool = False,
        time_synchronous: bool = False,
        common_every: int = 64,
        phase_s: float = 0.0,
    ) -> None:
        """Pedals with this device number; see the class doc for the options."""
        super().__init__(device_number, phase_s=phase_s)
        self.encoder = PedalEncoder(
            device_number, transmission_type=TT_ANTPLUS, common_every=common_every
        )
        self.crank = (
            CrankTorqueModel(time_synchronous=time_synchronous)
            if crank_torque
            else None
        )

    def page(self, t_s: float, effort: Effort) -> bytes:
        """Power-only (and TE/PS, common) pages, or crank torque when enabled."""
        if self.crank is not None:
            self.crank.advance(t_s, effort)
            if self.slot % 4 != 3:
                return self.crank.page()
        return self.encoder.page(
            t_s,
            effort.power_w,
            effort.left_pct,
            effort.cadence_rpm,
            te_left_pct=effort.te_pct,
            te_right_pct=effort.te_pct,
        ).data


class CrankTorqueModel:
    """Bicycle Power 0x12 counters driven by crank revolutions.

    Event-synchronous (default): one event per revolution, the crank period grows
    by the time since the previous revolution (so a coast of 32 s or more wraps
    it). Time-synchronous: one event per message; ticks, period and torque move
    only with completed revolutions, so a standing crank sends new events whose
    period does not advance.
    """

    def __init__(self, *, time_synchronous: bool = False) -> None:
        """Counters at zero; the first message only sets the time reference."""
        self.time_synchronous = time_synchronous
        self.events = 0
        self.ticks = 0
        self.period = 0  # 1/2048 s
        self.torque = 0  # 1/32 Nm
        self.cadence: int | None = None
        self._exact_torque = 0.0
        self._progress = 0.0  # of the current revolution
        self._last_t: float | None = None
        self._last_rev_t: float | None = None

    def advance(self, t_s: float, effort: Effort) -> None:
        """Complete the revolutions that happened since the last message."""
        last = self._last_t
        self._last_t = t_s
        if self._last_rev_t is None:
            self._last_rev_t = t_s
        if self.time_synchronous:
            self.events = (self.events + 1) % 256
        cadence = effort.cadence_rpm or 0.0
        if last is None or cadence <= 0:
            self.cadence = 0 if cadence <= 0 and last is not None else self.cadence
            return
        rate = cadence / 60.0
        self._progress += rate * (t_s - last)
        while self._progress >= 1.0:
            self._progress -= 1.0
            rev_t = t_s - self._progress / rate
            self._revolution(rev_t, effort.power_w / (2 * math.pi * rate))
        self.cadence = min(254, round(cadence))

    def _revolution(self, rev_t: float, torque_nm: float) -> None:
        assert self._last_rev_t is not None
        if not self.time_synchronous:
            self.events = (self.events + 1) % 256
        self.ticks = (self.ticks + 1) % 256
        self.period = (self.period + round((rev_t - self._last_rev_t) * 2048)) % 65536
        self._last_rev_t = rev_t
        self._exact_torque += max(0.0, torque_nm) * 32
        self.torque = round(self._exact_torque) % 65536

    def page(self) -> bytes:
        """The current 0x12 page."""
        return encode_page(
            CrankTorquePage(
                self.events, self.ticks, self.cadence, self.period, self.torque
            )
        )


class Trainer(Transmitter):
    """A Kickr-like FE-C trainer; its Bicycle Power channel is :attr:`power`."""

    device_type = DEVICE_TYPE_FITNESS_EQUIPMENT
    period = PERIOD_FEC

    def __init__(self, device_number: int, *, phase_s: float = 0.0) -> None:
        """A trainer with one device number on both of its channels."""
        super().__init__(device_number, phase_s=phase_s)
        self.encoder = TrainerEncoder(device_number, transmission_type=TT_ANTPLUS)
        self._power_page: bytes | None = None
        self.power = TrainerPower(self, phase_s=phase_s + 0.011)

    def page(self, t_s: float, effort: Effort) -> bytes:
        """The FE-C page; the power channel's page of the same instant is kept."""
        fec, *power = self.encoder.pages(
            t_s,
            effort.power_w,
            effort.cadence_rpm,
            speed_mps=effort.speed_mps,
            heart_rate_bpm=effort.heart_rate_bpm,
        )
        self._power_page = power[0].data if power else None
        return fec.data

    def take_power_page(self, t_s: float, effort: Effort) -> bytes:
        """The power channel's page (built now if FE-C has not run yet)."""
        if self._power_page is None:
            self.page(t_s, effort)
        page, self._power_page = self._power_page, None
        assert page is not None
        return page


class TrainerPower(Transmitter):
    """A trainer's own Bicycle Power channel (no balance byte)."""

    device_type = DEVICE_TYPE_BICYCLE_POWER
    period = PERIOD_FEC  # in step with the FE-C channel that builds its pages

    def __init__(self, trainer: Trainer, *, phase_s: float) -> None:
        """The power channel of ``trainer``, same device number."""
        super().__init__(trainer.device_number, phase_s=phase_s)
        self._trainer = trainer

    def page(self, t_s: float, effort: Effort) -> bytes:
        """The power page the trainer's encoder made for this instant."""
        return self._trainer.take_power_page(t_s, effort)


class HeartStrap(Transmitter):
    """A heart-rate strap (page 4 with background pages)."""

    device_type = DEVICE_TYPE_HEART_RATE
    period = PERIOD_HR

    def __init__(self, device_number: int, *, phase_s: float = 0.0) -> None:
        """A strap with this device number."""
        super().__init__(device_number, phase_s=phase_s)
        self.encoder = HeartRateEncoder(device_number, transmission_type=TT_ANTPLUS)

    def page(self, t_s: float, effort: Effort) -> bytes:
        """The strap's next page for the rider's heart rate."""
        return self.encoder.page(t_s, effort.heart_rate_bpm).data


class Air:
    """Every transmitter in range of the stick, and the rider they measure."""

    def __init__(self, clock: Callable[[], float]) -> None:
        """An empty room; devices added later start at the clock's time."""
        self.transmitters: list[Transmitter] = []
        self.effort = Effort()
        self._clock = clock

    def add[T: Transmitter](self, transmitter: T) -> T:
        """Bring a device into range; returns it for the test to steer."""
        transmitter.next_s = self._clock() + transmitter.phase_s
        self.transmitters.append(transmitter)
        if isinstance(transmitter, Trainer):
            self.add(transmitter.power)
        return transmitter

    def until(self, t_end_s: float) -> list[Transmission]:
        """Every slot up to ``t_end_s``, in time order."""
        out: list[Transmission] = []
        while True:
            due = [t for t in self.transmitters if t.next_s is not None]
            if not due:
                return out
            first = min(due, key=lambda t: (t.next_s, self.transmitters.index(t)))
            assert first.next_s is not None
            if first.next_s > t_end_s:
                return out
            out.append(first.transmit(first.next_s, self.effort))
            first.next_s += first.period_s

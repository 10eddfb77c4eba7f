"""The rider's devices: route raw pages to their trackers, build one Sample stream.

:class:`RiderMerger` picks the rider's pedals, trainer and heart-rate strap among
the devices heard and emits a Sample for each new power event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from custom_components.ridebalance.model import PowerSource, Sample

from .identity import AntDevice, DeviceIdentity
from .pages import (
    DEVICE_TYPE_BICYCLE_POWER,
    DEVICE_TYPE_FITNESS_EQUIPMENT,
    DEVICE_TYPE_HEART_RATE,
    RawPage,
)
from .pairing import DeviceRole, Pairing, number_matches
from .readings import BatteryState, DeviceCounters
from .trackers import (
    HeartRateTracker,
    PowerMeterTracker,
    Tracker,
    TrackerConfig,
    TrainerTracker,
)


@dataclass(frozen=True, slots=True)
class DeviceState(AntDevice):
    """One tracked device as the entities see it."""

    role: DeviceRole
    connected: bool
    last_seen_s: float | None
    identity: DeviceIdentity
    battery: BatteryState | None
    counters: DeviceCounters


_TRACKERS: dict[int, type[Tracker]] = {
    DEVICE_TYPE_BICYCLE_POWER: PowerMeterTracker,
    DEVICE_TYPE_FITNESS_EQUIPMENT: TrainerTracker,
    DEVICE_TYPE_HEART_RATE: HeartRateTracker,
}


class RiderMerger:
    """Routes raw pages to the rider's devices and emits one Sample stream.

    A Sample is emitted for every new power event of the pedals; the trainer's
    events emit only while the pedals have no current power figure. Heart rate
    comes from the strap, else from the trainer's FE-C heart-rate byte.
    """

    def __init__(
        self,
        pairing: Pairing | None = None,
        config: TrackerConfig | None = None,
        max_devices: int = 32,
    ) -> None:
        """Merge the devices chosen by ``pairing`` (default: first seen of each)."""
        self.pairing = pairing or Pairing()
        self.config = config or TrackerConfig()
        self.max_devices = max_devices
        self.trackers: dict[tuple[int, int], Tracker] = {}
        self.roles: dict[tuple[int, int], DeviceRole] = {}
        self.pedals: PowerMeterTracker | None = None
        self.trainer: TrainerTracker | None = None
        self.heart_rate: HeartRateTracker | None = None
        self._fe_numbers: set[int] = set()
        self.ignored_pages = 0
        """Pages from unsupported device types or beyond ``max_devices``."""

    def feed(self, pages: Iterable[RawPage]) -> list[Sample]:
        """Take a batch of raw pages; return the Samples they complete, in order."""
        samples: list[Sample] = []
        for raw in pages:
            sample = self._feed_one(raw)
            if sample is not None:
                samples.append(sample)
        return samples

    def _feed_one(self, raw: RawPage) -> Sample | None:
        key = (raw.device_type, raw.extended_device_number)
        tracker = self.trackers.get(key)
        if tracker is None:
            factory = _TRACKERS.get(raw.device_type)
            if factory is None:
                self.ignored_pages += 1
                return None
            tracker = factory(raw.device_number, raw.transmission_type, self.config)
            role = self._assign(raw, tracker)
            # In a crowded room, bystanders beyond the limit are not tracked; the
            # rider's own devices always are.
            if role is DeviceRole.OTHER and len(self.trackers) >= self.max_devices:
                self.ignored_pages += 1
                return None
            self.trackers[key] = tracker
            self.roles[key] = role
        else:
            role = self.roles[key]
            if role is DeviceRole.OTHER:
                role = self._assign(raw, tracker)
                self.roles[key] = role
        new_power = tracker.update(raw)
        if not new_power:
            return None
        t_s = raw.timestamp_s
        if role is DeviceRole.PEDALS:
            return self._sample(t_s, from_pedals=True)
        if role is DeviceRole.TRAINER and not self._pedals_active(t_s):
            return self._sample(t_s, from_pedals=False)
        return None

    def _assign(self, raw: RawPage, tracker: Tracker) -> DeviceRole:
        pairing = self.pairing
        role = DeviceRole.OTHER
        if isinstance(tracker, TrainerTracker):
            self._fe_numbers.add(raw.device_number)
            if self.trainer is None and (
                pairing.trainer is None or number_matches(pairing.trainer, raw)
            ):
                role = DeviceRole.TRAINER
                self.trainer = tracker
                self._release_pedals_sharing(raw.device_number)
        elif isinstance(tracker, PowerMeterTracker):
            if raw.device_number in self._fe_numbers or (
                pairing.trainer is not None and number_matches(pairing.trainer, raw)
            ):
                role = DeviceRole.TRAINER_POWER
            elif self.pedals is None and (
                pairing.pedals is None or number_matches(pairing.pedals, raw)
            ):
                role = DeviceRole.PEDALS
                self.pedals = tracker
        elif self.heart_rate is None and (
            pairing.heart_rate is None or number_matches(pairing.heart_rate, raw)
        ):
            role = DeviceRole.HEART_RATE
            self.heart_rate = tracker
        return role

    def _release_pedals_sharing(self, device_number: int) -> None:
        """An auto-accepted power channel turned out to be the trainer's own."""
        pedals = self.pedals
        if pedals is None or pedals.device_number != device_number:
            return
        for key, tracker in self.trackers.items():
            if tracker is pedals:
                self.roles[key] = DeviceRole.TRAINER_POWER
        self.pedals = None

    def _pedals_active(self, t_s: float) -> bool:
        pedals = self.pedals
        return (
            pedals is not None
            and pedals.power_w.get(t_s, self.config.stale_after_s) is not None
        )

    def _heart_rate(self, t_s: float) -> float | None:
        stale = self.config.stale_after_s
        if self.heart_rate is not None:
            bpm = self.heart_rate.heart_rate_bpm.get(t_s, stale)
            if bpm is not None:
                return bpm
        if self.trainer is not None:
            return self.trainer.heart_rate_bpm.get(t_s, stale)
        return None

    def _sample(self, t_s: float, *, from_pedals: bool) -> Sample:
        stale = self.config.stale_after_s
        trainer_cadence = (
            None if self.trainer is None else self.trainer.cadence_rpm.get(t_s, stale)
        )
        heart_rate = self._heart_rate(t_s)
        if from_pedals and self.pedals is not None:
            reading = self.pedals.reading(t_s)
            return Sample(
                t_s=t_s,
                power_w=reading.power_w,
                left_pct=reading.left_pct,
                cadence_rpm=(
                    trainer_cadence
                    if reading.cadence_rpm is None
                    else reading.cadence_rpm
                ),
                heart_rate_bpm=heart_rate,
                te_left_pct=reading.te_left_pct,
                te_right_pct=reading.te_right_pct,
                ps_left_pct=reading.ps_left_pct,
                ps_right_pct=reading.ps_right_pct,
                power_source=PowerSource.PEDALS,
                **reading.dynamics,
            )
        power = None if self.trainer is None else self.trainer.power_w.get(t_s, stale)
        return Sample(
            t_s=t_s,
            power_w=power,
            cadence_rpm=trainer_cadence,
            heart_rate_bpm=heart_rate,
            power_source=PowerSource.TRAINER,
        )

    def device_states(self, now_s: float) -> list[DeviceState]:
        """Every tracked device, the rider's own first (pedals, trainer, strap)."""
        order = {
            DeviceRole.PEDALS: 0,
            DeviceRole.TRAINER: 1,
            DeviceRole.TRAINER_POWER: 2,
            DeviceRole.HEART_RATE: 3,
            DeviceRole.OTHER: 4,
        }
        states = [
            DeviceState(
                device_type=tracker.device_type,
                device_number=tracker.device_number,
                transmission_type=tracker.transmission_type,
                role=self.roles[key],
                connected=tracker.connected(now_s),
                last_seen_s=tracker.last_seen_s,
                identity=tracker.identity,
                battery=tracker.battery,
                counters=tracker.counters,
            )
            for key, tracker in self.trackers.items()
        ]
        states.sort(key=lambda state: order[state.role])
        return states

"""A crowded gym: the rider's pedals and strap among other riders' sensors.

Every device broadcasts at 4 Hz, as real ANT+ sensors do: the rider's pedals
(steady power and balance) and heart-rate strap, and other riders' power meters,
trainers (FE-C, with their own power channel) and straps. For tests and
benchmarks of what a receiver near many bikes hands on; no Home Assistant.
"""

from __future__ import annotations

from typing import Final

from ..ant.pages import RawPage
from .emulators import HeartRateEncoder, PedalEncoder, TrainerEncoder

HZ: Final = 4.0
FIRST_OTHER: Final = 40000  # the other riders' device numbers count up from here


class Gym:
    """``devices`` sensors in range: the rider's two and everyone else's."""

    def __init__(
        self,
        rider_pedals: int,
        rider_strap: int,
        *,
        devices: int = 22,
        rider_power_w: float = 200.0,
        rider_left_pct: float = 52.0,
    ) -> None:
        if devices < 2:
            raise ValueError("a gym has at least the rider's pedals and strap")
        self.rider_power_w = rider_power_w
        self.rider_left_pct = rider_left_pct
        self._pedals = PedalEncoder(rider_pedals)
        self._strap = HeartRateEncoder(rider_strap)
        self._meters: list[PedalEncoder] = []
        self._trainers: list[TrainerEncoder] = []
        self._straps: list[HeartRateEncoder] = []
        for index in range(devices - 2):
            number = FIRST_OTHER + index
            match index % 3:
                case 0:
                    self._meters.append(PedalEncoder(number))
                case 1:
                    self._trainers.append(TrainerEncoder(number, power_channel=False))
                case _:
                    self._straps.append(HeartRateEncoder(number))

    def pages(self, t_s: float) -> list[RawPage]:
        """One broadcast of every device at ride time ``t_s``."""
        pages = [
            self._pedals.page(t_s, self.rider_power_w, self.rider_left_pct, 90.0),
            self._strap.page(t_s, 140.0),
        ]
        # Everyone else rides harder, so their figures cannot pass for the rider's.
        for index, meter in enumerate(self._meters):
            pages.append(meter.page(t_s, 300.0 + 10 * index, 45.0, 95.0))
        for index, trainer in enumerate(self._trainers):
            pages.extend(trainer.pages(t_s, 320.0 + 10 * index, 92.0, speed_mps=10.0))
        for index, strap in enumerate(self._straps):
            pages.append(strap.page(t_s, 160.0 + index))
        return pages

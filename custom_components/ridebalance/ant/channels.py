"""One channel per profile, for a stick without continuous scan mode.

A channel searching with device number 0 locks onto the FIRST device of its type
it hears and then hears only that one. Two things follow on a real stick:

* a trainer broadcasts its own Bicycle Power channel: a wildcard power channel
  may lock onto it, and the rider's pedals are never heard;
* a channel searching at high priority with no timeout (0xFF) costs the other
  channels their slots for as long as its device is away.

So searches are low priority and bounded (high priority off, the low-priority
timeout in 2.5 s units) and a channel whose search timed out is opened again, so
a device switched on later is still found. A wildcard power channel keeps the
trainer out with the channel's exclusion list (ANT messages 0x59/0x5A): the
paired trainer from the start, and a trainer heard later by a new search after
the wrong lock. A setup scan moves each wildcard channel on after every device it
found, excluding the last four it heard (the list's size), so all of them are heard
in turn however many are in range.

openant has no calls for these messages nor for channel events, so this writes
the messages with ``ant.write_message`` and reads events from the node's private
event queue (checked against openant 1.3.4, the pinned version).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import logging
import threading
import time
from typing import Any, Final

from openant.base.message import Message
from openant.easy.channel import Channel

from .pages import DEVICE_TYPE_BICYCLE_POWER, DEVICE_TYPE_FITNESS_EQUIPMENT
from .pairing import Pairing

_LOGGER = logging.getLogger(__name__)

LOW_PRIORITY_SEARCH: Final = 12  # x 2.5 s = 30 s, then the channel is reopened
HIGH_PRIORITY_OFF: Final = 0
LIST_SIZE: Final = 4  # entries in a channel's inclusion/exclusion list
_EXCLUDE: Final = 1
_EVENT_CHANNEL_CLOSED: Final = 0x07
_EVENT_RX_FAIL_GO_TO_SEARCH: Final = 0x08
_CAP_LOW_PRIORITY_SEARCH: Final = 0x20  # advanced options (capabilities byte 3)
_CAP_SEARCH_LIST: Final = 0x80
_CLOSE_WAIT_S: Final = 2.0

type Bind = Callable[[Any, tuple[int, int]], None]


@dataclass(slots=True)
class ProfileChannel:
    """One profile's channel and what its search found."""

    channel: Any
    device_type: int
    wanted: int  # 0: any device of the type
    excluded: list[int] = field(default_factory=list)
    locked: int | None = None  # heard since the last (re)open


class ChannelPlan:
    """Opens the per-profile channels and keeps their searches useful."""

    def __init__(
        self,
        node: Any,
        pairing: Pairing | None,
        capabilities: bytes,
        *,
        rotate: bool,
    ) -> None:
        """``pairing`` None: a setup scan, which ``rotate``s through devices."""
        self._node = node
        self._pairing = pairing or Pairing()
        advanced = capabilities[3] if len(capabilities) > 3 else 0
        self._low_priority = bool(advanced & _CAP_LOW_PRIORITY_SEARCH)
        self._lists = bool(advanced & _CAP_SEARCH_LIST)
        self._rotate = rotate
        self._lock = threading.Lock()
        self._channels: dict[int, ProfileChannel] = {}
        self._trainer: int | None = self._pairing.trainer

    def open(
        self,
        device_type: int,
        period: int,
        rf_channel: int,
        bind: Bind,
        prepare: Callable[[Any], None],
    ) -> ProfileChannel:
        """Assign, configure and open the channel for one profile.

        ``prepare`` runs on the configured channel just before it opens.
        """
        paired = self._pairing.number_for(device_type) or 0
        number = paired & 0xFFFF  # a channel id holds 16 bits; the rest is below
        channel = self._node.new_channel(Channel.Type.UNIDIRECTIONAL_RECEIVE_ONLY)
        # Pages name the channel's device where the stick adds no number: the
        # paired one, unless its low 16 bits are 0 and the channel takes any.
        bind(channel, (device_type, paired if number else 0))
        profile = ProfileChannel(channel, device_type, number)
        self._channels[channel.id] = profile
        channel.set_id(number, device_type, 0)
        channel.set_period(period)
        if self._low_priority:
            # High priority off: it would cost the other channels their slots.
            channel.set_search_timeout(HIGH_PRIORITY_OFF)
            self._command(
                channel,
                Message.ID.LOW_PRIORITY_CHANNEL_SEARCH_TIMEOUT,
                [LOW_PRIORITY_SEARCH],
            )
        else:
            channel.set_search_timeout(LOW_PRIORITY_SEARCH)
        channel.set_rf_freq(rf_channel)
        if self._trainer and device_type == DEVICE_TYPE_BICYCLE_POWER and not number:
            self._set_excluded(profile, [self._trainer])
        prepare(channel)
        channel.open()
        return profile

    # -- node thread ----------------------------------------------------------------

    def heard(self, channel_id: int, device_type: int, device_number: int) -> None:
        """A page arrived on a channel: its search found this device."""
        profile = self._channels.get(channel_id)
        if profile is None or profile.wanted or not device_number:
            return  # paired, or a stick without extended data: no number to go on
        with self._lock:
            profile.locked = device_number
            if device_type == DEVICE_TYPE_FITNESS_EQUIPMENT and not self._trainer:
                self._trainer = device_number

    # -- supervisor thread ----------------------------------------------------------

    def tend(self) -> None:
        """Reopen timed-out searches; move wildcard channels off the wrong device."""
        for channel_id, code in self._take_events():
            profile = self._channels.get(channel_id)
            if profile is None:
                continue
            if code == _EVENT_CHANNEL_CLOSED:
                # The search timed out: look again, still at low priority.
                self._reopen(profile)
            elif code == _EVENT_RX_FAIL_GO_TO_SEARCH:
                with self._lock:
                    profile.locked = None
        for profile in list(self._channels.values()):
            with self._lock:
                locked, trainer = profile.locked, self._trainer
            if locked is None or locked in profile.excluded or not self._lists:
                continue
            wrong = (
                profile.device_type == DEVICE_TYPE_BICYCLE_POWER
                and locked == trainer
                and self._pairing.pedals is None
            )
            if wrong or self._rotate:
                # The list holds four: the oldest drops out, so a fifth, sixth...
                # device is found in turn and the first comes round again.
                self._relock(profile, [*profile.excluded, locked][-LIST_SIZE:])

    def _take_events(self) -> list[tuple[int, int]]:
        node = self._node
        codes = (_EVENT_CHANNEL_CLOSED, _EVENT_RX_FAIL_GO_TO_SEARCH)
        with node._event_cond:
            taken = [
                e for e in node._events if e[0] in self._channels and e[1] in codes
            ]
            for event in taken:
                node._events.remove(event)
        return [(channel_id, code) for channel_id, code, _data in taken]

    def _relock(self, profile: ProfileChannel, excluded: list[int]) -> None:
        _LOGGER.debug(
            "ANT+ channel %s searches again, without %s", profile.channel.id, excluded
        )
        profile.channel.close()
        self._wait_closed(profile.channel.id)
        self._set_excluded(profile, excluded)
        self._reopen(profile)

    def _reopen(self, profile: ProfileChannel) -> None:
        with self._lock:
            profile.locked = None
        try:
            profile.channel.open()
        except Exception as err:
            _LOGGER.debug("Reopening ANT+ channel %s: %r", profile.channel.id, err)

    def _wait_closed(self, channel_id: int) -> None:
        """Consume the stick's "channel closed" event for our own close."""
        node = self._node
        deadline = time.monotonic() + _CLOSE_WAIT_S
        with node._event_cond:
            while (remaining := deadline - time.monotonic()) > 0:
                for event in node._events:
                    if event[0] == channel_id and event[1] == _EVENT_CHANNEL_CLOSED:
                        node._events.remove(event)
                        return
                node._event_cond.wait(min(remaining, 0.1))

    def _set_excluded(self, profile: ProfileChannel, excluded: list[int]) -> None:
        if not self._lists:
            return
        channel = profile.channel
        for index, number in enumerate(excluded):
            self._command(
                channel,
                Message.ID.ADD_CHANNEL_ID,
                [number & 0xFF, number >> 8 & 0xFF, profile.device_type, 0, index],
            )
        self._command(channel, Message.ID.CONFIG_LIST, [len(excluded), _EXCLUDE])
        profile.excluded = list(excluded)

    def _command(self, channel: Any, message_id: int, data: list[int]) -> None:
        self._node.ant.write_message(Message(message_id, [channel.id, *data]))
        channel.wait_for_response(message_id)

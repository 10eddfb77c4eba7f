"""The simulated stick under the real openant 1.3.4: does it behave like an ANTUSB2?

Each test drives openant's own ``Node`` (its USB driver, reset wait, reader
thread and message parser) and checks what a real stick would do, so the
receiver tests built on it can trust it.
"""

from __future__ import annotations

from collections.abc import Iterator
import errno
import threading
import time

from openant.base.message import Message
from openant.devices import ANTPLUS_NETWORK_KEY
from openant.easy.node import Node
import pytest
import usb.core

from .air import Effort, HeartStrap, Pedals, Trainer
from .backend import SimulatedStick
from .firmware import (
    EVENT_CHANNEL_CLOSED,
    EVENT_RX_FAIL,
    EVENT_RX_FAIL_GO_TO_SEARCH,
    EVENT_RX_SEARCH_TIMEOUT,
    frame,
)

PEDALS = 0x1234
TRAINER = 0x0BEE
STRAP = 0x00A7
RIDING = Effort(power_w=250, cadence_rpm=90, left_pct=48, heart_rate_bpm=140)


class Listener:
    """An openant node with channels whose pages and events the test reads."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.pages: dict[int, list[bytes]] = {}
        self._runner = threading.Thread(target=node.start)
        node.set_network_key(0, ANTPLUS_NETWORK_KEY)

    def channel(
        self,
        device_type: int,
        number: int = 0,
        *,
        high: int | None = None,
        low: int | None = None,
        exclude: list[int] | None = None,
    ) -> int:
        ch = self.node.new_channel(0x40)
        self.pages[ch.id] = []
        ch.on_broadcast_data = self.pages[ch.id].append
        ch.set_id(number, device_type, 0)
        ch.set_period(8182)
        ch.set_rf_freq(57)
        if high is not None:
            ch.set_search_timeout(high)
        if low is not None:
            self.node.ant.write_message(
                Message(Message.ID.LOW_PRIORITY_CHANNEL_SEARCH_TIMEOUT, [ch.id, low])
            )
            ch.wait_for_response(Message.ID.LOW_PRIORITY_CHANNEL_SEARCH_TIMEOUT)
        for index, excluded in enumerate(exclude or []):
            self.node.ant.write_message(
                Message(
                    Message.ID.ADD_CHANNEL_ID,
                    [ch.id, excluded & 0xFF, excluded >> 8, device_type, 0, index],
                )
            )
            ch.wait_for_response(Message.ID.ADD_CHANNEL_ID)
        if exclude:
            self.node.ant.write_message(
                Message(Message.ID.CONFIG_LIST, [ch.id, len(exclude), 1])
            )
            ch.wait_for_response(Message.ID.CONFIG_LIST)
        ch.enable_extended_messages(1)
        ch.open()
        return int(ch.id)

    def scan(self) -> int:
        """Channel 0 in continuous scan mode: every device on the frequency."""
        ch = self.node.new_channel(0x40)
        self.pages[ch.id] = []
        ch.on_broadcast_data = self.pages[ch.id].append
        ch.set_id(0, 0, 0)
        ch.set_rf_freq(57)
        ch.enable_extended_messages(1)
        ch.open_rx_scan_mode()
        return int(ch.id)

    def start(self) -> None:
        self._runner.start()

    def settle(self) -> None:
        """Wait (briefly, real time) until openant has handed over what it read."""
        deadline = time.monotonic() + 5.0  # a loaded machine starves its threads
        seen = -1
        while time.monotonic() < deadline:
            count = sum(len(pages) for pages in self.pages.values())
            idle = self.node._datas.empty() and self.node.ant._events.empty()
            if count == seen and idle:
                return
            seen = count
            time.sleep(0.05)

    def senders(self, channel: int) -> set[int]:
        self.settle()
        return {page[9] | page[10] << 8 for page in self.pages[channel]}

    def events(self, channel: int, at_least: int = 0) -> list[int]:
        """Channel events openant queued (waits briefly for ``at_least``)."""
        deadline = time.monotonic() + 5.0
        while True:
            with self.node._event_cond:
                codes = [code for ch, code, _ in self.node._events if ch == channel]
            if len(codes) >= at_least or time.monotonic() > deadline:
                return codes
            time.sleep(0.01)

    def stop(self) -> None:
        self.node.stop()
        if self._runner.ident is not None:
            self._runner.join()


@pytest.fixture
def listener(stick: SimulatedStick) -> Iterator[Listener]:
    made = Listener(Node())
    yield made
    made.stop()


def test_openant_opens_it_as_an_antusb2(stick: SimulatedStick) -> None:
    node = Node()
    try:
        node.request_message(Message.ID.RESPONSE_ANT_VERSION)
    finally:
        node.stop()
    written = [message_id for message_id, _ in stick.firmware.received]
    assert written[0] == Message.ID.RESET_SYSTEM  # reset comes first
    assert node.max_channels == 8
    assert node.max_networks == 3
    assert {o.name for o in node.advanced_options_two} >= {
        "ExtMessageEnabled",
        "ScanModeEnabled",
    }
    assert node.ant_version == "AP2USB1.05\x00"
    assert node.serial == stick.firmware.serial_number
    assert not stick.in_use  # openant's close released the interface


def test_reset_wait_runs_on_the_simulated_clock(
    stick: SimulatedStick, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stick.clock()
    Node().stop()
    assert stick.clock() - before == pytest.approx(1.0)  # openant's reset wait


def test_variant_without_scan_mode_refuses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    SimulatedStick(scan_mode=False).install(monkeypatch)
    node = Node()
    try:
        node.request_message(Message.ID.RESPONSE_ANT_VERSION)
        assert "ScanModeEnabled" not in {o.name for o in node.advanced_options_two}
        node.set_network_key(0, ANTPLUS_NETWORK_KEY)
        channel = node.new_channel(0x40)
        with pytest.raises(Exception, match="INVALID_MESSAGE"):
            channel.open_rx_scan_mode()
    finally:
        node.stop()


def test_scan_mode_hears_every_device(
    stick: SimulatedStick, listener: Listener
) -> None:
    scan = listener.scan()
    listener.start()
    stick.air.effort = RIDING
    for device in (Pedals(PEDALS), Trainer(TRAINER), HeartStrap(STRAP)):
        stick.air.add(device)
    stick.run(3)
    listener.settle()  # openant hands pages over in its own thread, after the reads
    heard = {(page[11], page[9] | page[10] << 8) for page in listener.pages[scan]}
    assert heard == {(11, PEDALS), (11, TRAINER), (17, TRAINER), (120, STRAP)}


def test_wildcard_channel_locks_onto_the_first_device_it_hears(
    stick: SimulatedStick, listener: Listener
) -> None:
    power = listener.channel(11)
    listener.start()
    stick.air.effort = RIDING
    stick.air.add(Trainer(TRAINER, phase_s=0.0))
    stick.air.add(Pedals(PEDALS, phase_s=0.1))
    stick.run(5)
    assert listener.senders(power) == {TRAINER}  # the pedals are never heard


def test_exclusion_list_keeps_the_trainer_out(
    stick: SimulatedStick, listener: Listener
) -> None:
    power = listener.channel(11, exclude=[TRAINER])
    listener.start()
    stick.air.effort = RIDING
    stick.air.add(Trainer(TRAINER, phase_s=0.0))
    stick.air.add(Pedals(PEDALS, phase_s=0.1))
    stick.run(5)
    assert listener.senders(power) == {PEDALS}
    assert len(listener.pages[power]) >= 15


def test_lost_slots_are_rx_fail_then_the_channel_searches_again(
    stick: SimulatedStick, listener: Listener
) -> None:
    power = listener.channel(11, high=0xFF)
    listener.start()
    pedals = stick.air.add(Pedals(PEDALS))
    stick.air.effort = RIDING
    stick.run(2)
    pedals.on = False
    stick.run(3)
    events = listener.events(power, at_least=8)
    assert events.count(EVENT_RX_FAIL) == 7  # two seconds of 4 Hz slots, less one
    assert events[7] == EVENT_RX_FAIL_GO_TO_SEARCH


def test_search_times_out_low_then_high_priority(
    stick: SimulatedStick, listener: Listener
) -> None:
    hr = listener.channel(120, high=2, low=2)  # 5 s low + 5 s high priority
    listener.start()
    stick.run(9.5)
    assert listener.events(hr) == []
    stick.run(1)
    assert listener.events(hr, at_least=2) == [
        EVENT_RX_SEARCH_TIMEOUT,
        EVENT_CHANNEL_CLOSED,
    ]


def test_high_priority_search_costs_other_channels_their_slots(
    stick: SimulatedStick, listener: Listener
) -> None:
    power = listener.channel(11, PEDALS)
    listener.channel(17, high=0xFF, low=0)  # no trainer in range
    listener.start()
    stick.air.add(Pedals(PEDALS))
    stick.air.effort = RIDING
    stick.run(10)
    listener.settle()
    assert 15 <= len(listener.pages[power]) <= 25  # about half of 40 slots
    assert listener.events(power, at_least=15).count(EVENT_RX_FAIL) >= 15


def test_frames_split_over_reads_reach_openant_whole(
    stick: SimulatedStick, listener: Listener
) -> None:
    stick.split_frames(at=5)
    power = listener.channel(11, PEDALS)
    listener.start()
    stick.air.add(Pedals(PEDALS))
    stick.air.effort = RIDING
    stick.run(3)
    listener.settle()
    assert len(listener.pages[power]) >= 10
    assert stick.reads > 2 * len(listener.pages[power])


def test_unplug_fails_every_call_with_enodev_and_replug_opens_again(
    stick: SimulatedStick,
) -> None:
    device = usb.core.find(idVendor=0x0FCF, idProduct=0x1008)
    assert device is not None
    device.detach_kernel_driver(0)
    device.set_configuration()
    stick.unplug()
    assert usb.core.find(idVendor=0x0FCF, idProduct=0x1008) is None
    for _ in range(3):
        with pytest.raises(usb.core.USBError) as caught:
            device.read(0x81, 64)
        assert caught.value.errno == errno.ENODEV
        assert caught.value.backend_error_code == -4
    stick.replug()
    with pytest.raises(usb.core.USBError):  # the old handle stays dead
        device.read(0x81, 64)
    node = Node()
    node.stop()
    assert stick.firmware.resets == 1  # the new plug-in has fresh firmware


def test_a_claimed_stick_is_busy_for_a_second_opener(stick: SimulatedStick) -> None:
    first = Node()
    try:
        with pytest.raises(usb.core.USBError) as caught:
            Node()
        assert caught.value.errno == errno.EBUSY
    finally:
        first.stop()


def test_a_failed_reset_write_leaves_openants_reader_running(
    stick: SimulatedStick,
) -> None:
    """What openant does with a write failure while opening (issue 10, item 1)."""
    stick.fail_writes(errno.ETIMEDOUT)
    before = set(threading.enumerate())
    with pytest.raises(usb.core.USBTimeoutError):
        Node()
    lingering = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert [t.name for t in lingering] == ["openant.base"]
    assert stick.in_use  # and it keeps the interface claimed
    stick.unplug()  # ENODEV ends nothing either: openant logs and loops
    lingering[0].join(0.2)
    assert lingering[0].is_alive()
    # Let it go: openant's own flag is the only way to end that thread.
    for thread in lingering:
        ant = getattr(thread, "_target", None)
        owner = getattr(ant, "__self__", None)
        if owner is not None:
            owner._running = False
        thread.join(1)


def test_answers_carry_the_channel_response_layout(stick: SimulatedStick) -> None:
    emitted: list[bytes] = []
    stick.firmware._emit = emitted.append
    stick.firmware.host_write(frame(0x42, [0, 0x40, 0]))  # assign
    stick.firmware.host_write(frame(0x42, [0, 0x40, 0]))  # again: wrong state
    stick.firmware.host_write(frame(0x4D, [0, 0x54]))
    assert emitted == [
        bytes.fromhex("A4 03 40 00 42 00 A5"),
        bytes.fromhex("A4 03 40 00 42 15 B0"),
        frame(0x54, bytes.fromhex("08 03 00 BA 36 00")),
    ]

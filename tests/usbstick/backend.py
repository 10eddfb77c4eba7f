"""A pyusb backend with one simulated ANTUSB2 on it, and the test's handle on both.

:meth:`SimulatedStick.install` makes ``usb.core.find`` use this backend (the one
place pyusb looks a backend up, so openant's own ``USBDriver`` finds the stick)
and puts openant's post-reset ``time.sleep`` on the simulated clock. Everything
between runs for real: pyusb's ``Device``, openant's driver, its reset wait, its
reader thread and its checksum check.

USB behaviour, after libusb on Linux:

* descriptors of an ANTUSB2 (0FCF:1008, or ANTUSB-m 0FCF:1009): one configuration,
  one interface, bulk endpoints 0x01 OUT and 0x81 IN of 64 bytes; a kernel driver
  is bound until the host detaches it;
* one frame per IN transfer, unless :meth:`split_frames` asks for frames split
  over two reads; a read with nothing to return times out (``USBTimeoutError``,
  libusb -7) after its timeout in simulated time (or a short real-time cap);
* a claimed interface is exclusive: another handle's ``set_configuration`` or
  claim fails with ``EBUSY`` (libusb -6) until the first handle releases it;
* unplugging fails every call on an old handle with ``ENODEV`` (libusb -4) at
  once, in a tight loop if the caller retries; replugging gives a new device
  (new address, fresh firmware) that the old handles never reach.
"""

from __future__ import annotations

import array
from collections import deque
from collections.abc import Callable, Iterator
import errno
import threading
import time
from typing import Any

from openant.base import ant as openant_ant
import pytest
import usb.backend
import usb.core

from .air import Air, Transmission
from .clock import SimClock, SleepOnClock
from .firmware import ChannelStatus, Firmware

ANT_VENDOR = 0x0FCF
ANTUSB2 = 0x1008
ANTUSB_M = 0x1009
EP_OUT = 0x01
EP_IN = 0x81
READ_REAL_CAP_S = 0.05  # a read never blocks the real clock longer than this

_LIBUSB = {
    errno.EIO: (-1, "Input/output error"),
    errno.EACCES: (-3, "Access denied (insufficient permissions)"),
    errno.ENODEV: (-4, "No such device (it may have been disconnected)"),
    errno.EBUSY: (-6, "Resource busy"),
    errno.ETIMEDOUT: (-7, "Operation timed out"),
}


def usb_error(code: int) -> usb.core.USBError:
    """The exception pyusb's libusb1 backend raises for this errno."""
    libusb_code, text = _LIBUSB[code]
    if code == errno.ETIMEDOUT:
        return usb.core.USBTimeoutError(text, libusb_code, code)
    return usb.core.USBError(text, libusb_code, code)


class _Descriptor:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


class _Device:
    """What ``enumerate_devices`` yields: one plug-in of the stick."""

    def __init__(self, generation: int, product_id: int) -> None:
        self.generation = generation
        self.product_id = product_id


class _Handle:
    def __init__(self, device: _Device) -> None:
        self.device = device
        self.claimed: set[int] = set()
        self.closed = False


class SimulatedStick(usb.backend.IBackend):  # type: ignore[misc]
    """One ANTUSB2 on a simulated USB bus, with the air around it."""

    def __init__(
        self,
        clock: SimClock | None = None,
        *,
        scan_mode: bool = True,
        extended: bool = True,
        product_id: int = ANTUSB2,
    ) -> None:
        """A plugged-in stick; ``scan_mode=False`` is the variant without it,
        ``extended=False`` an older one without extended messages."""
        super().__init__()
        self.clock = clock or SimClock()
        self.air = Air(self.clock)
        self.product_id = product_id
        self._scan_mode = scan_mode
        self._extended = extended
        self._cond = threading.Condition()
        self._generation = 0
        self._plugged = True
        self._in: deque[bytes] = deque()  # one USB transfer each
        self._held: set[int] = set()  # ids of transfers due a gap after the one before
        self._handles: list[_Handle] = []
        self._kernel_driver = True
        self._split: int = 0
        self._split_gap_s = 0.0
        self._held_until = 0.0  # real time before which the IN pipe holds back
        self._write_faults: deque[int] = deque()
        self._read_faults: deque[int] = deque()
        self.open_error: int | None = None  # errno for open_device (EACCES)
        self.held_elsewhere = False  # another program has the interface
        self.no_backend = False  # as if libusb were not installed
        self.write_errno: int | None = None  # every write fails while set
        self.on_command: dict[int, Callable[[], None]] = {}  # message id -> hook
        self.opens = 0  # device handles (pyusb opens one per reset and close)
        self.configurations = 0
        self.reads = 0
        self.unheard = 0  # queued broadcasts no channel would receive
        self.broadcasts = 0  # broadcast frames put on the IN pipe
        self._pending_air: list[Transmission] = []
        self.firmware = self._new_firmware()

    # -- test API ---------------------------------------------------------------

    def install(self, monkeypatch: pytest.MonkeyPatch) -> SimulatedStick:
        """Let pyusb find this stick; openant's reset wait uses the clock."""
        real_find = usb.core.find

        def find(*args: Any, backend: Any = None, **kwargs: Any) -> Any:
            if self.no_backend and backend is None:
                raise usb.core.NoBackendError("No backend available")
            return real_find(*args, backend=backend or self, **kwargs)

        monkeypatch.setattr(usb.core, "find", find)
        monkeypatch.setattr(openant_ant, "time", SleepOnClock(self.clock))
        return self

    def run(self, seconds: float, step_s: float = 0.25) -> None:
        """Let ``seconds`` of simulated time pass, the radio working throughout.

        After each step the test waits (in real time, briefly) until the host
        has read what the stick sent, so pages are read close to their instant.
        """
        end = self.clock() + seconds
        while (now := self.clock()) < end - 1e-9:
            self.clock.advance(min(step_s, end - now))
            self.radio()
            self.drain()

    def radio(self) -> list[Transmission]:
        """Put everything transmitted up to now through the firmware."""
        with self._cond:
            now = self.clock()
            sent = self.air.until(now)
            if self._plugged:
                self.firmware.radio(sent, now)
            self._cond.notify_all()
            return sent

    def drain(self, real_timeout_s: float = 1.0) -> bool:
        """Wait (real time) until the IN pipe is empty; False if it is not."""
        deadline = time.monotonic() + real_timeout_s
        with self._cond:
            while self._in and self._plugged:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def unplug(self) -> None:
        """Pull the stick: every old handle fails with ENODEV from now on."""
        with self._cond:
            self._plugged = False
            self._in.clear()
            self._held.clear()
            self._cond.notify_all()

    def replug(self) -> None:
        """Plug it back: a new device with fresh firmware and a kernel driver."""
        with self._cond:
            self._generation += 1
            self._plugged = True
            self._kernel_driver = True
            self._handles = [h for h in self._handles if not h.closed]
            self.firmware = self._new_firmware()

    def split_frames(self, at: int = 3, gap_s: float = 0.0) -> None:
        """From now on every frame arrives in two reads, split after ``at`` bytes.

        With ``gap_s`` the second part arrives that long (real time) after the
        first, as when the stick is busy: whoever reads meanwhile holds half a
        frame.
        """
        with self._cond:
            self._split = at
            self._split_gap_s = gap_s

    def fail_writes(self, code: int, count: int = 1) -> None:
        """The next ``count`` writes fail with this errno (ETIMEDOUT, EIO...)."""
        with self._cond:
            self._write_faults.extend([code] * count)

    def fail_reads(self, code: int, count: int = 1) -> None:
        """The next ``count`` reads fail with this errno."""
        with self._cond:
            self._read_faults.extend([code] * count)
            self._cond.notify_all()

    def send_raw(self, data: bytes) -> None:
        """Bytes for the IN pipe as one transfer (noise, a broken frame)."""
        self._emit(data)

    # -- one-off pages and states, for tests that script single frames ---------------

    def queue_broadcast(
        self, device_type: int, device_number: int, page: bytes, tt: int = 0
    ) -> None:
        """One page on the air; it waits until a host has the stick and listens."""
        assert len(page) == 8, "an ANT+ page is 8 bytes"
        with self._cond:
            self._pending_air.append(
                Transmission(self.clock(), device_number, device_type, tt, page)
            )
            self._flush_air()

    def queue_raw(self, data: bytes) -> None:
        """Bytes for the IN pipe as they are (framing tests)."""
        self.send_raw(data)

    def set_open_error(self, code: int | None) -> None:
        """EBUSY: another program holds the stick; other errnos fail the open."""
        with self._cond:
            self.held_elsewhere = code == errno.EBUSY
            self.open_error = None if code == errno.EBUSY else code

    def set_scan_supported(self, supported: bool) -> None:
        """Which variant the next plug-in (or replug) is."""
        with self._cond:
            self._scan_mode = supported
            self.firmware.scan_mode_supported = supported

    def set_silent(self, silent: bool) -> None:
        """A hung stick: enumerated and writable, but it answers and sends nothing."""
        with self._cond:
            self.firmware.silent = silent

    def fail_next_read(self, code: int) -> None:
        """The next read fails once with this errno."""
        self.fail_reads(code)

    @property
    def scanning(self) -> bool:
        """Whether the host opened continuous scan mode."""
        return self.firmware.scanning

    @property
    def open_channels(self) -> list[tuple[int, int, int]]:
        """(channel, device type, device number) of every open channel."""
        return [
            (ch.number, ch.wanted[1], ch.wanted[0])
            for ch in self.firmware.channels
            if ch.status >= ChannelStatus.SEARCHING
        ]

    def commands(self, message_id: int) -> list[bytes]:
        """Data of every message the host wrote with this id (this plug-in)."""
        return self.firmware.commands(message_id)

    @property
    def drivers_opened(self) -> int:
        """How many times a driver opened the stick (one configuration each)."""
        return self.configurations

    def _flush_air(self) -> None:
        firmware = self.firmware
        listening = firmware.scanning or any(
            ch.status >= ChannelStatus.SEARCHING for ch in firmware.channels
        )
        claimed = any(h.claimed and not h.closed for h in self._live_handles())
        if not self._plugged or not listening or not claimed or not self._pending_air:
            return  # nobody reads the stick now: the pages wait on the air
        sent, self._pending_air = self._pending_air, []
        for tx in sent:
            if not firmware.radio([tx], tx.t_s):
                self.unheard += 1

    @property
    def in_use(self) -> bool:
        """Whether any open handle still holds the interface claimed."""
        with self._cond:
            return any(h.claimed and not h.closed for h in self._live_handles())

    @property
    def pending_in(self) -> int:
        """Transfers waiting in the IN pipe."""
        with self._cond:
            return len(self._in)

    # -- firmware wiring ----------------------------------------------------------

    def _new_firmware(self) -> Firmware:
        return Firmware(
            self.clock, self._emit, scan_mode=self._scan_mode, extended=self._extended
        )

    def _emit(self, data: bytes) -> None:
        with self._cond:
            if not self._plugged:
                return
            if len(data) > 2 and data[2] == 0x4E:  # a broadcast
                self.broadcasts += 1
            if self._split and len(data) > self._split:
                rest = data[self._split :]
                self._in.extend([data[: self._split], rest])
                self._held.add(id(rest))
            else:
                self._in.append(data)
            self._cond.notify_all()

    def _live_handles(self) -> list[_Handle]:
        return [h for h in self._handles if h.device.generation == self._generation]

    def _check(self, handle: _Handle) -> None:
        if (
            not self._plugged
            or handle.closed
            or handle.device.generation != self._generation
        ):
            raise usb_error(errno.ENODEV)

    # -- usb.backend.IBackend ---------------------------------------------------------

    def enumerate_devices(self) -> Iterator[_Device]:
        with self._cond:
            plugged, generation = self._plugged, self._generation
        if plugged:
            yield _Device(generation, self.product_id)

    def get_device_descriptor(self, dev: _Device) -> _Descriptor:
        return _Descriptor(
            bLength=18,
            bDescriptorType=1,
            bcdUSB=0x0200,
            bDeviceClass=0,
            bDeviceSubClass=0,
            bDeviceProtocol=0,
            bMaxPacketSize0=32,
            idVendor=ANT_VENDOR,
            idProduct=dev.product_id,
            bcdDevice=0x0100,
            iManufacturer=1,
            iProduct=2,
            iSerialNumber=3,
            bNumConfigurations=1,
            address=4 + dev.generation,
            bus=1,
            port_number=2,
            port_numbers=(2,),
            speed=2,
        )

    def get_configuration_descriptor(self, dev: _Device, config: int) -> _Descriptor:
        if config != 0:
            raise IndexError("one configuration")
        return _Descriptor(
            bLength=9,
            bDescriptorType=2,
            wTotalLength=32,
            bNumInterfaces=1,
            bConfigurationValue=1,
            iConfiguration=0,
            bmAttributes=0x80,
            bMaxPower=50,
            extra_descriptors=[],
        )

    def get_interface_descriptor(
        self, dev: _Device, intf: int, alt: int, config: int
    ) -> _Descriptor:
        if (intf, alt, config) != (0, 0, 0):
            raise IndexError("one interface, one alternate setting")
        return _Descriptor(
            bLength=9,
            bDescriptorType=4,
            bInterfaceNumber=0,
            bAlternateSetting=0,
            bNumEndpoints=2,
            bInterfaceClass=0xFF,
            bInterfaceSubClass=0,
            bInterfaceProtocol=0,
            iInterface=0,
            extra_descriptors=[],
        )

    def get_endpoint_descriptor(
        self, dev: _Device, ep: int, intf: int, alt: int, config: int
    ) -> _Descriptor:
        if ep > 1 or (intf, alt, config) != (0, 0, 0):
            raise IndexError("two endpoints")
        return _Descriptor(
            bLength=7,
            bDescriptorType=5,
            bEndpointAddress=(EP_IN, EP_OUT)[ep],
            bmAttributes=0x02,  # bulk
            wMaxPacketSize=64,
            bInterval=1,
            bRefresh=0,
            bSynchAddress=0,
            extra_descriptors=[],
        )

    def open_device(self, dev: _Device) -> _Handle:
        with self._cond:
            if not self._plugged or dev.generation != self._generation:
                raise usb_error(errno.ENODEV)
            if self.open_error is not None:
                raise usb_error(self.open_error)
            handle = _Handle(dev)
            self._handles.append(handle)
            self.opens += 1
            return handle

    def close_device(self, dev_handle: _Handle) -> None:
        with self._cond:
            dev_handle.closed = True
            dev_handle.claimed.clear()

    def _busy_elsewhere(self, handle: _Handle) -> bool:
        return any(
            h is not handle and h.claimed and not h.closed for h in self._live_handles()
        )

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        with self._cond:
            self._check(dev_handle)
            if self.held_elsewhere or self._busy_elsewhere(dev_handle):
                raise usb_error(errno.EBUSY)
            self.configurations += 1

    def get_configuration(self, dev_handle: _Handle) -> int:
        with self._cond:
            self._check(dev_handle)
            return 1

    def set_interface_altsetting(
        self, dev_handle: _Handle, intf: int, altsetting: int
    ) -> None:
        with self._cond:
            self._check(dev_handle)

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        with self._cond:
            self._check(dev_handle)
            if (
                self._kernel_driver
                or self.held_elsewhere
                or self._busy_elsewhere(dev_handle)
            ):
                raise usb_error(errno.EBUSY)
            dev_handle.claimed.add(intf)

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        with self._cond:
            dev_handle.claimed.discard(intf)
            self._check(dev_handle)

    def reset_device(self, dev_handle: _Handle) -> None:
        with self._cond:
            self._check(dev_handle)

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        with self._cond:
            self._check(dev_handle)
            return self._kernel_driver

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        with self._cond:
            self._check(dev_handle)
            self._kernel_driver = False

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        with self._cond:
            self._check(dev_handle)
            if self._kernel_driver or self._busy_elsewhere(dev_handle):
                raise usb_error(errno.EBUSY)
            self._kernel_driver = True

    def bulk_write(
        self,
        dev_handle: _Handle,
        ep: int,
        intf: int,
        data: array.array[int],
        timeout: int,
    ) -> int:
        with self._cond:
            self._check(dev_handle)
            if self._write_faults:
                raise usb_error(self._write_faults.popleft())
            if self.write_errno is not None:
                raise usb_error(self.write_errno)
            hook = self.on_command.get(data[2]) if len(data) > 2 else None
            firmware = self.firmware
        if hook is not None:
            hook()
            with self._cond:
                self._check(dev_handle)  # the hook may have pulled the stick
        firmware.host_write(bytes(data))
        with self._cond:
            self._flush_air()
        return len(data)

    def bulk_read(
        self,
        dev_handle: _Handle,
        ep: int,
        intf: int,
        buff: array.array[int],
        timeout: int,
    ) -> int:
        deadline_s = self.clock() + timeout / 1000
        real_deadline = time.monotonic() + READ_REAL_CAP_S
        with self._cond:
            self.reads += 1
            while True:
                self._check(dev_handle)
                if self._read_faults:
                    raise usb_error(self._read_faults.popleft())
                if self._in and id(self._in[0]) in self._held:
                    # The second part of a split frame: due a gap after the first.
                    self._held.discard(id(self._in[0]))
                    self._held_until = time.monotonic() + self._split_gap_s
                if self._in and time.monotonic() >= self._held_until:
                    data = self._in.popleft()
                    if len(data) > len(buff):
                        self._in.appendleft(data[len(buff) :])
                        data = data[: len(buff)]
                    buff[: len(data)] = array.array("B", data)
                    self._cond.notify_all()
                    return len(data)
                remaining = real_deadline - time.monotonic()
                if self.clock() >= deadline_s or remaining <= 0:
                    raise usb_error(errno.ETIMEDOUT)
                self._cond.wait(remaining)

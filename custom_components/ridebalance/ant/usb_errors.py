"""Why the ANT+ stick could not be used, with what the rider can do about it.

openant and pyusb raise a handful of unrelated exceptions (``DriverNotFound``,
``ValueError("Device not found")``, ``USBError`` with an errno, ``NoBackendError``).
:func:`classify_open_error` turns them into one of the :class:`AntStickError`
subclasses below; each carries a short ``reason`` (stable, usable as a translation
key) and a ``hint`` telling the rider how to fix it.
"""

from __future__ import annotations

import errno
from typing import ClassVar

ANT_VENDOR_ID = 0x0FCF
ANT_PRODUCT_IDS = (0x1008, 0x1009)  # ANTUSB2, ANTUSB-m

UDEV_RULES = (
    'SUBSYSTEM=="usb", ATTRS{idVendor}=="0fcf", ATTRS{idProduct}=="1008", MODE="0666"\n'
    'SUBSYSTEM=="usb", ATTRS{idVendor}=="0fcf", ATTRS{idProduct}=="1009", MODE="0666"'
)

# libusb error codes, as pyusb exposes them in ``USBError.backend_error_code``.
_LIBUSB_ERROR_ACCESS = -3
_LIBUSB_ERROR_NO_DEVICE = -4
_LIBUSB_ERROR_NOT_FOUND = -5
_LIBUSB_ERROR_BUSY = -6


class AntStickError(Exception):
    """The ANT+ stick cannot be opened or used."""

    reason: ClassVar[str] = "io_error"
    hint: ClassVar[str] = (
        "Unplug the ANT+ stick, plug it back in (preferably on a USB extension "
        "cable, away from other USB 3 devices) and try again."
    )

    def __init__(self, message: str) -> None:
        """Keep the specific message; the hint comes from the class."""
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        """What went wrong and how to fix it: printing the error is enough."""
        return self.full_message

    @property
    def full_message(self) -> str:
        """The message followed by how to fix it, for logs and the CLI."""
        return f"{self.message}. {self.hint}"


class AntStickNotFoundError(AntStickError):
    """No ANT+ stick (0FCF:1008 or 0FCF:1009) is visible, or it vanished."""

    reason: ClassVar[str] = "not_found"
    hint: ClassVar[str] = (
        "Plug in an ANT+ USB stick (ANTUSB2 0FCF:1008 or ANTUSB-m 0FCF:1009). "
        "In a virtual machine, pass the USB device through to it; in a container, "
        "start it with --device /dev/bus/usb (or a privileged USB mapping)"
    )


class AntStickBusyError(AntStickError):
    """Another process (or a kernel driver) holds the stick."""

    reason: ClassVar[str] = "busy"
    hint: ClassVar[str] = (
        "Another program owns the ANT+ stick (Zwift, a training app, another "
        "integration or add-on). One process can use a stick at a time: close that "
        "program or give Home Assistant its own, second stick"
    )


class AntStickPermissionError(AntStickError):
    """The operating system refuses access to the stick (no udev rule)."""

    reason: ClassVar[str] = "permission_denied"
    hint: ClassVar[str] = (
        "Permission denied on the ANT+ stick. Add a udev rule, e.g. "
        "/etc/udev/rules.d/99-ant-usb.rules containing:\n"
        f"{UDEV_RULES}\n"
        "then run `sudo udevadm control --reload-rules && sudo udevadm trigger` "
        "and replug the stick"
    )


class AntStickBackendError(AntStickError):
    """pyusb has no USB backend (libusb is not installed)."""

    reason: ClassVar[str] = "no_backend"
    hint: ClassVar[str] = (
        "No USB backend is available: install libusb-1.0 (Debian/Ubuntu: "
        "`apt install libusb-1.0-0`, Alpine: `apk add libusb`)"
    )


class AntStickNotRespondingError(AntStickError):
    """The stick opened but did not answer its configuration commands."""

    reason: ClassVar[str] = "not_responding"


def classify_open_error(err: BaseException) -> AntStickError:
    """Map an exception raised while opening or configuring the stick.

    Anything not recognised becomes a plain :class:`AntStickError` that keeps the
    original text, so nothing is hidden from the log.
    """
    if isinstance(err, AntStickError):
        return err
    name = type(err).__name__
    if name == "DriverNotFound":
        return AntStickNotFoundError("No ANT+ USB stick found")
    if name == "NoBackendError":
        return AntStickBackendError("pyusb found no USB backend")
    if isinstance(err, ValueError) and "not found" in str(err).lower():
        return AntStickNotFoundError("The ANT+ USB stick disappeared while opening")
    if name == "AntException" and "timed out" in str(err).lower():
        return AntStickNotRespondingError("The ANT+ stick did not answer")
    code = getattr(err, "errno", None)
    backend_code = getattr(err, "backend_error_code", None)
    if code == errno.EACCES or backend_code == _LIBUSB_ERROR_ACCESS:
        return AntStickPermissionError(f"Access to the ANT+ stick denied ({err})")
    if code == errno.EBUSY or backend_code == _LIBUSB_ERROR_BUSY:
        return AntStickBusyError(f"The ANT+ stick is busy ({err})")
    if code in (errno.ENODEV, errno.ENOENT) or backend_code in (
        _LIBUSB_ERROR_NO_DEVICE,
        _LIBUSB_ERROR_NOT_FOUND,
    ):
        return AntStickNotFoundError(f"The ANT+ stick is gone ({err})")
    return AntStickError(f"Could not use the ANT+ stick: {name}: {err}")


def is_device_gone(err: BaseException) -> bool:
    """True for the USB errors a vanished (unplugged) stick produces."""
    code = getattr(err, "errno", None)
    backend_code = getattr(err, "backend_error_code", None)
    return code == errno.ENODEV or backend_code == _LIBUSB_ERROR_NO_DEVICE

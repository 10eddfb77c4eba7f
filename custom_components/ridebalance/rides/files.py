"""Reading a ride file's bytes: regular files only, never more than a cap.

The command line and the import both read through :func:`read_checked`. A
file is opened by its real path (a link is followed, and the import checks the
target against its allowed folders), without blocking and then checked to be a
regular file, so a FIFO or a device named ``ride.fit`` is refused instead of
hanging or filling memory.
"""

from __future__ import annotations

from collections.abc import Callable
import os
from pathlib import Path
import stat

from .errors import RideFileError

# Ten hours of 1 Hz FIT records are about 5 MB; a CSV twice that.
MAX_FILE_BYTES = 64 * 1024 * 1024
_PIECE = 1024 * 1024

type PathCheck = Callable[[Path], bool]


class FileRefused(RideFileError):  # noqa: N818 - a reason, not a failure of ours
    """A file that is not read, with the reason (one line, no file name)."""


def read_checked(path: Path, allowed: PathCheck | None = None) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_FILE_BYTES`.

    ``allowed``, when given, must accept the file's real path. Raises
    :class:`FileRefused` with the reason.
    """
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError as err:  # no such file, or a dangling link
        raise FileRefused("the file or the link's target does not exist") from err
    except OSError as err:  # a link loop, a file as a folder, a closed folder
        raise FileRefused(f"cannot reach it ({err.strerror or 'refused'})") from err
    if allowed is not None and not allowed(real):
        raise FileRefused(
            "it links to a file outside the allowed folders; it was not read"
        )
    try:
        # Non-blocking: opening a FIFO for reading must not wait for a writer.
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as err:
        raise FileRefused(f"cannot open it ({err.strerror or 'refused'})") from err
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise FileRefused("not a regular file (a folder, FIFO or device)")
            if info.st_size > MAX_FILE_BYTES:
                raise FileRefused(
                    f"{info.st_size / 1e6:.0f} MB; ride files over "
                    f"{MAX_FILE_BYTES // (1024 * 1024)} MB are not read"
                )
            # Read by the size it states, not by the cap: read(n) sets n bytes
            # aside first. A short read is the end; a full one means it grew,
            # or it says 0 (as in /proc): on in pieces, up to the cap.
            want = info.st_size + 1
            parts = [handle.read(want)]
            size = len(parts[0])
            while len(parts[-1]) == want and size <= MAX_FILE_BYTES:
                want = min(_PIECE, MAX_FILE_BYTES + 1 - size)
                parts.append(handle.read(want))
                size += len(parts[-1])
    except OSError as err:  # a disk error mid-read
        raise FileRefused(f"cannot read it ({err.strerror or 'failed'})") from err
    if size > MAX_FILE_BYTES:
        raise FileRefused("it grew past the size limit while being read")
    return parts[0] if len(parts) == 1 else b"".join(parts)

"""Read a FIT file into its rides (decoding with ``fitdecode``).

fitdecode splits the bytes into messages and fields (raw values, no
conversions); :mod:`.fit_rides` turns them into rides. Each file of a chain
(several FIT files appended to one another) is decoded on its own, so its rides
keep their own clock and identity.

Header problems are checked here before decoding, so a damaged file names what
is wrong: :class:`CorruptHeaderError` (size, ``.FIT`` magic, header CRC, or a
damaged header of a chained file) and :class:`TruncatedFileError` (the file is
shorter than its header promises). A truncated file is refused by default;
``allow_truncated=True`` returns the records read before the cut, with a
:class:`RideFileWarning` and a note in ``Ride.warnings``. A complete file must
match its data CRC (each file of a chain its own, including the complete files
before a cut); a mismatch or a message the decoder cannot read is a
:class:`RideFileError` ("FIT decoding failed"). Each ride read says whether it
came from a truncated file (``Ride.truncated``), so an import can refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import struct
import warnings

import fitdecode

from .errors import (
    CorruptHeaderError,
    RideFileError,
    RideFileWarning,
    TruncatedFileError,
    one_line,
)
from .fit_crc import fit_crc
from .fit_rides import Activity, Messages, activity_rides
from .ride import Ride, RideFile, content_id

FIT_MAGIC = b".FIT"
# The only messages the ride is built from; fitdecode decodes the others too,
# but they are not kept.
WANTED_MESSAGES = frozenset({"file_id", "sport", "session", "lap", "record", "event"})


@dataclass(frozen=True, slots=True)
class FitHeader:
    """The parts of a FIT file header this reader checks."""

    offset: int
    header_size: int
    data_size: int

    @property
    def end(self) -> int:
        """Byte offset just past this file's trailing CRC."""
        return self.offset + self.header_size + self.data_size + 2


def parse_header(data: bytes, offset: int = 0) -> FitHeader:
    """Check one FIT header at ``offset``; raise :class:`CorruptHeaderError`."""
    where = "" if offset == 0 else f" (chained file at byte {offset})"
    if len(data) - offset < 12:
        raise CorruptHeaderError(
            f"FIT header{where} is cut short: {len(data) - offset} bytes, need 12"
        )
    header_size = data[offset]
    if header_size not in (12, 14):
        raise CorruptHeaderError(
            f"FIT header{where} declares {header_size} bytes; only 12 or 14 exist"
        )
    magic = data[offset + 8 : offset + 12]
    if magic != FIT_MAGIC:
        raise CorruptHeaderError(
            f"FIT header{where} lacks the '.FIT' magic at byte {offset + 8}"
        )
    (data_size,) = struct.unpack_from("<I", data, offset + 4)
    if header_size == 14:
        if len(data) - offset < 14:
            raise CorruptHeaderError(f"FIT header{where} is cut short")
        (stored,) = struct.unpack_from("<H", data, offset + 12)
        # 0 means "no header CRC written", which the format allows.
        if stored != 0 and stored != fit_crc(data[offset : offset + 12]):
            raise CorruptHeaderError(f"FIT header{where} fails its CRC check")
    return FitHeader(offset, header_size, data_size)


def check_headers(data: bytes) -> tuple[list[FitHeader], int | None]:
    """All chained headers; the second value is the cut point if truncated."""
    headers: list[FitHeader] = []
    offset = 0
    while True:  # an empty file fails the first header check
        header = parse_header(data, offset)
        headers.append(header)
        if header.end > len(data):
            return headers, len(data)
        offset = header.end
        if offset == len(data):
            return headers, None


def check_data_crcs(data: bytes, headers: list[FitHeader]) -> str | None:
    """Why a complete file fails its trailing CRC(s), or None when all match."""
    for header in headers:
        (stored,) = struct.unpack_from("<H", data, header.end - 2)
        computed = fit_crc(memoryview(data)[header.offset : header.end - 2])
        if stored != computed:
            where = (
                "" if header.offset == 0 else f" (chained file at byte {header.offset})"
            )
            return (
                f"data CRC mismatch{where}: stored 0x{stored:04X}, "
                f"computed 0x{computed:04X} (damaged bytes)"
            )
    return None


def read_fit_rides(
    path: Path,
    *,
    data: bytes,
    indoor: bool | None = None,
    allow_truncated: bool = False,
) -> RideFile:
    """Every ride of a FIT file's bytes ``data`` (of each file of a chain), and
    what was skipped; ``path`` names the file (read it with :func:`.read_rides`)."""
    headers, cut_at = check_headers(data)
    complete = headers if cut_at is None else headers[:-1]
    if (crc_problem := check_data_crcs(data, complete)) is not None:
        raise RideFileError(f"{path.name}: FIT decoding failed: {crc_problem}")
    notes: tuple[str, ...] = ()
    if cut_at is not None:
        last = headers[-1]
        message = (
            f"{path.name} is truncated: it ends at byte {cut_at} but its header "
            f"promises {last.end} bytes ({last.end - cut_at} missing)"
        )
        if not allow_truncated:
            raise TruncatedFileError(message)
        notes = (message + "; using the records read before the cut",)
        warnings.warn(notes[0], RideFileWarning, stacklevel=2)

    rides: list[Ride] = []
    skipped: list[str] = []
    for number, header in enumerate(headers):
        truncated = cut_at is not None and header is headers[-1]
        part = memoryview(data)[header.offset : min(header.end, len(data))]
        activity = Activity(
            path,
            _decode(path, bytes(part), truncated=truncated),
            content_id(part),
            truncated,
            notes if truncated else (),
        )
        found = activity_rides(activity, indoor=indoor)
        if len(headers) > 1:
            where = f"file {number + 1} of the chain: "
            skipped += [where + reason for reason in found.skipped]
        else:
            skipped += found.skipped
        rides += found.rides
    return RideFile(tuple(rides), tuple(skipped))


def _decode(path: Path, data: bytes, *, truncated: bool) -> Messages:
    """Raw field values of the messages the ride needs, by message name.

    The CRCs were checked by :func:`check_data_crcs` (one pass over the bytes;
    fitdecode's own check updates the CRC on every field it reads, which costs
    a third of the decoding time). A truncated file is read up to the cut,
    keeping the whole messages. Developer fields are left out: an app may name
    one like a profile field ("power"), and the ride uses the profile fields only.
    """
    messages: Messages = {kind: [] for kind in WANTED_MESSAGES}
    reader = fitdecode.FitReader(
        data,
        processor=None,  # raw values: no unit or datetime conversion
        check_crc=fitdecode.CrcCheck.DISABLED,
        # On malformed developer data or an odd field size the decoder goes on
        # with raw bytes, which the value checks here read as "not measured".
        error_handling=fitdecode.ErrorHandling.IGNORE,
    )
    try:
        for frame in reader:
            if frame.frame_type != fitdecode.FIT_FRAME_DATA:
                continue
            found = messages.get(frame.name)
            if found is None:
                continue
            found.append(
                {
                    field.name: field.raw_value
                    for field in frame.fields
                    if field.field_def is None or not field.field_def.is_dev
                }
            )
    except Exception as err:
        # Damaged bytes can trip any check inside the decoder (its FitError, but
        # also assertions and lookups), so every failure is the file's fault.
        if not truncated:
            reason = one_line(str(err))
            if not isinstance(err, fitdecode.FitError):
                reason = f"{type(err).__name__} {reason}".strip()
            raise RideFileError(f"{path.name}: FIT decoding failed: {reason}") from err
        # The cut: the messages read before it are whole, the one it splits is lost.
    finally:
        reader.close()
    return messages

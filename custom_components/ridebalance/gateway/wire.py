"""What a gateway puts on MQTT: batches of raw ANT+ pages and a retained status.

Shared by the gateway (which encodes) and the integration (which decodes); plain
Python, no Home Assistant. Pages travel raw: decoding and tracking stay in the
integration, so a gateway never needs updating when the analysis changes.

Topics, under a prefix (default ``ridebalance``) and the gateway's id:

* ``<prefix>/<id>/pages``: one batch per message, QoS 0, not retained.
* ``<prefix>/<id>/status``: JSON, retained; also the gateway's last will.

A batch, little-endian::

    offset  size  field
    0       1     format version (1)
    1       4     session: random per gateway start; a new one re-anchors the clock
    5       4     sequence: batch number within the session (a gap = batches lost)
    9       8     base: receive time of the first page, gateway's monotonic clock, s
    17      2     page count, 1..MAX_PAGES
    19      14*n  pages: receive time after base (ms, u16), device type (u8),
                  device number (u16), transmission type (u8), the 8 page bytes

Times travel on the gateway's own monotonic clock (a wall clock can jump); the
integration maps a session's times onto its own clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
import json
import math
import re
import reprlib
import struct
from typing import Any, Final

from ..ant.pages import RawPage

FORMAT_VERSION: Final = 1
DEFAULT_TOPIC_PREFIX: Final = "ridebalance"
MAX_PAGES: Final = 1024  # per batch; a bigger backlog is split
MAX_OFFSET_MS: Final = 0xFFFF
# A status's detail reaches Home Assistant's log and repair issues: one line, cut.
MAX_DETAIL: Final = 200

_HEADER: Final = struct.Struct("<BIIdH")
_PAGE: Final = struct.Struct("<HBHB8s")
HEADER_SIZE: Final = _HEADER.size
PAGE_SIZE: Final = _PAGE.size

# A gateway id and a topic prefix become topic levels: no wildcards, no slashes
# in an id, nothing MQTT or a file name would choke on.
_ID_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_PREFIX_RE: Final = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")

# Payloads are anyone's on the broker: an error quotes what it read, cut short.
_QUOTE: Final = reprlib.Repr(
    maxlevel=2, maxstring=40, maxlong=40, maxother=40, maxdict=3, maxlist=3
)


class MalformedBatchError(ValueError):
    """A payload that is not a valid batch or status; the message says why."""


class GatewayState(StrEnum):
    """Whether the gateway process is connected to the broker."""

    ONLINE = "online"
    OFFLINE = "offline"


class StickState(StrEnum):
    """What the gateway's receiver is doing."""

    CONNECTED = "connected"
    CONNECTING = "connecting"
    DISCONNECTED = "disconnected"  # unplugged or not found
    ERROR = "error"  # busy, permission denied, USB failure
    SIMULATED = "simulated"  # --simulate: the demo rider, no stick


def _quote(value: object) -> str:
    """``repr`` of a value read from a payload, at most a few dozen characters."""
    return _QUOTE.repr(value)


def _checked(value: str, pattern: re.Pattern[str], what: str, rule: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{what} {_quote(value)} is not usable: {rule}")
    return value


def check_gateway_id(gateway_id: str) -> str:
    """The id itself, or ``ValueError`` saying what a valid one looks like."""
    rule = "1-64 letters, digits, '_', '.' or '-', starting with a letter or digit"
    return _checked(gateway_id, _ID_RE, "gateway id", rule)


def check_topic_prefix(prefix: str) -> str:
    """The prefix itself, or ``ValueError`` (no wildcards, no empty levels)."""
    rule = "levels of letters, digits, '_', '.' or '-' separated by single '/'"
    return _checked(prefix, _PREFIX_RE, "topic prefix", rule)


def status_topic(prefix: str, gateway_id: str) -> str:
    """The retained status topic of a gateway."""
    return f"{prefix}/{gateway_id}/status"


def pages_topic(prefix: str, gateway_id: str) -> str:
    """The topic a gateway's batches go to."""
    return f"{prefix}/{gateway_id}/pages"


def split_status_topic(topic: str) -> tuple[str, str]:
    """``<prefix>/<id>/status`` → (prefix, id), or ``MalformedBatchError``."""
    prefix, _, rest = topic.rpartition("/")
    prefix, _, gateway_id = prefix.rpartition("/")
    if rest != "status" or not prefix or not _ID_RE.fullmatch(gateway_id):
        raise MalformedBatchError(f"{_quote(topic)} is not a gateway status topic")
    return prefix, gateway_id


@dataclass(frozen=True, slots=True)
class Batch:
    """One decoded batch; page times are on the gateway's monotonic clock."""

    session: int
    sequence: int
    pages: list[RawPage]


def split_batches(pages: Iterable[RawPage]) -> list[list[RawPage]]:
    """Pages (in receive order) cut where a batch has to end.

    A new batch starts after ``MAX_PAGES`` pages or when a page's time no longer
    fits the 16-bit offset from the batch's base (a backlog after an outage, or a
    time that went backwards).
    """
    out: list[list[RawPage]] = []
    chunk: list[RawPage] = []
    base = 0.0
    for page in pages:
        if chunk and (
            len(chunk) >= MAX_PAGES
            or not 0 <= round((page.timestamp_s - base) * 1000.0) <= MAX_OFFSET_MS
        ):
            out.append(chunk)
            chunk = []
        if not chunk:
            base = page.timestamp_s
        chunk.append(page)
    if chunk:
        out.append(chunk)
    return out


def encode_batch(pages: Sequence[RawPage], session: int, sequence: int) -> bytes:
    """Pages that fit one batch (one of :func:`split_batches`'), as its bytes."""
    if not 1 <= len(pages) <= MAX_PAGES:
        raise ValueError(f"a batch holds 1 to {MAX_PAGES} pages, not {len(pages)}")
    base = pages[0].timestamp_s
    body: list[bytes] = []
    for page in pages:
        if len(page.data) != 8:
            raise ValueError(f"an ANT+ page is 8 bytes, not {len(page.data)}")
        offset_ms = round((page.timestamp_s - base) * 1000.0)
        if not 0 <= offset_ms <= MAX_OFFSET_MS:
            raise ValueError(
                f"a page {offset_ms} ms after the batch's first does not fit one batch"
            )
        body.append(
            _PAGE.pack(
                offset_ms,
                page.device_type,
                page.device_number,
                page.transmission_type,
                page.data,
            )
        )
    header = _HEADER.pack(
        FORMAT_VERSION, session, sequence & 0xFFFFFFFF, base, len(pages)
    )
    return header + b"".join(body)


def encode_batches(
    pages: Iterable[RawPage], session: int, first_sequence: int
) -> list[bytes]:
    """Pages (in receive order) as one batch, or several when they do not fit."""
    return [
        encode_batch(chunk, session, first_sequence + index)
        for index, chunk in enumerate(split_batches(pages))
    ]


def decode_batch(payload: bytes) -> Batch:
    """A batch from its bytes, or ``MalformedBatchError`` naming the first fault."""
    if len(payload) < HEADER_SIZE:
        raise MalformedBatchError(
            f"batch of {len(payload)} bytes is shorter than its "
            f"{HEADER_SIZE}-byte header"
        )
    version, session, sequence, base, count = _HEADER.unpack_from(payload)
    if version != FORMAT_VERSION:
        raise MalformedBatchError(
            f"batch format {version} is not supported (this version reads "
            f"format {FORMAT_VERSION}; update the gateway or the integration)"
        )
    if not 1 <= count <= MAX_PAGES:
        raise MalformedBatchError(
            f"batch announces {count} pages (1 to {MAX_PAGES} allowed)"
        )
    expected = HEADER_SIZE + count * PAGE_SIZE
    if len(payload) != expected:
        raise MalformedBatchError(
            f"batch announces {count} pages ({expected} bytes) "
            f"but has {len(payload)} bytes"
        )
    if not math.isfinite(base) or base < 0:
        raise MalformedBatchError(f"batch base time {base!r} is not a valid time")
    pages = [
        RawPage(
            timestamp_s=base + offset_ms / 1000.0,
            device_type=device_type,
            device_number=device_number,
            transmission_type=transmission_type,
            data=data,
        )
        for offset_ms, device_type, device_number, transmission_type, data in (
            _PAGE.iter_unpack(payload[HEADER_SIZE:])
        )
    ]
    return Batch(session, sequence, pages)


@dataclass(frozen=True, slots=True)
class GatewayStatus:
    """The retained status a gateway publishes (and leaves as its last will)."""

    gateway_id: str
    state: GatewayState
    stick: StickState
    detail: str | None = None
    session: int = 0
    counters: Mapping[str, int] = field(default_factory=dict)

    @property
    def online(self) -> bool:
        """Connected to the broker."""
        return self.state is GatewayState.ONLINE

    @property
    def receiving(self) -> bool:
        """Online with a stick (or the simulated rider) delivering pages."""
        return self.online and self.stick in (
            StickState.CONNECTED,
            StickState.SIMULATED,
        )


def encode_status(status: GatewayStatus) -> bytes:
    """The status as compact JSON."""
    body: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "id": status.gateway_id,
        "state": status.state.value,
        "stick": status.stick.value,
        "session": status.session,
        "counters": dict(status.counters),
    }
    if status.detail is not None:
        body["detail"] = status.detail
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def decode_status(payload: bytes | str) -> GatewayStatus:
    """A status from its JSON, or ``MalformedBatchError`` naming the first fault."""
    try:
        body = json.loads(payload)
    # ValueError: JSON's own errors (which quote nothing), an integer of over 4300
    # digits; RecursionError: arrays nested a thousand deep.
    except (ValueError, RecursionError) as err:
        raise MalformedBatchError(f"gateway status is not JSON ({err})") from None
    if not isinstance(body, dict):
        raise MalformedBatchError("gateway status is not a JSON object")
    if body.get("format") != FORMAT_VERSION:
        raise MalformedBatchError(
            f"gateway status format {_quote(body.get('format'))} is not supported "
            f"(this version reads format {FORMAT_VERSION})"
        )
    gateway_id = body.get("id")
    if not isinstance(gateway_id, str) or not _ID_RE.fullmatch(gateway_id):
        raise MalformedBatchError(
            f"gateway status id {_quote(gateway_id)} is not valid"
        )
    state = _member(GatewayState, body.get("state"), "state")
    stick = _member(StickState, body.get("stick"), "stick")
    detail = body.get("detail")
    if detail is not None:
        if not isinstance(detail, str):
            raise MalformedBatchError("gateway status detail is not text")
        detail = _one_line(detail)
    session = body.get("session", 0)
    counters = body.get("counters", {})
    if not isinstance(session, int) or isinstance(session, bool):
        raise MalformedBatchError("gateway status session is not a number")
    if not isinstance(counters, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in counters.values()
    ):
        raise MalformedBatchError("gateway status counters are not whole numbers")
    return GatewayStatus(gateway_id, state, stick, detail, session, counters)


def _member[E: StrEnum](kind: type[E], value: object, what: str) -> E:
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    raise MalformedBatchError(
        f"gateway status {what} {_quote(value)} is not one of: "
        + ", ".join(member.value for member in kind)
    )


def _one_line(detail: str) -> str:
    """The detail on one line, cut to ``MAX_DETAIL`` characters."""
    line = " ".join(detail.split())
    return line if len(line) <= MAX_DETAIL else line[: MAX_DETAIL - 1] + "…"

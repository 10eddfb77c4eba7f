"""The gateway's wire format: batches and status survive the trip, or say why not."""

from __future__ import annotations

import json
import struct

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ridebalance.ant.pages import RawPage
from custom_components.ridebalance.gateway.wire import (
    HEADER_SIZE,
    MAX_DETAIL,
    MAX_PAGES,
    PAGE_SIZE,
    GatewayState,
    GatewayStatus,
    MalformedBatchError,
    StickState,
    check_gateway_id,
    check_topic_prefix,
    decode_batch,
    decode_status,
    encode_batches,
    encode_status,
    pages_topic,
    split_status_topic,
    status_topic,
)
from custom_components.ridebalance.sim import demo_ride, generate
from custom_components.ridebalance.sim.rider import SimulatedRider


def ride_pages(seconds: float, start_s: float = 1000.0) -> list[RawPage]:
    """The simulated rider's pages, received from ``start_s`` on."""
    rider = SimulatedRider(generate(demo_ride(), 0))
    pages: list[RawPage] = []
    while rider.ride_time_s < seconds:
        for page in rider.next_pages():
            pages.append(
                RawPage(
                    start_s + page.timestamp_s,
                    page.device_type,
                    page.device_number,
                    page.transmission_type,
                    page.data,
                )
            )
    return pages


def decode_all(payloads: list[bytes]) -> list[RawPage]:
    return [page for payload in payloads for page in decode_batch(payload).pages]


def test_a_ride_survives_the_trip_to_the_millisecond() -> None:
    pages = ride_pages(30.0)
    payloads = encode_batches(pages, session=7, first_sequence=41)
    assert len(payloads) == 1
    batch = decode_batch(payloads[0])
    assert (batch.session, batch.sequence) == (7, 41)
    assert len(batch.pages) == len(pages)
    for sent, got in zip(pages, batch.pages, strict=True):
        assert got.data == sent.data
        assert (got.device_type, got.device_number, got.transmission_type) == (
            sent.device_type,
            sent.device_number,
            sent.transmission_type,
        )
        assert got.timestamp_s == pytest.approx(sent.timestamp_s, abs=0.0006)
    assert len(payloads[0]) == HEADER_SIZE + PAGE_SIZE * len(pages)


def test_a_long_backlog_is_split_where_times_no_longer_fit() -> None:
    pages = ride_pages(200.0)  # more than the 65.5 s a batch's offsets span
    payloads = encode_batches(pages, session=1, first_sequence=0xFFFFFFFF)
    assert len(payloads) >= 3
    batches = [decode_batch(p) for p in payloads]
    assert [b.sequence for b in batches[:2]] == [0xFFFFFFFF, 0]  # wraps
    got = decode_all(payloads)
    assert [p.data for p in got] == [p.data for p in pages]
    assert [p.device_number for p in got] == [p.device_number for p in pages]
    for batch in batches:
        assert batch.pages[-1].timestamp_s - batch.pages[0].timestamp_s <= 65.535


def test_more_pages_than_a_batch_holds_are_split() -> None:
    page = RawPage(5.0, 11, 1, 5, bytes(8))
    payloads = encode_batches([page] * (MAX_PAGES + 1), session=1, first_sequence=0)
    assert [len(decode_batch(p).pages) for p in payloads] == [MAX_PAGES, 1]


def test_a_page_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="8 bytes, not 7"):
        encode_batches([RawPage(1.0, 11, 1, 5, bytes(7))], session=1, first_sequence=0)


@settings(derandomize=True, max_examples=300)
@given(
    st.lists(
        st.tuples(
            st.floats(0.0, 60.0),
            st.integers(0, 255),
            st.integers(0, 0xFFFF),
            st.integers(0, 255),
            st.binary(min_size=8, max_size=8),
        ),
        min_size=1,
        max_size=50,
    ),
    st.integers(0, 0xFFFFFFFF),
)
def test_any_pages_round_trip(
    fields: list[tuple[float, int, int, int, bytes]], session: int
) -> None:
    times = sorted(f[0] for f in fields)
    pages = [
        RawPage(1e6 + t, dt, dn, tt, data)
        for t, (_, dt, dn, tt, data) in zip(times, fields, strict=True)
    ]
    got = decode_all(encode_batches(pages, session, 0))
    assert [
        (p.device_type, p.device_number, p.transmission_type, p.data) for p in got
    ] == [(p.device_type, p.device_number, p.transmission_type, p.data) for p in pages]
    for sent, back in zip(pages, got, strict=True):
        assert back.timestamp_s == pytest.approx(sent.timestamp_s, abs=0.0006)


@settings(derandomize=True, max_examples=500)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_say_why_in_one_line(payload: bytes) -> None:
    message = ""
    try:
        batch = decode_batch(payload)
    except MalformedBatchError as err:
        message = str(err)
    if message:
        assert "\n" not in message
    else:
        assert len(payload) == HEADER_SIZE + PAGE_SIZE * len(batch.pages)


def _good() -> bytes:
    return encode_batches([RawPage(3.0, 11, 9, 5, bytes(8))] * 2, 1, 0)[0]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "0 bytes is shorter than its 19-byte header"),
        (_good()[:18], "18 bytes is shorter"),
        (b"\x02" + _good()[1:], "format 2 is not supported"),
        (_good()[:-1], "announces 2 pages (47 bytes) but has 46 bytes"),
        (_good() + bytes(14), "announces 2 pages (47 bytes) but has 61 bytes"),
        (_good()[:17] + struct.pack("<H", 0) + _good()[19:], "announces 0 pages"),
        (
            _good()[:9] + struct.pack("<d", float("nan")) + _good()[17:],
            "base time nan is not a valid time",
        ),
        (
            _good()[:9] + struct.pack("<d", -1.0) + _good()[17:],
            "base time -1.0 is not a valid time",
        ),
    ],
)
def test_malformed_batches_name_the_fault(payload: bytes, message: str) -> None:
    with pytest.raises(
        MalformedBatchError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        decode_batch(payload)


def test_status_round_trip() -> None:
    status = GatewayStatus(
        "gym-pi",
        GatewayState.ONLINE,
        StickState.CONNECTED,
        "continuous scan",
        session=12,
        counters={"pages_in": 10},
    )
    back = decode_status(encode_status(status))
    assert back == status
    assert back.receiving
    offline = GatewayStatus("gym-pi", GatewayState.OFFLINE, StickState.CONNECTED)
    assert not decode_status(encode_status(offline)).receiving
    unplugged = GatewayStatus("gym-pi", GatewayState.ONLINE, StickState.DISCONNECTED)
    assert not unplugged.receiving


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\xff", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"format": 2}', "format 2 is not supported"),
        (b'{"format": 1, "id": "a/b"}', "id 'a/b' is not valid"),
        (
            b'{"format": 1, "id": "g", "state": "asleep", "stick": "connected"}',
            "state 'asleep' is not one of: online, offline",
        ),
        (
            b'{"format": 1, "id": "g", "state": "online", "stick": ["usb"]}',
            r"stick \['usb'\] is not one of: connected, connecting, disconnected",
        ),
        pytest.param(b'{"format": 1' + b"1" * 5000 + b"}", "not JSON", id="huge-int"),
        pytest.param(b"[" * 100_000, "not JSON", id="deep-nesting"),
        (
            b'{"format": 1, "id": "g", "state": "online", "stick": "connected",'
            b' "detail": 3}',
            "detail is not text",
        ),
        (
            b'{"format": 1, "id": "g", "state": "online", "stick": "connected",'
            b' "session": "x"}',
            "session is not a number",
        ),
        (
            b'{"format": 1, "id": "g", "state": "online", "stick": "connected",'
            b' "counters": {"a": 1.5}}',
            "counters are not whole numbers",
        ),
    ],
)
def test_malformed_status_names_the_fault(payload: bytes, message: str) -> None:
    with pytest.raises(MalformedBatchError, match=message) as err:
        decode_status(payload)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "field", ["format", "id", "state", "stick", "detail", "session", "counters"]
)
def test_a_huge_status_value_is_refused_without_quoting_it_whole(field: str) -> None:
    """What a broken or hostile client sends stays out of Home Assistant's log."""
    body: dict[str, object] = {
        "format": 1,
        "id": "g",
        "state": "online",
        "stick": "connected",
        field: ["x" * 100_000] if field == "detail" else "x" * 100_000,
    }
    with pytest.raises(MalformedBatchError, match=field) as err:
        decode_status(json.dumps(body))
    assert len(str(err.value)) < 200
    assert "x" * 50 not in str(err.value)


def test_a_long_detail_is_kept_to_one_short_line() -> None:
    """The detail reaches Home Assistant's log and repair issues: cut, one line."""
    body = {
        "format": 1,
        "id": "g",
        "state": "online",
        "stick": "error",
        "detail": "ANT+ stick busy\nERROR forged log line " + "y" * 10_000,
    }
    detail = decode_status(json.dumps(body)).detail
    assert detail is not None
    assert len(detail) == MAX_DETAIL
    assert detail.startswith("ANT+ stick busy ERROR forged log line yyy")
    assert detail.endswith("y…")
    short = {**body, "detail": "ANT+ stick not found"}
    assert decode_status(json.dumps(short)).detail == "ANT+ stick not found"


def test_a_huge_topic_or_name_is_not_quoted_whole() -> None:
    with pytest.raises(MalformedBatchError) as err:
        split_status_topic("a/" + "b" * 100_000 + "/pages")
    assert len(str(err.value)) < 100
    with pytest.raises(ValueError, match="not usable") as bad_id:
        check_gateway_id("#" * 100_000)
    assert len(str(bad_id.value)) < 200


def test_topics_and_names() -> None:
    assert status_topic("ridebalance", "gym-pi") == "ridebalance/gym-pi/status"
    assert pages_topic("home/bike", "pi") == "home/bike/pi/pages"
    assert split_status_topic("home/bike/pi/status") == ("home/bike", "pi")
    for bad in ("ridebalance/pi/pages", "pi/status", "ridebalance/a+/status"):
        with pytest.raises(MalformedBatchError):
            split_status_topic(bad)
    assert check_gateway_id("garage.pi-2") == "garage.pi-2"
    for bad_id in ("", "-x", "a/b", "a+", "#", "x" * 65):
        with pytest.raises(ValueError, match="not usable"):
            check_gateway_id(bad_id)
    assert check_topic_prefix("home/bike") == "home/bike"
    for bad_prefix in ("", "/x", "x/", "a//b", "a/+", "#"):
        with pytest.raises(ValueError, match="not usable"):
            check_topic_prefix(bad_prefix)

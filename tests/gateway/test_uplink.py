"""The uplink against a real mosquitto: pacing, the bounded backlog, the status."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
import logging
import time

import pytest

from custom_components.ridebalance.ant.pages import RawPage
from custom_components.ridebalance.gateway.uplink import BrokerSettings, Uplink
from custom_components.ridebalance.gateway.wire import (
    GatewayState,
    StickState,
    decode_batch,
    decode_status,
)
from tests.mqtt_broker import Broker, Listener

pytestmark = pytest.mark.usefixtures("socket_enabled")
PAGES = "ridebalance/up/pages"
STATUS = "ridebalance/up/status"
PASSWORD = "s3cret-pw"


def page(index: int) -> RawPage:
    """A power page that carries its own index, to follow it through the broker."""
    return RawPage(
        time.monotonic(), 11, 5000 + index % 3, 5, index.to_bytes(4) + bytes(4)
    )


def index_of(raw: RawPage) -> int:
    return int.from_bytes(raw.data[:4])


@pytest.fixture
def make_uplink() -> Iterator[Callable[..., Uplink]]:
    uplinks: list[Uplink] = []

    def make(broker: Broker, **kwargs: float) -> Uplink:
        settings = replace(
            BrokerSettings.from_url(broker.url), reconnect_max_s=1, keepalive_s=5
        )
        uplink = Uplink(settings, "up", topic_prefix="ridebalance", **kwargs)  # type: ignore[arg-type]
        uplinks.append(uplink)
        uplink.start()
        return uplink

    yield make
    for uplink in uplinks:
        uplink.stop()


def test_pages_leave_paced_at_most_once_an_interval(
    mosquitto: Broker,
    listen: Callable[..., Listener],
    make_uplink: Callable[..., Uplink],
) -> None:
    listener = listen(mosquitto, "ridebalance/up/#")
    uplink = make_uplink(mosquitto)
    listener.wait_for(lambda: uplink.connected, what="the connection")
    # A crowded gym: 22 devices at 4 Hz, handed over 40 times a second.
    started = time.monotonic()
    sent = 0
    while time.monotonic() - started < 2.0:
        uplink.add_pages([page(sent + i) for i in range(2)])
        sent += 2
        time.sleep(0.025)
    listener.wait_for(
        lambda: (
            sum(len(decode_batch(m.payload).pages) for m in listener.on(PAGES)) == sent
        ),
        what="every page",
    )
    elapsed = time.monotonic() - started
    batches = [decode_batch(m.payload) for m in listener.on(PAGES)]
    # 4 intervals a second; the pacer's own wake-ups bound the count, not timing luck.
    assert len(batches) <= elapsed / 0.25 + 1
    assert [index_of(p) for b in batches for p in b.pages] == list(range(sent))
    assert [b.sequence for b in batches] == list(range(len(batches)))


def test_broker_away_keeps_the_newest_pages_and_counts_the_rest(
    own_broker: Broker,
    listen: Callable[..., Listener],
    make_uplink: Callable[..., Uplink],
) -> None:
    own_broker.stop()
    uplink = make_uplink(own_broker, interval_s=0.02, backlog_limit=8)
    for index in range(30):
        uplink.add_pages([page(index)])
        time.sleep(0.04)  # one hand-over per interval, at least
    counters = uplink.counters()
    assert not uplink.connected
    assert counters["backlog"] == 8
    assert counters["batches_dropped"] >= 30 - 8 - 3  # a hand-over may share one
    assert counters["pages_dropped"] + 8 <= 30
    assert uplink.broker_error == "the broker cannot be reached"

    own_broker.start()
    listener = listen(own_broker, "ridebalance/up/#")
    listener.wait_for(lambda: uplink.connected, 15, "the reconnection")
    listener.wait_for(lambda: uplink.counters()["backlog"] == 0, what="the drain")
    listener.wait_for(lambda: bool(listener.on(PAGES)), what="the backlog")
    # The status on connecting leaves after the connection is marked up, so the
    # pacer's first message may overtake it.
    listener.wait_for(lambda: bool(listener.on(STATUS)), what="the status")
    after = uplink.counters()
    received = [
        index_of(p) for m in listener.on(PAGES) for p in decode_batch(m.payload).pages
    ]
    # The oldest went; the newest arrive, in order, none twice.
    assert received == list(range(30 - len(received), 30))
    assert len(received) == 30 - after["pages_dropped"]
    status = decode_status(listener.on(STATUS)[-1].payload)
    assert status.online
    assert status.counters["pages_dropped"] == after["pages_dropped"]


def test_stick_changes_reach_the_retained_status(
    mosquitto: Broker,
    listen: Callable[..., Listener],
    make_uplink: Callable[..., Uplink],
) -> None:
    uplink = make_uplink(mosquitto)
    listener = listen(mosquitto, STATUS)
    # The status sent on connecting first, or it could carry the change as well.

    def said_connected() -> bool:
        return any(
            decode_status(m.payload).state is GatewayState.ONLINE
            and decode_status(m.payload).stick is StickState.CONNECTING
            for m in listener.on(STATUS)
        )

    listener.wait_for(said_connected, what="the status on connecting")
    uplink.set_stick(StickState.DISCONNECTED, "ANT+ stick not found")
    uplink.set_stick(StickState.DISCONNECTED, "ANT+ stick not found")  # no change

    def said_unplugged() -> bool:
        return any(
            decode_status(m.payload).stick is StickState.DISCONNECTED
            for m in listener.on(STATUS)
        )

    listener.wait_for(said_unplugged, what="the unplugged status")
    unplugged = [
        m for m in listener.on(STATUS) if b'"stick":"disconnected"' in m.payload
    ]
    assert len(unplugged) == 1
    status = decode_status(unplugged[0].payload)
    assert (status.state, status.detail) == (
        GatewayState.ONLINE,
        "ANT+ stick not found",
    )
    assert not status.receiving


def test_a_broker_that_refuses_the_login_is_named_and_logged_once(
    strict_broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    """Credentials the broker does not accept: the reason, logged once, retried;
    the password in no log line and no reason."""
    caplog.set_level(logging.DEBUG)
    settings = replace(
        BrokerSettings.from_url(
            f"mqtt://rider:{PASSWORD}@127.0.0.1:{strict_broker.port}"
        ),
        reconnect_max_s=1,
    )
    uplink = Uplink(settings, "up", topic_prefix="ridebalance")
    uplink.start()
    try:
        # Three refusals at the broker: the uplink has retried twice.
        deadline = time.monotonic() + 10
        while strict_broker.log().count("not authorised") < 3:
            assert time.monotonic() < deadline, strict_broker.log()
            time.sleep(0.05)
        uplink.add_pages([page(0)])
        time.sleep(0.3)
        assert not uplink.connected
        assert uplink.broker_error is not None
        assert "refused the connection" in uplink.broker_error
        assert uplink.backlog == 1  # kept for when the login works
    finally:
        assert not uplink.stop()  # nothing could be announced
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith(
        f"Broker mqtt://rider@127.0.0.1:{strict_broker.port}: the broker refused "
        "the connection"
    )
    assert warnings[1] == (
        "Pages not sent on stopping, counted as dropped: 1 in 1 intervals "
        "(the broker is away)"
    )
    assert PASSWORD not in caplog.text
    assert PASSWORD not in uplink.broker_error


def test_stopping_sends_everything_left_then_says_offline(
    mosquitto: Broker,
    listen: Callable[..., Listener],
    make_uplink: Callable[..., Uplink],
) -> None:
    """More pages than one message holds, and the next interval far off: all go."""
    listener = listen(mosquitto, "ridebalance/up/#")
    uplink = make_uplink(mosquitto, interval_s=60.0)
    listener.wait_for(lambda: uplink.connected, what="the connection")
    pages = 3 * 1024 - 100  # three messages; the pacer sends one, then waits
    uplink.add_pages([page(index) for index in range(pages)])
    listener.wait_for(lambda: bool(listener.on(PAGES)), what="the pacer's message")
    assert uplink.stop()
    listener.wait_for(
        lambda: (
            decode_status(listener.on(STATUS)[-1].payload).state is GatewayState.OFFLINE
        ),
        what="the offline status",
    )
    received = [
        index_of(p) for m in listener.on(PAGES) for p in decode_batch(m.payload).pages
    ]
    assert received == list(range(pages))
    goodbye = decode_status(listener.on(STATUS)[-1].payload)
    assert goodbye.counters["pages_sent"] == pages
    assert goodbye.counters["batches_sent"] == 3
    assert goodbye.counters["pages_dropped"] == 0
    assert goodbye.counters["backlog"] == 0


def test_stopping_with_the_broker_away_counts_what_is_lost(
    own_broker: Broker,
    make_uplink: Callable[..., Uplink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    own_broker.stop()
    uplink = make_uplink(own_broker, interval_s=0.02)
    for index in range(10):
        uplink.add_pages([page(index)])
        time.sleep(0.03)
    assert not uplink.stop()
    counters = uplink.counters()
    # The terminal's last line: nothing waiting any more, every page dropped.
    assert counters["backlog"] == 0
    assert counters["pages_dropped"] == counters["pages_in"] == 10
    assert counters["pages_sent"] == 0
    lost = [r for r in caplog.records if "not sent" in r.getMessage()]
    assert [r.getMessage() for r in lost] == [
        "Pages not sent on stopping, counted as dropped: 10 in "
        f"{counters['batches_dropped']} intervals (the broker is away)"
    ]


def test_a_batch_that_fails_to_send_is_counted_and_the_pacer_goes_on(
    mosquitto: Broker,
    listen: Callable[..., Listener],
    make_uplink: Callable[..., Uplink],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A page the format cannot hold fails its batch: that batch is dropped and
    counted, the error logged once, and later pages still go (the pacer lives)."""
    listener = listen(mosquitto, "ridebalance/up/#")
    uplink = make_uplink(mosquitto, interval_s=0.05)
    listener.wait_for(lambda: uplink.connected, what="the connection")
    for _ in range(2):
        uplink.add_pages([replace(page(0), data=bytes(7))])
        time.sleep(0.2)
    uplink.add_pages([page(1)])
    listener.wait_for(lambda: bool(listener.on(PAGES)), what="the later page")
    received = [
        index_of(p) for m in listener.on(PAGES) for p in decode_batch(m.payload).pages
    ]
    assert received == [1]
    counters = uplink.counters()
    assert counters["pages_dropped"] == counters["batches_dropped"] == 2
    assert counters["send_errors"] == 2
    failed = [r for r in caplog.records if "could not be sent" in r.getMessage()]
    assert len(failed) == 1


def test_pages_whose_time_went_backwards_are_sent_not_lost(
    mosquitto: Broker,
    listen: Callable[..., Listener],
    make_uplink: Callable[..., Uplink],
) -> None:
    """Two pages that cannot share a batch: two messages, neither page lost."""
    listener = listen(mosquitto, "ridebalance/up/#")
    uplink = make_uplink(mosquitto, interval_s=0.05)
    listener.wait_for(lambda: uplink.connected, what="the connection")
    later, earlier = page(0), replace(page(1), timestamp_s=time.monotonic() - 1.0)
    uplink.add_pages([later, earlier])
    listener.wait_for(lambda: len(listener.on(PAGES)) == 2, what="both pages")
    batches = [decode_batch(m.payload) for m in listener.on(PAGES)]
    assert [[index_of(p) for p in b.pages] for b in batches] == [[0], [1]]
    assert [b.sequence for b in batches] == [0, 1]
    assert uplink.counters()["pages_sent"] == 2

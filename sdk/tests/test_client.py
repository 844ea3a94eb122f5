"""The client against an in-memory gateway: batching, retries, rejections, queue policies."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from accord.runtime.waiting import wait_until
from accord.sdk import (
    Client,
    ClientClosedError,
    ClientConfig,
    ConfigError,
    NaiveDatetimeError,
    NotAnEventError,
    QueueFullError,
    RejectedEvent,
)
from accord.sdk.codec import codec_for
from accord.sdk.events import Envelope, PageView, Purchase
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE

from .fake_gateway import FakeGateway, Request, network_error, outage

pytestmark = pytest.mark.unit

URL = "http://gateway.test"


@pytest.fixture
def gateway() -> FakeGateway:
    fake = FakeGateway()
    fake.register(PageView.SUBJECT, PageView.AVRO_SCHEMA)
    fake.register(Purchase.SUBJECT, Purchase.AVRO_SCHEMA)
    return fake


def fast(**overrides: object) -> ClientConfig:
    """Settings that keep unit tests quick: short linger and backoff."""
    values: dict[str, object] = {"linger_s": 0.01, "backoff_base_s": 0.01, "backoff_max_s": 0.05}
    values.update(overrides)
    return ClientConfig(**values)  # type: ignore[arg-type]


def page(n: int) -> PageView:
    return PageView(url=f"https://example.com/{n}", envelope=Envelope(user_id=f"u{n % 7}"))


def test_tracked_events_arrive_framed_with_their_schema_id_and_decode_to_what_was_tracked(
    gateway: FakeGateway,
) -> None:
    purchase = Purchase(order_id="o-1", amount=Decimal("19.90"), currency="EUR")
    with Client(URL, "key", fast(), http_transport=gateway.transport) as client:
        assert client.track(page(1))
        assert client.track(purchase)
    received = [e for r in gateway.requests for e in r.events]
    assert [e.get("url") for e in received] == ["https://example.com/1", None]
    assert received[1]["amount"] == Decimal("19.90")
    assert received[1]["envelope"]["event_id"] == purchase.envelope.event_id
    ids = [i for r in gateway.requests for i in r.schema_ids]
    assert ids == [gateway.schema_id(PageView.SUBJECT), gateway.schema_id(Purchase.SUBJECT)]
    assert received[0]["envelope"]["context"]["library_name"] == "accord-sdk-python"
    assert client.counters.sent == 2
    assert client.counters.queued == 0


def test_each_subject_is_resolved_once_for_the_clients_life(gateway: FakeGateway) -> None:
    with Client(URL, "key", fast(batch_size=3), http_transport=gateway.transport) as client:
        for n in range(10):
            client.track(page(n))
    assert gateway.resolves == [PageView.SUBJECT]


def test_requests_carry_the_write_key_gzip_and_an_rfc3339_sent_at(gateway: FakeGateway) -> None:
    with Client(URL, "secret-key", fast(), http_transport=gateway.transport) as client:
        client.track(page(1))
    headers = gateway.requests[0].headers
    assert headers["authorization"] == "Bearer secret-key"
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"] == AVRO_BATCH_MEDIA_TYPE
    sent_at = datetime.fromisoformat(headers["accord-sent-at"])
    assert sent_at.tzinfo is not None
    assert abs((datetime.now(UTC) - sent_at).total_seconds()) < 60


def test_batches_are_cut_by_count(gateway: FakeGateway) -> None:
    with Client(URL, "key", fast(batch_size=10, linger_s=5), http_transport=gateway.transport) as client:
        for n in range(25):
            client.track(page(n))
        assert client.flush(5)
    assert [len(r.events) for r in gateway.requests] == [10, 10, 5]


def test_batches_are_cut_by_bytes(gateway: FakeGateway) -> None:
    one = len(PageView(url="https://example.com/0").to_avro()["url"]) + 60
    config = fast(batch_bytes=one * 3, linger_s=5)
    with Client(URL, "key", config, http_transport=gateway.transport) as client:
        for n in range(9):
            client.track(page(n))
        assert client.flush(5)
    assert max(len(r.events) for r in gateway.requests) <= 3
    assert sum(len(r.events) for r in gateway.requests) == 9


def test_a_lone_event_leaves_after_the_linger_time_without_a_flush(gateway: FakeGateway) -> None:
    client = Client(URL, "key", fast(linger_s=0.05), http_transport=gateway.transport)
    client.track(page(1))
    wait_until(lambda: gateway.requests, timeout_s=5, interval_s=0.01, describe="the lone event's request")
    assert len(gateway.requests) == 1
    client.close()


def test_outages_are_retried_with_the_same_event_ids(gateway: FakeGateway) -> None:
    gateway.behaviours = [outage(503, "0"), network_error(), outage(500)]
    events = [page(n) for n in range(4)]
    with Client(URL, "key", fast(), http_transport=gateway.transport) as client:
        for event in events:
            client.track(event)
        assert client.flush(10)
        counters = client.counters
    assert gateway.event_ids() == [str(e.envelope.event_id) for e in events]
    assert counters.sent == 4
    assert counters.retried == 3 * 4
    assert counters.dropped == counters.rejected == 0


def test_sent_at_is_stamped_again_on_each_attempt(gateway: FakeGateway) -> None:
    stamps: list[str] = []

    def remember_then_fail(request: Request) -> httpx.Response:
        stamps.append(request.headers["accord-sent-at"])
        return httpx.Response(503, headers={"Retry-After": "0.05"})

    gateway.behaviours = [remember_then_fail, remember_then_fail]
    with Client(URL, "key", fast(), http_transport=gateway.transport) as client:
        client.track(page(1))
    stamps.append(gateway.requests[0].headers["accord-sent-at"])
    assert len(set(stamps)) == 3


def test_retry_after_is_honoured(gateway: FakeGateway) -> None:
    attempts: list[float] = []

    def too_many(_request: Request) -> httpx.Response:
        attempts.append(time.monotonic())
        return httpx.Response(429, headers={"Retry-After": "1"})

    gateway.behaviours = [too_many]
    with Client(URL, "key", fast(), http_transport=gateway.transport) as client:
        client.track(page(1))
        assert client.flush(10)
        finished = time.monotonic()
    assert finished - attempts[0] >= 0.95
    assert client.counters.sent == 1


def test_rejected_events_go_to_the_callback_once_and_are_counted(gateway: FakeGateway) -> None:
    def reject_second(request: Request) -> httpx.Response:
        gateway.requests.append(request)
        rejected = [{"index": 1, "event_id": "x", "code": "wrong_type", "field": "url", "message": "bad"}]
        return httpx.Response(207, json={"accepted": 2, "duplicates": 0, "rejected": rejected})

    gateway.behaviours = [reject_second]
    seen: list[RejectedEvent] = []
    events = [page(n) for n in range(3)]
    with Client(URL, "key", fast(), on_rejected=seen.append, http_transport=gateway.transport) as client:
        for event in events:
            client.track(event)
    assert seen == [
        RejectedEvent(str(events[1].envelope.event_id), PageView.SUBJECT, "wrong_type", "url", "bad")
    ]
    assert client.counters.rejected == 1
    assert client.counters.sent == 2
    assert client.counters.retried == 0
    assert len(gateway.requests) == 1


def test_a_refused_request_rejects_its_events_without_retrying(gateway: FakeGateway) -> None:
    gateway.behaviours = [outage(401)]
    seen: list[RejectedEvent] = []
    with Client(URL, "bad-key", fast(), on_rejected=seen.append, http_transport=gateway.transport) as client:
        client.track(page(1))
        client.track(page(2))
    assert [r.code for r in seen] == ["x", "x"]
    assert client.counters.rejected == 2
    assert client.counters.retried == 0


def test_a_batch_too_large_for_the_gateway_is_split(gateway: FakeGateway) -> None:
    gateway.behaviours = [outage(413)]
    with Client(URL, "key", fast(linger_s=1), http_transport=gateway.transport) as client:
        for n in range(6):
            client.track(page(n))
    assert [len(r.events) for r in gateway.requests] == [3, 3]
    assert client.counters.sent == 6


def test_events_of_an_unregistered_schema_are_rejected_as_such() -> None:
    gateway = FakeGateway()
    seen: list[RejectedEvent] = []
    with Client(URL, "key", fast(), on_rejected=seen.append, http_transport=gateway.transport) as client:
        client.track(page(1))
    assert [r.code for r in seen] == ["schema_not_registered"]
    assert client.counters.rejected == 1


def test_an_invalid_event_raises_at_track_and_nothing_is_sent(gateway: FakeGateway) -> None:
    with Client(URL, "key", fast(), http_transport=gateway.transport) as client:
        with pytest.raises(NaiveDatetimeError, match=r"PageView\.envelope\.event_time"):
            client.track(PageView(url="u", envelope=Envelope(event_time=datetime(2026, 1, 1))))
        with pytest.raises(NotAnEventError):
            client.track("page_view")  # type: ignore[arg-type]
        client.track(page(1))
    assert len(gateway.event_ids()) == 1
    assert client.counters.sent == 1


def test_the_drop_policy_counts_exactly_what_it_dropped(gateway: FakeGateway) -> None:
    release = threading.Event()

    def stall(request: Request) -> httpx.Response | None:
        release.wait(10)
        return None

    gateway.behaviours = [stall]
    config = fast(queue_size=5, batch_size=2, when_full="drop")
    client = Client(URL, "key", config, http_transport=gateway.transport)
    queued = [client.track(page(n)) for n in range(40)]
    release.set()
    assert client.flush(10)
    counters = client.counters
    client.close()
    assert queued.count(False) == counters.dropped > 0
    assert queued.count(True) == counters.sent == len(gateway.event_ids())
    assert counters.sent + counters.dropped == 40


def test_the_block_policy_waits_then_raises_and_counts_the_drop(gateway: FakeGateway) -> None:
    taken, release = threading.Event(), threading.Event()

    def stall(_request: object) -> None:
        taken.set()
        release.wait(10)

    gateway.behaviours = [stall]
    config = fast(queue_size=1, batch_size=1, when_full="block", block_timeout_s=0.2)
    client = Client(URL, "key", config, http_transport=gateway.transport)
    client.track(page(0))
    wait_until(taken.is_set, timeout_s=5, describe="the sender to take the first event and stall")
    client.track(page(1))  # fills the queue
    started = time.monotonic()
    with pytest.raises(QueueFullError, match="stayed full"):
        client.track(page(2))
    assert time.monotonic() - started >= 0.19
    release.set()
    client.close()
    assert client.counters.dropped == 1
    assert client.counters.sent == 2


def test_close_gives_up_after_its_timeout_when_the_gateway_stays_down(gateway: FakeGateway) -> None:
    gateway.behaviours = [outage(503)] * 1000
    client = Client(URL, "key", fast(), http_transport=gateway.transport)
    for n in range(3):
        client.track(page(n))
    started = time.monotonic()
    assert client.close(timeout=0.3) is False
    assert time.monotonic() - started < 5
    assert client.counters.dropped == 3
    assert client.counters.retried >= 3
    with pytest.raises(ClientClosedError):
        client.track(page(4))


def test_max_retries_bounds_the_attempts_then_the_events_are_rejected(gateway: FakeGateway) -> None:
    gateway.behaviours = [outage(503)] * 10
    rejected: list[RejectedEvent] = []
    with Client(
        URL, "key", fast(max_retries=2), http_transport=gateway.transport, on_rejected=rejected.append
    ) as client:
        event = page(1)
        client.track(event)
        assert client.flush(5)
    assert [(r.event_id, r.code) for r in rejected] == [(str(event.envelope.event_id), "retries_exhausted")]
    assert "3 attempts" in rejected[0].message
    assert (client.counters.rejected, client.counters.dropped, client.counters.retried) == (1, 0, 2)


def test_retries_stop_after_retry_timeout_and_later_events_still_go(gateway: FakeGateway) -> None:
    gateway.behaviours = [outage(503)] * 30
    rejected: list[RejectedEvent] = []
    config = fast(retry_timeout_s=0.3, backoff_base_s=0.05, backoff_max_s=0.1)
    with Client(URL, "key", config, http_transport=gateway.transport, on_rejected=rejected.append) as client:
        client.track(page(1))
        started = time.monotonic()
        assert client.flush(10)
        assert time.monotonic() - started < 5
        assert [r.code for r in rejected] == ["retries_exhausted"]
        gateway.behaviours.clear()
        client.track(page(2))
        assert client.flush(5)
    assert client.counters.sent == 1
    assert client.counters.rejected == 1
    assert len(gateway.event_ids()) == 1


def test_by_default_retries_are_bounded_in_time() -> None:
    assert ClientConfig().retry_timeout_s == 600
    assert ClientConfig(retry_timeout_s=None).retry_timeout_s is None


def test_a_schema_id_that_cannot_be_resolved_in_time_rejects_its_events(gateway: FakeGateway) -> None:
    resolve_outage = httpx.MockTransport(
        lambda request: (
            httpx.Response(503, json={"error": {"code": "registry_unavailable", "message": "down"}})
            if request.url.path == "/v1/schemas/resolve"
            else gateway.handle(request)
        )
    )
    rejected: list[RejectedEvent] = []
    with Client(
        URL, "key", fast(retry_timeout_s=0.2), http_transport=resolve_outage, on_rejected=rejected.append
    ) as client:
        client.track(page(1))
        assert client.flush(5)
    assert [r.code for r in rejected] == ["retries_exhausted"]
    assert rejected[0].message.startswith("the gateway did not resolve the schema id")


@pytest.mark.parametrize("mode", ["avro", "json"])
def test_an_event_larger_than_the_gateway_takes_is_rejected_locally_and_never_sent(
    gateway: FakeGateway, mode: str
) -> None:
    rejected: list[RejectedEvent] = []
    threads: list[str] = []

    def on_rejected(rejection: RejectedEvent) -> None:
        threads.append(threading.current_thread().name)
        rejected.append(rejection)

    big = PageView(url="https://x/" + "a" * 800_000)
    normal = [page(n) for n in range(5)]
    with Client(
        URL, "key", fast(mode=mode), http_transport=gateway.transport, on_rejected=on_rejected
    ) as client:
        assert client.track(big)
        for event in normal:
            client.track(event)
        assert client.flush(60)
    assert [(r.event_id, r.code) for r in rejected] == [(str(big.envelope.event_id), "event_too_large")]
    assert "64000" in rejected[0].message
    assert threads == ["accord-sdk-sender"]
    assert sorted(gateway.event_ids()) == sorted(str(e.envelope.event_id) for e in normal)
    assert (client.counters.sent, client.counters.rejected, client.counters.dropped) == (5, 1, 0)


def test_the_size_check_is_exact_at_max_event_bytes(gateway: FakeGateway) -> None:
    small, large = PageView(url="https://x/" + "a" * 2_000), PageView(url="https://x/" + "a" * 2_001)
    with Client(URL, "key", fast(), http_transport=gateway.transport) as client:
        client.track(small)  # fills in their ids and times, so that their sizes are known
        client.track(large)
    limit = 5 + len(codec_for(small).encode(small.to_avro()))
    large_body = codec_for(large).encode(large.to_avro())
    assert 5 + len(large_body) == limit + 1
    rejected: list[RejectedEvent] = []
    config = fast(max_event_bytes=limit)
    with Client(URL, "key", config, http_transport=gateway.transport, on_rejected=rejected.append) as client:
        client.track(small)
        client.track(large)
        client.track_encoded(PageView, large_body, "encoded-1")
        assert client.flush(5)
    assert [r.event_id for r in rejected] == [str(large.envelope.event_id), "encoded-1"]
    assert client.counters.sent == 1


def test_many_threads_tracking_at_once_each_event_arrives_once(gateway: FakeGateway) -> None:
    with Client(URL, "key", fast(batch_size=50), http_transport=gateway.transport) as client:

        def work(offset: int) -> list[str]:
            events = [page(offset + n) for n in range(200)]
            for event in events:
                client.track(event)
            return [str(e.envelope.event_id) for e in events]

        results: list[list[str]] = []
        threads = [threading.Thread(target=lambda o=o: results.append(work(o))) for o in range(0, 1600, 200)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    tracked = sorted(i for ids in results for i in ids)
    assert sorted(gateway.event_ids()) == tracked
    assert len(set(tracked)) == 1600


def test_json_mode_sends_the_gateways_json_form(gateway: FakeGateway) -> None:
    event = Purchase(order_id="o-9", amount=Decimal("5.00"), currency="EUR")
    with Client(URL, "key", fast(mode="json"), http_transport=gateway.transport) as client:
        client.track(event)
    document = gateway.requests[0].json_body
    assert document is not None
    assert datetime.fromisoformat(document["sent_at"]).tzinfo is not None
    item = document["events"][0]
    assert item["schema"] == Purchase.SUBJECT
    payload = item["payload"]
    assert payload["envelope"]["event_id"] == str(event.envelope.event_id)
    assert payload["envelope"]["event_time"] == int(event.envelope.event_time.timestamp() * 1000)
    assert payload["amount"] == "5.00"
    assert payload["coupon"] is None
    assert gateway.resolves == []


def test_a_forked_child_gets_its_own_queue_and_sender(gateway: FakeGateway) -> None:
    client = Client(URL, "key", fast(), http_transport=gateway.transport)
    client.track(page(0))
    assert client.flush(5)
    pid = os.fork()
    if pid == 0:  # the child: its copy must still send, and only its own events
        ok = client.track(page(1)) and client.flush(5) and client.counters.sent == 1
        ok = ok and len(gateway.event_ids()) == 2
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    client.close()
    assert client.counters.sent == 1


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"when_full": "wait"}, "when_full"),
        ({"linger_s": -1}, "linger_s"),
        ({"mode": "xml"}, "mode"),
        ({"max_retries": -1}, "max_retries"),
        ({"retry_timeout_s": -1}, "retry_timeout_s"),
        ({"max_event_bytes": 0}, "max_event_bytes"),
    ],
)
def test_bad_settings_name_the_setting(settings: dict[str, object], name: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}: "):
        ClientConfig(**settings)  # type: ignore[arg-type]


def test_a_gateway_url_without_a_scheme_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^gateway_url: "):
        Client("gateway:8080", "key")


def test_track_encoded_needs_avro_mode_and_an_event_class(gateway: FakeGateway) -> None:
    json_client = Client(URL, "key", fast(mode="json"), http_transport=gateway.transport)
    with json_client, pytest.raises(ConfigError, match=r"^mode: track_encoded sends Avro bodies"):
        json_client.track_encoded(PageView, b"\x00", "id")
    avro_client = Client(URL, "key", fast(), http_transport=gateway.transport)
    with avro_client, pytest.raises(ConfigError, match=r"^event_class: "):
        avro_client.track_encoded(dict, b"\x00", "id")  # type: ignore[arg-type]

"""The SDK against the real gateway, registry and Kafka broker: what is tracked is what arrives."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from decimal import Decimal
from typing import Any

import pytest

from accord.gateway.testing import GatewayFactory, GatewayHandle
from accord.runtime.ports import free_port
from accord.runtime.testing import BrokerHandle
from accord.runtime.waiting import wait_until
from accord.sdk import Client, ClientConfig, RejectedEvent
from accord.sdk.codec import codec_for
from accord.sdk.events import (
    Context,
    Conversion,
    Envelope,
    ExperimentExposure,
    FeatureUsed,
    PageView,
    Purchase,
    Signup,
)
from accord.sdk.record import Event
from accord.streaming.testing import read_events
from accord.wire.headers import SENT_AT

from .sample_event import Sample

pytestmark = pytest.mark.integration

QUICK = ClientConfig(linger_s=0.05, backoff_base_s=0.05, backoff_max_s=0.5)


def every_kind(n: int) -> list[Event]:
    """`n` rounds of one event of each type, for a handful of users."""
    events: list[Event] = []
    for i in range(n):
        user, session = f"user-{i % 5}", f"s-{i}"
        events += [
            PageView(
                envelope=Envelope(user_id=user, session_id=session),
                url=f"https://shop.example/p/{i}",
                title="Product",
            ),
            FeatureUsed(
                envelope=Envelope(user_id=user, session_id=session),
                feature="export_csv",
                properties={"rows": str(i)},
            ),
            ExperimentExposure(
                envelope=Envelope(user_id=user, session_id=session),
                experiment_id="new_checkout",
                variant="treatment",
            ),
            Signup(
                envelope=Envelope(anonymous_id=f"anon-{i}", context=Context(app_name="web")),
                method=Signup.SignupMethod.EMAIL,
            ),
            Purchase(
                envelope=Envelope(user_id=user, session_id=session),
                order_id=f"o-{i}",
                amount=Decimal("42.10"),
                currency="EUR",
                items=[Purchase.LineItem(sku="sku-1", quantity=2, unit_price=Decimal("21.05"))],
            ),
            Conversion(envelope=Envelope(user_id=user, session_id=session), name="trial_started"),
        ]
    return events


def assert_arrived_once_as_tracked(bootstrap: str, events: list[Event]) -> None:
    by_id = {str(e.envelope.event_id): e for e in events}
    delivered = read_events(bootstrap, set(by_id))
    assert set(delivered) == set(by_id), "every tracked event is in Kafka"
    for event_id, records in delivered.items():
        assert len(records) == 1, f"{event_id} arrived {len(records)} times"
        tracked = by_id[event_id]
        record = records[0]
        assert type(tracked).from_avro(record.decode(tracked.AVRO_SCHEMA)) == tracked
        envelope = tracked.envelope
        assert record.key == (envelope.user_id or envelope.anonymous_id or "").encode()
        assert int(record.headers[SENT_AT]) > 0


def test_every_tracked_event_arrives_in_kafka_once_and_decodes_to_what_was_tracked(
    gateway: GatewayHandle, kafka_broker: BrokerHandle
) -> None:
    events = every_kind(20)
    with Client(gateway.url, gateway.write_key, QUICK) as client:
        for event in events:
            assert client.track(event)
    assert client.counters.sent == len(events)
    assert client.counters.rejected == client.counters.dropped == 0
    assert_arrived_once_as_tracked(kafka_broker.bootstrap, events)


def test_json_mode_delivers_the_same_events(gateway: GatewayHandle, kafka_broker: BrokerHandle) -> None:
    events = [e for e in every_kind(5) if not isinstance(e, Purchase)]
    rejected: list[RejectedEvent] = []
    config = ClientConfig(mode="json", linger_s=0.05)
    with Client(gateway.url, gateway.write_key, config, on_rejected=rejected.append) as client:
        for event in events:
            client.track(event)
    assert rejected == []
    assert client.counters.sent == len(events)
    assert_arrived_once_as_tracked(kafka_broker.bootstrap, events)


def test_nothing_is_lost_when_the_gateway_restarts_mid_stream(
    gateway_factory: GatewayFactory, registered_schemas: dict[str, int], kafka_broker: BrokerHandle
) -> None:
    private = gateway_factory()
    events = [
        PageView(envelope=Envelope(user_id=f"u{n % 9}"), url=f"https://x.example/{n}") for n in range(600)
    ]
    config = ClientConfig(linger_s=0.02, batch_size=20, backoff_base_s=0.1, backoff_max_s=1.0)
    client = Client(private.url, private.write_key, config)

    def produce() -> None:
        for event in events:
            client.track(event)
            time.sleep(0.002)  # a steady stream, so that the restart falls in its middle

    producer = threading.Thread(target=produce)
    producer.start()
    wait_until(lambda: client.counters.sent, timeout_s=30, describe="events sent before the restart")
    private.stop()
    wait_until(lambda: client.counters.retried, timeout_s=30, describe="the client to retry while it is down")
    private.start()
    producer.join()
    assert client.close(timeout=60)
    counters = client.counters
    assert counters.dropped == counters.rejected == 0
    assert counters.sent == len(events)
    assert counters.retried > 0, "the restart was seen by the client"
    delivered = read_events(kafka_broker.bootstrap, {str(e.envelope.event_id) for e in events})
    assert len(delivered) == len(events), "no event lost"
    for event in events:
        records = delivered[str(event.envelope.event_id)]
        assert all(PageView.from_avro(r.decode(PageView.AVRO_SCHEMA)) == event for r in records)


def test_the_drop_policy_count_is_exact_when_the_queue_fills(
    gateway: GatewayHandle, kafka_broker: BrokerHandle
) -> None:
    events = [PageView(envelope=Envelope(user_id="heavy"), url=f"https://x.example/{n}") for n in range(3000)]
    config = ClientConfig(queue_size=20, batch_size=10, linger_s=0.001, when_full="drop")
    with Client(gateway.url, gateway.write_key, config) as client:
        queued = [client.track(event) for event in events]
    dropped = queued.count(False)
    counters = client.counters
    assert dropped > 0, "the queue did fill"
    assert counters.dropped == dropped
    assert counters.sent == len(events) - dropped
    kept = {str(e.envelope.event_id) for e, ok in zip(events, queued, strict=True) if ok}
    delivered = read_events(kafka_broker.bootstrap, {str(e.envelope.event_id) for e in events}, timeout_s=30)
    assert set(delivered) == kept


def test_refused_events_reach_the_callback_with_the_gateways_reason(gateway: GatewayHandle) -> None:
    rejected: list[RejectedEvent] = []
    valid = PageView(url="https://x.example/ok", envelope=Envelope(user_id="u-ok"))
    broken = PageView(url="https://x.example/broken")
    body = codec_for(broken).encode(broken.to_avro())
    with Client(gateway.url, gateway.write_key, QUICK, on_rejected=rejected.append) as client:
        client.track(valid)
        client.track_encoded(PageView, body[:-3], str(broken.envelope.event_id))
        client.track(Sample())  # a schema that was never registered
    by_id = {r.event_id: r for r in rejected}
    assert by_id[str(broken.envelope.event_id)].code == "undecodable_avro"
    assert [r.code for r in rejected if r.subject == Sample.SUBJECT] == ["schema_not_registered"]
    assert client.counters.sent == 1
    assert client.counters.rejected == 2


def test_a_wrong_write_key_rejects_the_events_without_retrying(gateway: GatewayHandle) -> None:
    rejected: list[RejectedEvent] = []
    with Client(gateway.url, "not-a-key", QUICK, on_rejected=rejected.append) as client:
        client.track(PageView(url="https://x.example/"))
    assert len(rejected) == 1
    assert client.counters.rejected == 1
    assert client.counters.retried == 0


def test_events_still_queued_at_interpreter_exit_are_sent(
    gateway: GatewayHandle, kafka_broker: BrokerHandle
) -> None:
    script = textwrap.dedent(
        f"""
        from accord.sdk import Client, ClientConfig
        from accord.sdk.events import Envelope, PageView
        client = Client({gateway.url!r}, {gateway.write_key!r}, ClientConfig(linger_s=60))
        for n in range(5):
            event = PageView(url=f"https://x.example/exit/{{n}}", envelope=Envelope(user_id="u-exit"))
            client.track(event)
            print(event.envelope.event_id)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    ids = set(done.stdout.split())
    assert len(ids) == 5
    delivered: dict[str, Any] = read_events(kafka_broker.bootstrap, ids, timeout_s=30)
    assert set(delivered) == ids


@pytest.mark.parametrize(
    ("max_event_bytes", "checked_by"),
    [(ClientConfig().max_event_bytes, "the client"), (10_000_000, "the gateway")],
)
def test_one_oversized_event_never_blocks_the_others(
    gateway: GatewayHandle, kafka_broker: BrokerHandle, max_event_bytes: int, checked_by: str
) -> None:
    rejected: list[RejectedEvent] = []
    big = PageView(envelope=Envelope(user_id="big-sender"), url="https://x/" + "a" * 800_000)
    normal = [
        PageView(envelope=Envelope(user_id="big-sender"), url=f"https://x.example/after-big/{n}")
        for n in range(5)
    ]
    config = ClientConfig(linger_s=0.05, max_event_bytes=max_event_bytes)
    client = Client(gateway.url, gateway.write_key, config, on_rejected=rejected.append)
    client.track(big)
    for event in normal:
        client.track(event)

    assert client.flush(60), f"checked by {checked_by}: every event settled"
    client.close()

    assert [(r.event_id, r.code) for r in rejected] == [(str(big.envelope.event_id), "event_too_large")]
    assert (client.counters.sent, client.counters.rejected, client.counters.dropped) == (5, 1, 0)
    ids = {str(e.envelope.event_id) for e in normal}
    assert set(read_events(kafka_broker.bootstrap, ids)) == ids


def test_retries_end_after_retry_timeout_with_the_events_rejected() -> None:
    rejected: list[RejectedEvent] = []
    config = ClientConfig(linger_s=0.05, backoff_base_s=0.05, backoff_max_s=0.2, retry_timeout_s=1.0)
    with Client(f"http://127.0.0.1:{free_port()}", "key", config, on_rejected=rejected.append) as client:
        client.track(PageView(url="https://x.example/nobody-listens"))
        assert client.flush(30)
    assert [r.code for r in rejected] == ["retries_exhausted"]
    assert "ConnectError" in rejected[0].message
    assert (client.counters.rejected, client.counters.dropped) == (1, 0)

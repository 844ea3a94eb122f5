"""Kill drills under load: broker, gateway and registry lost mid-stream, no acknowledged event lost.

Each drill sends events while a server is SIGKILLed (or stopped) and restarted, then reads the
`events` topic back by the `accord.event_id` header: every event acknowledged (HTTP 200, or an
SDK `sent`) is there, exactly once (the gateway drill, where an unanswered request is resent,
allows those resends twice). Then the ingest runs once over what Kafka holds: every
acknowledged event is in Silver exactly once, and the ledger reconciles. Sizes come from the
environment, short by default:

- `ACCORD_DRILL_KILLS`: kills (outages, for the registry) per drill, default 1;
- `ACCORD_DRILL_EVENTS`: acknowledged events each drill sends at least, default 2,000.

The long run is `ACCORD_DRILL_KILLS=5 ACCORD_DRILL_EVENTS=20000` (see the runbook's "Drills").
"""

from __future__ import annotations

import functools
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from accord.gateway.testing import GatewayFactory
from accord.registry.testing import RegistryFactory, RegistryHandle
from accord.runtime.testing import BrokerHandle, TopicReader
from accord.sdk import Client, ClientConfig
from accord.sdk.events import Envelope, PageView
from accord.streaming.inspect.cli import collect_ledger
from accord.streaming.testing import Pipeline
from accord.wire.headers import EVENT_ID

from .helpers import Sender, post_avro, register_contract, register_page_view_copy
from .schemas import page_view

pytestmark = [pytest.mark.integration, pytest.mark.spark]

KILLS = int(os.environ.get("ACCORD_DRILL_KILLS", "1"))
EVENTS = int(os.environ.get("ACCORD_DRILL_EVENTS", "2000"))
BATCH = 20


def assert_each_once(reader: TopicReader, acknowledged: set[str], drill: str) -> None:
    """Every acknowledged id is on the topic exactly once; prints the drill's figures."""
    counts = Counter(record.headers.get(EVENT_ID) for record in reader.read(len(acknowledged), timeout_s=60))
    lost = {event_id for event_id in acknowledged if counts[event_id] == 0}
    duplicated = {event_id for event_id in acknowledged if counts[event_id] > 1}
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(  # the drill's figures, shown with `pytest -s`
        f"\n{drill}: kills {KILLS}, acknowledged {len(acknowledged):,}, "
        f"found {len(acknowledged) - len(lost):,}, lost {len(lost):,}, "
        f"duplicated {len(duplicated):,}, load average {load}"
    )
    assert not lost, f"{len(lost)} acknowledged events are not in Kafka, e.g. {sorted(lost)[:3]}"
    assert not duplicated, f"{len(duplicated)} events are in Kafka twice or more"


@contextmanager
def sending(sender: Sender) -> Iterator[Sender]:
    """`sender` running on its own thread inside the block, stopped on exit."""
    thread = threading.Thread(target=sender.run, daemon=True)
    thread.start()
    try:
        yield sender
    finally:
        sender.stopping.set()
        thread.join(timeout=60)


def accepted(url: str, key: str, framed: bytes) -> bool:
    """Whether the gateway answers 200 to a batch of the one event `framed`."""
    return post_avro(url, key, [framed]).status_code == 200


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not reached in {timeout_s}s: {what}"
        time.sleep(0.1)


def test_broker_sigkilled_under_gateway_load_loses_no_acknowledged_event(
    broker_factory: Callable[[], BrokerHandle],
    gateway_factory: GatewayFactory,
    registry_server: RegistryHandle,
    pipeline: Pipeline,
) -> None:
    broker = broker_factory()
    page_views = register_contract(registry_server.url, "PageView")
    gateway = gateway_factory(bootstrap=broker.bootstrap, delivery_timeout_s=3, retry_after_s=1)
    sender = Sender(gateway.url, gateway.write_key, page_views.framed, batch=BATCH, record=page_view)
    with sending(sender):
        for _ in range(KILLS):
            sender.wait_for(200, 5)
            broker.kill()
            sender.wait_for(503, 2)
            broker.start()
            sender.wait_for(200, 5)
        wait_until(lambda: len(sender.acknowledged()) >= EVENTS, f"{EVENTS} events acknowledged")

    assert {status for status, _, _ in sender.answers} == {200, 503}
    assert all(retry == "1" for status, _, retry in sender.answers if status == 503)
    with TopicReader(broker.bootstrap, broker.settings.events_topic, from_start=True) as reader:
        assert_each_once(reader, sender.acknowledged(), "broker drill")
    on_broker = pipeline.with_settings(
        kafka_bootstrap=broker.bootstrap,
        events_topic=broker.settings.events_topic,
        starting_offsets="earliest",
    )
    on_broker.assert_each_in_silver_once(sender.acknowledged(), "broker drill")


def test_gateway_sigkilled_under_sdk_load_lands_every_sent_event_in_silver_once(
    gateway_factory: GatewayFactory, pipeline: Pipeline, kafka_broker: BrokerHandle
) -> None:
    gateway = gateway_factory()
    events = [
        PageView(envelope=Envelope(user_id=f"u{n % 17}"), url=f"https://d.example/{n}") for n in range(EVENTS)
    ]
    config = ClientConfig(linger_s=0.02, batch_size=50, backoff_base_s=0.1, backoff_max_s=1.0)
    rng = random.Random(12)
    with TopicReader(kafka_broker.bootstrap, kafka_broker.settings.events_topic) as reader:
        client = Client(gateway.url, gateway.write_key, config)
        pace = max(0.001, 5.0 * (KILLS + 1) / EVENTS)  # spread the events over the kills

        def produce() -> None:
            for event in events:
                client.track(event)
                time.sleep(pace)

        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(1.0, 4.0))
            gateway.kill()
            time.sleep(0.5)
            gateway.start()
        producer.join()
        assert client.close(timeout=300)
        counters = client.counters
        assert (counters.sent, counters.dropped, counters.rejected) == (len(events), 0, 0)
        assert counters.retried > 0, "the kills were seen by the client"
        # A request the killed gateway produced but never answered is sent again by the SDK:
        # the gateway's dedup window does not survive the kill, so such an event may be in Kafka
        # twice (Silver keeps it once, by event_id). Only those resends may be duplicates.
        sent = {str(e.envelope.event_id) for e in events}
        counts = Counter(r.headers.get(EVENT_ID) for r in reader.read(len(sent), timeout_s=60))
    lost = {event_id for event_id in sent if counts[event_id] == 0}
    duplicated = {event_id for event_id in sent if counts[event_id] > 1}
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"\ngateway drill: kills {KILLS}, sent {len(sent):,}, found {len(sent) - len(lost):,}, "
        f"lost {len(lost):,}, duplicated in Kafka {len(duplicated):,}, "
        f"resent {counters.retried:,}, load average {load}"
    )
    assert not lost, f"{len(lost)} sent events are not in Kafka"
    assert len(duplicated) <= counters.retried

    pipeline.assert_each_in_silver_once(sent, "gateway drill")
    ledger = collect_ledger(pipeline.settings, gateway=False, kafka=False)
    assert ledger.total.bronze == sum(counts[event_id] for event_id in sent)


def test_registry_stopped_under_load_costs_only_new_schemas(
    registry_factory: RegistryFactory,
    gateway_factory: GatewayFactory,
    kafka_broker: BrokerHandle,
    pipeline: Pipeline,
) -> None:
    registry = registry_factory()
    known = register_contract(registry.url, "PageView")
    unseen = [register_page_view_copy(registry.url) for _ in range(KILLS)]
    gateway = gateway_factory(registry_url=registry.url)
    sender = Sender(gateway.url, gateway.write_key, known.framed, batch=BATCH, record=page_view)
    with TopicReader(kafka_broker.bootstrap, kafka_broker.settings.events_topic) as reader:
        with sending(sender):
            for new in unseen:
                sender.wait_for(200, 5)
                registry.stop()
                outage_starts = len(sender.answers)
                refused = post_avro(gateway.url, gateway.write_key, [new.framed(page_view())])
                assert refused.status_code == 503, refused.text
                assert refused.json()["error"]["code"] == "registry_unavailable"
                assert int(refused.headers["Retry-After"]) > 0
                sender.wait_for(200, 10)
                during = [status for status, _, _ in sender.answers[outage_starts:]]
                registry.start()
                assert set(during) == {200}, "known schemas keep flowing while the registry is down"
                wait_until(
                    functools.partial(accepted, gateway.url, gateway.write_key, new.framed(page_view())),
                    "the new schema accepted once the registry is back",
                    timeout_s=60,
                )
            wait_until(lambda: len(sender.acknowledged()) >= EVENTS, f"{EVENTS} events acknowledged")
        assert {status for status, _, _ in sender.answers} == {200}
        assert_each_once(reader, sender.acknowledged(), "registry drill")
    on_registry = pipeline.with_settings(registry_url=registry.url)
    on_registry.assert_each_in_silver_once(sender.acknowledged(), "registry drill")

"""The real Kafka broker: produce and consume, restart with its data, crash and recovery."""

from __future__ import annotations

import uuid
from collections import defaultdict

import pytest
from confluent_kafka import Consumer, Producer

from accord.runtime.kafka import ensure_topics
from accord.runtime.supervisor import State
from accord.runtime.testing import BrokerHandle

pytestmark = pytest.mark.integration

N_MESSAGES = 10_000


def _produce(bootstrap: str, topic: str, count: int) -> dict[int, list[bytes]]:
    """Produce `count` keyed messages idempotently and return the acknowledged values per partition."""
    acked: dict[int, list[bytes]] = defaultdict(list)
    errors: list[str] = []

    def on_delivery(err: object, msg: object) -> None:
        if err is not None:
            errors.append(str(err))
        else:
            acked[msg.partition()].append(msg.value())  # type: ignore[attr-defined]

    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5}
    )
    for i in range(count):
        producer.produce(
            topic, key=f"user-{i % 97}".encode(), value=f"message-{i}".encode(), on_delivery=on_delivery
        )
        producer.poll(0)
    assert producer.flush(30) == 0
    assert errors == []
    return acked


def _consume_all(bootstrap: str, topic: str, expected: int) -> dict[int, list[bytes | None]]:
    """Read the topic from the beginning with a fresh group until `expected` messages arrived."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"test-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    seen: dict[int, list[bytes | None]] = defaultdict(list)
    total = 0
    idle = 0
    while total < expected and idle < 30:
        batch = consumer.consume(num_messages=1000, timeout=1.0)
        idle = 0 if batch else idle + 1
        for msg in batch:
            assert msg.error() is None
            seen[msg.partition() or 0].append(msg.value())
            total += 1
    consumer.close()
    return seen


def test_produce_and_consume_ten_thousand_in_order(kafka_broker: BrokerHandle) -> None:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_broker.bootstrap, {topic: 3})
    acked = _produce(kafka_broker.bootstrap, topic, N_MESSAGES)
    assert sum(map(len, acked.values())) == N_MESSAGES
    consumed = _consume_all(kafka_broker.bootstrap, topic, N_MESSAGES)
    assert consumed == acked  # same messages, same order within each partition


def test_restart_and_sigkill_keep_the_data(broker_factory) -> None:  # type: ignore[no-untyped-def]
    broker: BrokerHandle = broker_factory()
    topic = "durable"
    ensure_topics(broker.bootstrap, {topic: 2})
    acked = _produce(broker.bootstrap, topic, N_MESSAGES)

    broker.stop()
    assert broker.supervisor.status(broker.broker.spec()).state is State.STOPPED
    broker.start()
    assert _consume_all(broker.bootstrap, topic, N_MESSAGES) == acked

    broker.kill()
    status = broker.supervisor.status(broker.broker.spec())
    assert status.state is State.CRASHED
    assert status.log_tail, "a crashed broker's status shows the end of its log"
    broker.start()
    assert _consume_all(broker.bootstrap, topic, N_MESSAGES) == acked


def test_metadata_lists_platform_topics(kafka_broker: BrokerHandle) -> None:
    from confluent_kafka.admin import AdminClient

    topics = AdminClient({"bootstrap.servers": kafka_broker.bootstrap}).list_topics(timeout=10).topics
    assert kafka_broker.settings.events_topic in topics
    assert (
        len(topics[kafka_broker.settings.events_topic].partitions) == kafka_broker.settings.kafka_partitions
    )
    assert kafka_broker.settings.deadletter_topic in topics

"""Records whose times cannot be converted are quarantined with a reason; the events after them flow.

Under ANSI mode an overflowing skew correction used to fail the micro-batch, so the stream died
on the same batch after every restart.
"""

from __future__ import annotations

import io
import struct
import time
import uuid
from typing import Any

import fastavro
import pytest
from confluent_kafka import Producer

from accord.registry_client import RegistryClient
from accord.streaming.testing import Pipeline
from accord.wire.headers import RECEIVED_AT, SENT_AT

pytestmark = [pytest.mark.integration, pytest.mark.spark]

SUBJECT = "events-accord.events.PageView"


def _framed(registry_url: str, event_time_ms: int) -> tuple[str, bytes]:
    client = RegistryClient(registry_url)
    schema_id = client.latest(SUBJECT).id
    event_id = str(uuid.uuid4())
    record: dict[str, Any] = {
        "envelope": {
            "event_id": event_id,
            "event_time": event_time_ms,
            "user_id": "user-poison",
            "anonymous_id": None,
            "session_id": None,
            "context": {"platform": "WEB"},
        },
        "url": "https://poison/",
    }
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(client.resolved_schema(schema_id)), record)
    return event_id, struct.pack(">bI", 0, schema_id) + buffer.getvalue()


def test_out_of_range_times_are_quarantined_and_later_events_reach_silver(
    pipeline: Pipeline, registered_schemas: str
) -> None:
    now = int(time.time() * 1000)
    far_future, far_future_bytes = _framed(registered_schemas, 9_223_372_036_854_775)
    skewed, skewed_bytes = _framed(registered_schemas, 250_000_000_000_000)
    good, good_bytes = _framed(registered_schemas, now)
    producer = Producer({"bootstrap.servers": pipeline.settings.kafka_bootstrap})
    topic = pipeline.settings.events_topic
    received = str(now).encode()
    # event time at the edge of a long; a client clock in year 1 moving a year-9892 event past 9999;
    # a received-at header at the edge of a long
    clocks: list[tuple[str, str | bytes | None]] = [
        (RECEIVED_AT, received),
        (SENT_AT, received),
    ]
    producer.produce(topic, key=b"u", value=far_future_bytes, headers=clocks)
    producer.produce(
        topic,
        key=b"u",
        value=skewed_bytes,
        headers=[(RECEIVED_AT, received), (SENT_AT, b"-62135596800000")],
    )
    producer.produce(topic, key=b"u", value=good_bytes, headers=[(RECEIVED_AT, b"9223372036854775807")])
    assert producer.flush(10) == 0

    pipeline.run()

    silver = {r.event_id for r in pipeline.table("silver").select("event_id").collect()}
    reasons = {r.event_id: r.reason for r in pipeline.table("quarantine").collect()}
    assert good in silver, "the event after the poison records reached Silver"
    assert reasons[skewed] == "rule_violation:event_time_out_of_range"
    assert reasons[far_future] == "rule_violation:event_time_out_of_range"

"""The ledger and `trace` over Bronze, Silver and Quarantine tables, and Kafka's own counts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from confluent_kafka import Producer

from accord.runtime.kafka import ensure_topics
from accord.runtime.ports import free_port
from accord.runtime.testing import BrokerHandle
from accord.streaming.errors import InspectError
from accord.streaming.inspect.gateway_stats import GatewayHour, GatewayStatsError, fetch_gateway_stats
from accord.streaming.inspect.kafka_counts import records_per_hour
from accord.streaming.inspect.ledger import compute_ledger
from accord.streaming.inspect.tables import LakeReader
from accord.streaming.inspect.trace import find_dead_letters, trace_event
from accord.streaming.lake import Lake
from accord.streaming.testing import T0, SilverWriter, silver_event
from accord.wire.headers import EVENT_ID

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark]

BRONZE_DDL = (
    "key binary, value binary, topic string, partition int, offset long, kafka_timestamp timestamp, "
    "headers array<struct<key: string, value: binary>>, schema_id int, received_at timestamp, "
    "ingest_date date"
)
QUARANTINE_DDL = (
    "reason string, detail string, event_id string, schema_id int, value binary, key binary, "
    "kafka_topic string, kafka_partition int, kafka_offset long, received_at timestamp, "
    "quarantined_at timestamp"
)
H1, H2 = T0, T0 + timedelta(hours=1)


def _bronze(offset: int, event_id: str, received: datetime) -> dict[str, Any]:
    return {
        "key": b"u",
        "value": b"\x00\x00\x00\x00\x01",
        "topic": "events",
        "partition": 0,
        "offset": offset,
        "kafka_timestamp": received,
        "headers": [{"key": EVENT_ID, "value": event_id.encode()}],
        "schema_id": 1,
        "received_at": received,
        "ingest_date": received.date(),
    }


def _silver(offset: int, event_id: str, received: datetime, *, late: bool = False) -> dict[str, Any]:
    row = silver_event("page_view", "u", received - timedelta(minutes=5), late=late)
    row.update(event_id=event_id, kafka_partition=0, kafka_offset=offset, received_at=received)
    return row


def _quarantine(offset: int, event_id: str, received: datetime, reason: str) -> dict[str, Any]:
    return {
        "reason": reason,
        "detail": "field amount: not a decimal",
        "event_id": event_id,
        "schema_id": 1,
        "value": b"\x00",
        "key": b"u",
        "kafka_topic": "events",
        "kafka_partition": 0,
        "kafka_offset": offset,
        "received_at": received,
        "quarantined_at": received,
    }


@pytest.fixture
def pipeline(spark: SparkSession, lake: Lake, write_silver: SilverWriter) -> Lake:
    """H1: e1, e2 kept, e2 sent twice, e3 quarantined; H2: e5 kept (late), e6 quarantined."""
    minute = timedelta(minutes=1)
    bronze = [
        _bronze(0, "e1", H1 + minute),
        _bronze(1, "e2", H1 + 2 * minute),
        _bronze(2, "e2", H1 + 3 * minute),
        _bronze(3, "e3", H1 + 4 * minute),
        _bronze(4, "e5", H2 + minute),
        _bronze(5, "e6", H2 + 2 * minute),
    ]
    spark.createDataFrame(bronze, BRONZE_DDL).write.format("delta").save(lake.bronze)
    write_silver(
        [
            _silver(0, "e1", H1 + minute),
            _silver(1, "e2", H1 + 2 * minute),
            _silver(4, "e5", H2 + minute, late=True),
        ]
    )
    quarantine = [
        _quarantine(3, "e3", H1 + 4 * minute, "schema_violation"),
        _quarantine(5, "e6", H2 + 2 * minute, "unknown_schema"),
    ]
    spark.createDataFrame(quarantine, QUARANTINE_DDL).write.format("delta").save(lake.quarantine)
    return lake


def test_the_ledger_reconciles_each_hour_with_the_gateway(spark: SparkSession, pipeline: Lake) -> None:
    gateway = {H1: GatewayHour(accepted=4, duplicates=1, rejected=2), H2: GatewayHour(2, 0, 0)}
    ledger = compute_ledger(LakeReader(pipeline), gateway=gateway)

    first, second = ledger.hours
    assert first.hour == H1
    assert (first.accepted, first.bronze, first.silver, first.duplicates_removed) == (4, 4, 2, 1)
    assert first.quarantined == {"schema_violation": 1}
    assert (second.bronze, second.silver, second.late, second.quarantined) == (2, 1, 1, {"unknown_schema": 1})
    assert ledger.reconciles
    total = ledger.total
    assert (total.accepted, total.bronze, total.silver, total.quarantine, total.rejected) == (6, 6, 3, 2, 2)
    assert total.gateway_duplicates == 1


def test_the_ledger_shows_where_counts_disagree(spark: SparkSession, pipeline: Lake) -> None:
    # the gateway acknowledged one more event in H2 than reached Bronze
    ledger = compute_ledger(
        LakeReader(pipeline), gateway={H1: GatewayHour(4, 1, 2), H2: GatewayHour(3, 0, 0)}
    )
    assert [hour.reconciles for hour in ledger.hours] == [True, False]
    assert not ledger.reconciles

    # a Bronze record that neither Silver nor Quarantine accounts for
    lost = _bronze(6, "e7", H2 + timedelta(minutes=9))
    spark.createDataFrame([lost], BRONZE_DDL).write.format("delta").mode("append").save(pipeline.bronze)
    ledger = compute_ledger(LakeReader(pipeline))
    assert ledger.hours[1].unexplained == 1
    assert not ledger.hours[1].reconciles
    assert ledger.hours[0].reconciles


def test_trace_follows_every_copy_of_an_event(spark: SparkSession, pipeline: Lake) -> None:
    duplicated = trace_event(LakeReader(pipeline), "e2")
    assert [(r.offset, r.fate) for r in duplicated.records] == [(1, "silver"), (2, "duplicate")]
    assert duplicated.records[1].detail == "duplicate of partition 0 offset 1"
    assert duplicated.silver is not None
    assert duplicated.silver["event_type"] == "page_view"

    quarantined = trace_event(LakeReader(pipeline), "e3")
    assert quarantined.silver is None
    assert [(r.offset, r.fate) for r in quarantined.records] == [(3, "quarantine")]
    assert quarantined.records[0].detail == "schema_violation: field amount: not a decimal"

    assert not trace_event(LakeReader(pipeline), "never-sent").found


def test_kafka_counts_records_per_hour_from_the_time_index(kafka_broker: BrokerHandle) -> None:
    # a topic of its own: the time index assumes timestamps that grow within a partition, and
    # the session's `events` topic already holds records stamped now
    topic = f"hours-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_broker.bootstrap, {topic: 2})
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    base = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    stamps = [base + timedelta(minutes=m) for m in (1, 30, 59)] + [base + timedelta(hours=1, minutes=5)]
    for i, stamp in enumerate(stamps):
        producer.produce(topic, key=f"k{i}".encode(), value=b"x", timestamp=int(stamp.timestamp() * 1000))
    assert producer.flush(30) == 0
    hour = base.replace(tzinfo=None)
    counts = records_per_hour(kafka_broker.bootstrap, topic, [hour, hour + timedelta(hours=1)])
    assert counts == {hour: 3, hour + timedelta(hours=1): 1}


def test_trace_finds_a_rejection_in_the_dead_letter_topic(kafka_broker: BrokerHandle) -> None:
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    rejection = {
        "stage": "gateway",
        "failure_type": "schema_violation",
        "event_id": "rejected-1",
        "errors": [{"field": "amount", "rule": "type", "message": "not a decimal"}],
        "original": "AA==",
        "recoverable": True,
    }
    producer.produce("events.deadletter", value=json.dumps(rejection).encode())
    producer.produce("events.deadletter", value=b"not json")
    assert producer.flush(30) == 0
    found = find_dead_letters(kafka_broker.bootstrap, "events.deadletter", "rejected-1")
    assert [(d.failure_type, d.errors[0]["field"]) for d in found] == [("schema_violation", "amount")]


def test_an_unreachable_gateway_is_a_clear_error() -> None:
    with pytest.raises(GatewayStatsError, match="cannot read the gateway's counts"):
        fetch_gateway_stats(f"http://127.0.0.1:{free_port()}", "dev-write-key", timeout_s=2)


def test_counting_a_missing_topic_is_a_clear_error(kafka_broker: BrokerHandle) -> None:
    with pytest.raises(InspectError, match="does not exist"):
        records_per_hour(kafka_broker.bootstrap, "no-such-topic", [datetime(2026, 3, 2, 9)], timeout_s=5)

"""What a new user meets first: `accord trace` of an event the gateway refused, and records a
Confluent serializer produced straight to Kafka (no Accord headers) reconciling in the ledger."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from click.testing import CliRunner
from confluent_kafka import Producer
from deltalake import write_deltalake

from accord.gateway.testing import GatewayHandle
from accord.runtime.cli import cli
from accord.runtime.testing import BrokerHandle
from accord.streaming.inspect.ledger import compute_ledger
from accord.streaming.inspect.tables import LakeReader
from accord.streaming.lake import Lake
from accord.streaming.testing import Pipeline, envelope, post_events

pytestmark = pytest.mark.integration

HEADERS = pa.list_(pa.struct([("key", pa.string()), ("value", pa.binary())]))
UTC_MICROS = pa.timestamp("us", tz="UTC")


def _empty_lake(root: Path) -> None:
    """Bronze and Silver as the stream creates them before any record arrives (no rows)."""
    lake = Lake(root=str(root), checkpoints=str(root / "_checkpoints"))
    bronze = pa.schema(
        [("partition", pa.int32()), ("offset", pa.int64()), ("received_at", UTC_MICROS),
         ("kafka_timestamp", UTC_MICROS), ("headers", HEADERS)]
    )  # fmt: skip
    silver = pa.schema(
        [("event_id", pa.string()), ("event_type", pa.string()), ("event_time", UTC_MICROS),
         ("received_at", UTC_MICROS), ("is_late", pa.bool_()), ("kafka_partition", pa.int32()),
         ("kafka_offset", pa.int64()), ("event_date", pa.date32())]
    )  # fmt: skip
    write_deltalake(lake.bronze, bronze.empty_table())
    write_deltalake(lake.silver, silver.empty_table())


def _trace(event_id: str, kafka_broker: BrokerHandle, lake: Path) -> tuple[int, str]:
    env = {"ACCORD_KAFKA_BOOTSTRAP": kafka_broker.bootstrap, "ACCORD_LAKE_URI": str(lake)}
    result = CliRunner().invoke(cli, ["trace", event_id], env=env)
    return result.exit_code, result.output


def test_trace_says_an_event_refused_by_the_gateway_was_rejected_there(
    gateway_server: GatewayHandle, kafka_broker: BrokerHandle, registered_schemas: str, tmp_path: Path
) -> None:
    now = int(time.time() * 1000)
    refused = envelope(event_time_ms=now)
    answer = post_events(
        gateway_server.url,
        gateway_server.write_key,
        [{"schema": "accord.events.NoSuchEvent", "payload": {"envelope": refused, "url": "/"}}],
        now,
    )
    assert [r["code"] for r in answer["rejected"]] == ["unknown_subject"]

    # before the stream wrote anything: the dead letters still answer
    code, output = _trace(str(refused["event_id"]), kafka_broker, tmp_path / "lake")
    assert code == 0, output
    assert "rejected at the gateway: unknown_subject" in output

    _empty_lake(tmp_path / "lake")
    code, output = _trace(str(refused["event_id"]), kafka_broker, tmp_path / "lake")
    assert code == 0, output
    assert "rejected at the gateway: unknown_subject" in output
    assert "in no stage" not in output

    never_sent = str(uuid.uuid4())
    code, output = _trace(never_sent, kafka_broker, tmp_path / "lake")
    assert code == 1
    assert f"{never_sent} is in no stage" in output
    assert "rejected at the gateway" not in output


def _page_view(event_id: str, event_time_ms: int) -> dict[str, Any]:
    return {
        "envelope": {
            "event_id": event_id,
            "event_time": event_time_ms,
            "user_id": "confluent-user",
            "anonymous_id": None,
            "session_id": None,
            "context": {"platform": "SERVER"},
        },
        "url": "https://example.test/direct",
        "path": None,
        "title": None,
        "referrer": None,
        "campaign": None,
    }


@pytest.mark.spark
def test_records_a_confluent_serializer_produced_get_their_kafka_timestamp_and_reconcile(
    pipeline: Pipeline,
) -> None:
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext
    from pyspark.sql import functions as sf

    registry = SchemaRegistryClient({"url": pipeline.settings.registry_url})
    serializer = AvroSerializer(
        registry,
        '{"type": "record", "name": "PageView", "namespace": "accord.events", "fields": []}',
        conf={
            "auto.register.schemas": False,
            "use.latest.version": True,
            "subject.name.strategy": lambda _ctx, record_name: f"events-{record_name}",
        },
    )
    topic = pipeline.settings.events_topic
    context = SerializationContext(topic, MessageField.VALUE)
    now = int(time.time() * 1000)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    producer = Producer({"bootstrap.servers": pipeline.settings.kafka_bootstrap})
    for event_id in ids:
        producer.produce(topic, key=b"confluent-user", value=serializer(_page_view(event_id, now), context))
    assert producer.flush(30) == 0

    pipeline.run()

    bronze = {
        (r.partition, r.offset): r.kafka_timestamp
        for r in pipeline.table("bronze").select("partition", "offset", "kafka_timestamp").collect()
    }
    silver = pipeline.table("silver").where(sf.col("event_id").isin(ids)).collect()
    assert sorted(r.event_id for r in silver) == sorted(ids)
    for row in silver:
        assert row.received_at is not None
        assert row.received_at == bronze[(row.kafka_partition, row.kafka_offset)]

    # the gateway accepted none of them: as direct records they do not count against it
    ledger = compute_ledger(LakeReader(pipeline.lake), gateway={})
    assert all(hour.hour is not None for hour in ledger.hours), "every record has a receipt hour"
    total = ledger.total
    assert (total.accepted, total.bronze, total.direct, total.silver, total.unexplained) == (0, 3, 3, 3, 0)
    assert ledger.reconciles

"""Where one event is: its Kafka records, and for each the Bronze row and what became of it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from accord.streaming.delta_io import load_if_exists, read_table
from accord.streaming.errors import InspectError
from accord.streaming.framing import header_text
from accord.streaming.lake import Lake
from accord.wire.headers import EVENT_ID as EVENT_ID_HEADER

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class RecordFate:
    """One Kafka record carrying the event, as Bronze holds it, and where it went."""

    partition: int
    offset: int
    received_at: datetime | None
    fate: str
    detail: str = ""


@dataclass(frozen=True)
class DeadLetter:
    """A rejection of the event by the gateway, from the dead-letter topic."""

    partition: int
    offset: int
    failure_type: str
    errors: list[dict[str, Any]]


@dataclass
class Trace:
    """Everything the platform knows about one event id."""

    event_id: str
    records: list[RecordFate] = field(default_factory=list)
    silver: dict[str, Any] | None = None
    dead_letters: list[DeadLetter] = field(default_factory=list)

    @property
    def found(self) -> bool:
        """True when any stage holds the event."""
        return bool(self.records or self.silver or self.dead_letters)


_SILVER_FIELDS = (
    "event_type",
    "event_time",
    "received_at",
    "is_late",
    "kafka_partition",
    "kafka_offset",
    "event_date",
)


def _bronze_records(spark: SparkSession, lake: Lake, event_id: str) -> list[dict[str, Any]]:
    from pyspark.sql import functions as sf

    bronze = read_table(spark, lake.bronze)
    rows = (
        bronze.where(header_text(EVENT_ID_HEADER) == sf.lit(event_id))
        .select("topic", "partition", "offset", "received_at")
        .orderBy("partition", "offset")
        .collect()
    )
    return [row.asDict() for row in rows]


def trace_event(spark: SparkSession, lake: Lake, event_id: str) -> Trace:
    """Find `event_id` in Bronze (by its header), Silver and Quarantine.

    Raises:
        TableNotFoundError: Bronze or Silver does not exist yet.
    """
    from pyspark.sql import functions as sf

    trace = Trace(event_id=event_id)
    silver_rows = (
        read_table(spark, lake.silver)
        .where(sf.col("event_id") == event_id)
        .select(
            "event_type",
            "event_time",
            "received_at",
            "is_late",
            "kafka_partition",
            "kafka_offset",
            "event_date",
        )
        .collect()
    )
    trace.silver = silver_rows[0].asDict() if silver_rows else None
    kept = (trace.silver["kafka_partition"], trace.silver["kafka_offset"]) if trace.silver else None
    quarantined: dict[tuple[int, int], tuple[str, str]] = {}
    if (quarantine := load_if_exists(spark, lake.quarantine)) is not None:
        for row in (
            quarantine.where(sf.col("event_id") == event_id)
            .select("kafka_partition", "kafka_offset", "reason", "detail")
            .collect()
        ):
            quarantined[row["kafka_partition"], row["kafka_offset"]] = (row["reason"], row["detail"] or "")
    for record in _bronze_records(spark, lake, event_id):
        coordinates = (record["partition"], record["offset"])
        if coordinates == kept:
            fate, detail = (
                "silver",
                f"kept in Silver (event_date {trace.silver and trace.silver['event_date']})",
            )
        elif coordinates in quarantined:
            fate, detail = "quarantine", ": ".join(quarantined[coordinates])
        elif kept is not None:
            fate, detail = "duplicate", f"duplicate of partition {kept[0]} offset {kept[1]}"
        else:
            fate, detail = "unexplained", "in Bronze only: Silver has not processed it yet, or it was lost"
        trace.records.append(
            RecordFate(record["partition"], record["offset"], record["received_at"], fate, detail)
        )
    return trace


def find_dead_letters(bootstrap: str, topic: str, event_id: str, timeout_s: float = 10.0) -> list[DeadLetter]:
    """Scan the dead-letter topic from its start for rejections of `event_id`.

    Raises:
        InspectError: the broker did not answer.
    """
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "accord-trace", "enable.auto.commit": False}
    )
    found: list[DeadLetter] = []
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if metadata is None or metadata.error is not None:
            return found
        ends: dict[int, int] = {}
        assignment = []
        for partition in metadata.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s)
            if high > low:
                ends[partition] = high
                assignment.append(TopicPartition(topic, partition, low))
        consumer.assign(assignment)
        remaining = set(ends)
        while remaining:
            message = consumer.poll(timeout_s)
            if message is None:
                break
            partition, offset, value = message.partition(), message.offset(), message.value()
            if message.error() is not None or partition is None or offset is None or value is None:
                continue
            if offset + 1 >= ends[partition]:
                remaining.discard(partition)
            try:
                record = json.loads(value)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("event_id") == event_id:
                found.append(
                    DeadLetter(
                        partition,
                        offset,
                        str(record.get("failure_type")),
                        list(record.get("errors") or []),
                    )
                )
    except KafkaException as exc:
        raise InspectError(f"cannot read the dead-letter topic {topic!r} from {bootstrap}: {exc}") from exc
    finally:
        consumer.close()
    return found

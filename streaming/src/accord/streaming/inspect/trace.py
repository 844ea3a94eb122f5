"""Where one event is: its Kafka records, and for each the Bronze row and what became of it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from accord.streaming.errors import InspectError
from accord.streaming.inspect.tables import LakeReader, header_values
from accord.wire.headers import EVENT_ID as EVENT_ID_HEADER

if TYPE_CHECKING:
    import pyarrow as pa


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

    @property
    def code(self) -> str:
        """The gateway's error code for the rejection (the first error's rule)."""
        return str(self.errors[0].get("rule")) if self.errors else self.failure_type


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


def _naive_rows(rows: pa.Table) -> list[dict[str, Any]]:
    """The rows as dicts, timestamps as naive UTC datetimes (as the lake's other readers show them)."""
    import pyarrow as pa

    naive = [
        pa.field(f.name, pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) else f
        for f in rows.schema
    ]
    listed: list[dict[str, Any]] = rows.cast(pa.schema(naive)).to_pylist()
    return listed


def _bronze_records(reader: LakeReader, event_id: str) -> list[dict[str, Any]]:
    """The Bronze records whose `accord.event_id` header is `event_id`, by partition and offset."""
    import pyarrow.compute as pc

    bronze = reader.require(
        reader.lake.bronze, ["partition", "offset", "received_at", "kafka_timestamp", "headers"]
    )
    ids = header_values(bronze["headers"], EVENT_ID_HEADER)
    rows = pc.filter(ids["row"], pc.equal(ids["value"], event_id.encode()))
    records = bronze.select(["partition", "offset", "received_at", "kafka_timestamp"]).take(rows)
    received = pc.coalesce(records["received_at"], records["kafka_timestamp"])
    records = records.select(["partition", "offset"]).append_column("received_at", received)
    return _naive_rows(records.sort_by([("partition", "ascending"), ("offset", "ascending")]))


def trace_event(reader: LakeReader, event_id: str) -> Trace:
    """Find `event_id` in Bronze (by its header), Silver and Quarantine.

    Silver and Quarantine are read with a filter on `event_id`, which delta-rs and Parquet
    statistics use to skip files and row groups; Bronze keeps the id in a header, so only its
    coordinates and headers are read.

    Raises:
        TableNotFoundError: Bronze or Silver does not exist yet.
    """
    import pyarrow.dataset as ds

    lake = reader.lake
    trace = Trace(event_id=event_id)
    is_event = ds.field("event_id") == event_id
    silver_rows = _naive_rows(reader.require(lake.silver, _SILVER_FIELDS, is_event))
    trace.silver = silver_rows[0] if silver_rows else None
    kept = (trace.silver["kafka_partition"], trace.silver["kafka_offset"]) if trace.silver else None
    quarantined: dict[tuple[int, int], tuple[str, str]] = {}
    columns = ["kafka_partition", "kafka_offset", "reason", "detail"]
    if (quarantine := reader.read(lake.quarantine, columns, is_event)) is not None:
        for row in quarantine.to_pylist():
            quarantined[row["kafka_partition"], row["kafka_offset"]] = (row["reason"], row["detail"] or "")
    for record in _bronze_records(reader, event_id):
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


def find_dead_letters(
    bootstrap: str,
    topic: str,
    event_id: str,
    timeout_s: float = 10.0,
    *,
    client_config: Mapping[str, str] | None = None,
) -> list[DeadLetter]:
    """Scan the dead-letter topic from its start for rejections of `event_id`.

    Raises:
        InspectError: the broker did not answer.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            **(client_config or {}),
            "group.id": "accord-trace",
            "enable.auto.commit": False,
        }
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

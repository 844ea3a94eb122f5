"""A fresh stream service's first batches, run on made-up records before its query starts.

A new JVM interprets Spark's code at first and compiles each plan's generated classes on first
use: the first batches with records took several times a warm batch, and at 2,000 events/s the
backlog they left took a minute to clear. Before its query starts, the service runs a few
batches of synthetic records, of every registered event contract, through the ingest step
(`accord.streaming.ingest.IngestBatch`) into a scratch lake under the state folder, then deletes
that lake. The real lake and Kafka are not touched, and a warm-up that fails is logged and
skipped: it only ever costs start-up time.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import fastavro

from accord.streaming.batch_schemas import ENVELOPE_FIELD, BatchSchemaResolver, ResolvedWriter
from accord.streaming.settings import StreamingSettings
from accord.wire.framing import frame
from accord.wire.headers import RECEIVED_AT, encode_millis

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

WARMUP_FOLDER = "warmup-lake"
KAFKA_SOURCE_SCHEMA = (
    "key binary, value binary, topic string, partition int, offset long, timestamp timestamp, "
    "timestampType int, headers array<struct<key:string,value:binary>>"
)
# a batch about the size of one at 2,000 events/s; each batch after the first resends a tenth of
# the one before, so the duplicate lookups run too
RECORDS_PER_BATCH = 3_000
RESENT_SHARE = 10
PARTITIONS = 2


def warm_up(spark: SparkSession, settings: StreamingSettings, catalog: BatchSchemaResolver) -> None:
    """Run `settings.stream_warmup_batches` synthetic batches through the ingest step, then forget them."""
    from accord.streaming.ingest import IngestBatch

    if settings.stream_warmup_batches == 0:
        return
    scratch = settings.state_dir / WARMUP_FOLDER
    shutil.rmtree(scratch, ignore_errors=True)
    scratch_settings = settings.model_copy(update={"lake_uri": str(scratch), "checkpoint_uri": None})
    started = time.monotonic()
    try:
        writers = [w[-1] for w in catalog.registered_events().by_subject.values() if w]
        if not writers:
            log.info("stream warm-up skipped: no event contract is registered")
            return
        processor = IngestBatch(scratch_settings, catalog)
        processor.bind(f"warmup-{uuid.uuid4()}")
        offset = 0
        resent: list[bytes] = []
        for batch_id in range(settings.stream_warmup_batches):
            values = [*synthetic_values(writers, RECORDS_PER_BATCH), *resent]
            rows = _kafka_rows(values, settings.events_topic, offset)
            processor(spark.createDataFrame(rows, KAFKA_SOURCE_SCHEMA).repartition(PARTITIONS), batch_id)
            offset += len(rows)
            resent = values[: len(values) // RESENT_SHARE]
    except Exception as exc:  # a warm-up only saves time; the stream starts without it
        log.warning("stream warm-up failed, starting cold", extra={"error": str(exc)})
    else:
        facts = {"batches": settings.stream_warmup_batches, "seconds": round(time.monotonic() - started, 1)}
        log.info("stream warmed up", extra=facts)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def synthetic_values(writers: list[ResolvedWriter], count: int) -> list[bytes]:
    """`count` framed events, taking turns over `writers`, each a valid datum of its writer schema.

    Every optional field is filled (its first non-null branch), so every column is written; the
    envelope passes the stream's rules: a fresh id, the current time, one of a few users.
    """
    now = datetime.now(UTC)
    parsed = []
    for writer in writers:
        named: dict[str, Any] = {}
        parsed.append((writer.schema_id, fastavro.parse_schema(json.loads(writer.writer_json), named), named))
    values = []
    for n in range(count):
        schema_id, schema, named = parsed[n % len(parsed)]
        datum = _datum(schema, named, n, now)
        envelope = datum.get(ENVELOPE_FIELD) if isinstance(datum, dict) else None
        if isinstance(envelope, dict):
            envelope.update(event_id=str(uuid.uuid4()), event_time=now, user_id=f"warmup-user-{n % 97}")
        body = io.BytesIO()
        fastavro.schemaless_writer(body, schema, datum)
        values.append(frame(schema_id, body.getvalue()))
    return values


def _datum(schema: Any, named: dict[str, Any], n: int, now: datetime) -> Any:
    """A plain valid value of `schema` (a fastavro-parsed schema), varying with `n`.

    fastavro's own `generate_one` is random and ignores a decimal's precision, which Spark then
    fails to decode; these values stay small and inside every logical type's range.
    """
    if isinstance(schema, list):
        branches = [branch for branch in schema if branch != "null"]
        return _datum(branches[0], named, n, now) if branches else None
    if isinstance(schema, str):
        return _datum(named[schema], named, n, now) if schema in named else _PRIMITIVE_VALUES[schema](n)
    kind, logical = schema["type"], schema.get("logicalType")
    if logical == "decimal":
        return Decimal(n % 1000 + 1)
    if logical in ("timestamp-millis", "timestamp-micros"):
        return now
    if logical == "date":
        return now.date()
    if logical == "uuid":
        return str(uuid.uuid4())
    if kind == "record":
        return {f["name"]: _datum(f["type"], named, n, now) for f in schema["fields"]}
    if kind == "enum":
        return schema["symbols"][n % len(schema["symbols"])]
    if kind == "array":
        return [_datum(schema["items"], named, n + i, now) for i in range(2)]
    if kind == "map":
        return {f"key-{i}": _datum(schema["values"], named, n + i, now) for i in range(2)}
    if kind == "fixed":
        return bytes(schema["size"])
    return _datum(kind, named, n, now)


_PRIMITIVE_VALUES: dict[str, Any] = {
    "null": lambda n: None,
    "boolean": lambda n: n % 2 == 0,
    "int": lambda n: n % 100 + 1,
    "long": lambda n: n + 1,
    "float": lambda n: n * 0.5,
    "double": lambda n: n * 0.25,
    "bytes": lambda n: n.to_bytes(4, "big"),
    "string": lambda n: f"warm-up-{n}",
}


def _kafka_rows(values: list[bytes], topic: str, first_offset: int) -> list[tuple[Any, ...]]:
    """Kafka source rows (`KAFKA_SOURCE_SCHEMA`) of `values`, received now, over `PARTITIONS` partitions."""
    now = datetime.now(UTC)
    headers = [(RECEIVED_AT, encode_millis(int(now.timestamp() * 1000)))]
    return [
        (None, value, topic, offset % PARTITIONS, offset, now, 0, headers)
        for offset, value in enumerate(values, start=first_offset)
    ]

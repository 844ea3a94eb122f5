"""Bronze rows → decoded events, plus the rows that cannot be decoded, with their reason.

Records are grouped by subject; within a subject every writer schema id gets its own
`from_avro` branch whose `avroSchema` is the subject's latest reader schema, so every branch
has the same Spark type and old and new versions land in one evolving column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import reduce
from typing import TYPE_CHECKING

from accord.streaming.batch_schemas import ENVELOPE_COLUMNS, ENVELOPE_FIELD, BatchSchemas, ResolvedWriter
from accord.streaming.contract_rules import CONTRACT_COLUMN, contract_rules
from accord.streaming.framing import MAX_MILLIS, MIN_MILLIS, avro_payload, header_epoch_millis
from accord.streaming.rules import event_rules, first_broken
from accord.wire.headers import SENT_AT as SENT_AT_HEADER

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

BAD_FRAMING = "bad_framing"
UNKNOWN_SCHEMA = "unknown_schema"
UNDECODABLE = "undecodable"
CONFLICTING_DUPLICATE = "conflicting_duplicate"

RAW_COLUMNS = ("key", "value", "schema_id", "received_at", "kafka_timestamp", "sent_at")


@dataclass(frozen=True)
class Decoded:
    """One micro-batch split in two: decoded events (`reason` null when valid) and raw rejects."""

    events: DataFrame | None
    rejects: DataFrame


def with_coordinates(bronze: DataFrame) -> DataFrame:
    """Bronze rows with Silver's names for the Kafka coordinates and the sent-at header parsed."""
    from pyspark.sql import functions as sf

    return bronze.select(
        *RAW_COLUMNS[:3],
        # a record produced straight to Kafka (no gateway, so no receipt header) was received when
        # the broker stamped it
        sf.coalesce(sf.col("received_at"), sf.col("kafka_timestamp")).alias("received_at"),
        "kafka_timestamp",
        header_epoch_millis(SENT_AT_HEADER).alias("sent_at"),
        sf.col("topic").alias("kafka_topic"),
        sf.col("partition").alias("kafka_partition"),
        sf.col("offset").alias("kafka_offset"),
    )


def _record(writers: list[ResolvedWriter], rescue: bool) -> Column:
    """The decoded record (or, with `rescue`, the JSON of the writer-only fields) per schema id."""
    from pyspark.sql import functions as sf
    from pyspark.sql.avro.functions import from_avro

    branches = []
    for writer in writers:
        if rescue:
            if not writer.rescued_fields:
                continue
            full = from_avro(avro_payload(), writer.writer_json, {"mode": "PERMISSIVE"})
            value = sf.to_json(
                sf.struct(*[full.getField(name).alias(name) for name in writer.rescued_fields])
            )
        else:
            options = {"mode": "PERMISSIVE"}
            if writer.needs_resolution:
                options["avroSchema"] = writer.reader_json
            value = from_avro(avro_payload(), writer.writer_json, options)
        branches.append(sf.when(sf.col("schema_id") == writer.schema_id, value))
    if not branches:
        return sf.lit(None).cast("string")
    return branches[0] if len(branches) == 1 else sf.coalesce(*branches)


def _decode_subject(rows: DataFrame, subject: str, writers: list[ResolvedWriter]) -> DataFrame:
    from pyspark.sql import functions as sf
    from pyspark.sql.types import StructType

    event_type = writers[0].event_type
    decoded = rows.filter(sf.col("schema_id").isin([w.schema_id for w in writers])).withColumns(
        {"_record": _record(writers, rescue=False), "rescued_data": _record(writers, rescue=True)}
    )
    envelope = sf.col(f"_record.{ENVELOPE_FIELD}")
    record_type = decoded.schema["_record"].dataType
    assert isinstance(record_type, StructType), "from_avro of a record is a struct"
    own_fields = [name for name in record_type.fieldNames() if name != ENVELOPE_FIELD]
    own = [sf.col("_record").dropFields(ENVELOPE_FIELD).alias(event_type)] if own_fields else []
    return decoded.select(
        *[sf.col(name) for name in ("kafka_topic", "kafka_partition", "kafka_offset", *RAW_COLUMNS)],
        sf.lit(subject).alias("subject"),
        sf.lit(event_type).alias("event_type"),
        *[envelope.getField(name).alias(name) for name in ENVELOPE_COLUMNS],
        *own,
        "rescued_data",
    )


def corrected_time() -> Column:
    """`received_at - (sent_at - event_time)`: the device's time moved onto the platform's clock.

    Without both clocks it is `event_time` itself. The arithmetic cannot throw under ANSI mode:
    the sums are `try_` forms and the result becomes a timestamp only inside years 1-9999, so
    an absurd time or clock skew yields null (quarantined as `event_time_out_of_range`), never a
    failed micro-batch.
    """
    from pyspark.sql import functions as sf

    shift = sf.try_subtract(sf.unix_millis(sf.col("received_at")), sf.unix_millis(sf.col("sent_at")))
    total = sf.try_add(sf.unix_millis(sf.col("event_time")), shift)
    return (
        sf.when(sf.col("sent_at").isNull() | sf.col("received_at").isNull(), sf.col("event_time"))
        .when(total.between(MIN_MILLIS, MAX_MILLIS), sf.timestamp_millis(total))
        .otherwise(sf.lit(None).cast("timestamp"))
    )


def decode(bronze: DataFrame, schemas: BatchSchemas, horizon: timedelta, skew: timedelta) -> Decoded:
    """Decode a micro-batch of Bronze rows and apply the rules.

    `events` has one row per decodable record with `reason`/`detail` set for undecodable records
    and broken rules; `rejects` holds bad framing and unknown schema ids.
    """
    from pyspark.sql import functions as sf

    rows = with_coordinates(bronze)
    unknown = (
        sf.create_map(*[sf.lit(x) for pair in schemas.unknown.items() for x in pair])
        if schemas.unknown
        else None
    )
    known_ids = [w.schema_id for writers in schemas.by_subject.values() for w in writers]
    rejects = rows.filter(sf.col("schema_id").isNull() | ~sf.col("schema_id").isin(known_ids)).select(
        *rows.columns,
        sf.when(sf.col("schema_id").isNull(), sf.lit(BAD_FRAMING))
        .otherwise(sf.lit(UNKNOWN_SCHEMA))
        .alias("reason"),
        sf.when(
            sf.col("schema_id").isNull(),
            sf.lit("value is not Confluent-framed (magic byte 0x00 and a 4-byte schema id)"),
        )
        .otherwise(
            sf.coalesce(
                sf.try_element_at(unknown, sf.col("schema_id")) if unknown is not None else sf.lit(None),
                sf.lit("unknown schema id"),
            )
        )
        .alias("detail"),
        sf.lit(None).cast("string").alias("event_id"),
    )
    parts = [_decode_subject(rows, subject, writers) for subject, writers in schemas.by_subject.items()]
    if not parts:
        return Decoded(events=None, rejects=rejects)
    events = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), parts)
    events = events.withColumns(
        {
            "event_time_corrected": corrected_time(),
            "reference_time": sf.coalesce(sf.col("received_at"), sf.col("kafka_timestamp")),
        }
    )
    events, contract = contract_rules(events, schemas)
    rule_reason, rule_detail = first_broken([*event_rules(horizon, skew), *contract])
    undecodable = sf.col("event_id").isNull()
    events = events.withColumns(
        {
            "reason": sf.when(undecodable, sf.lit(UNDECODABLE)).otherwise(rule_reason),
            "detail": sf.when(
                undecodable,
                sf.format_string("cannot decode the Avro payload with schema id %s", sf.col("schema_id")),
            ).otherwise(rule_detail),
        }
    ).drop("reference_time", CONTRACT_COLUMN)
    return Decoded(events=events, rejects=rejects)

"""Deduplication on `event_id`, within a micro-batch and against the copies Silver already keeps.

The earliest copy (Kafka timestamp, then partition, then offset) is kept. Any other copy is an
exact duplicate when its payload bytes are the same as the kept copy's, and a conflicting
duplicate otherwise. A Silver row whose Kafka coordinates are the candidate's own is that very
record, written by an earlier attempt of the same batch (or by the stream, for a backfill):
it is `kept`, counted with the inserted rows but not written again, so a re-run classifies
every record as the first attempt did.

The kept copies come from the event-id index (`accord.streaming.id_index`), so a batch reads
only the few index files its ids can be in, never the whole table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

INSERT = "insert"
KEPT = "kept"
DUPLICATE = "duplicate"
CONFLICTING = "conflicting"

COORDINATES = ("kafka_topic", "kafka_partition", "kafka_offset")
KEPT_SCHEMA = "event_id string, _kept_hash string, _kept_topic string, _kept_partition int, _kept_offset long"


def classify(candidates: DataFrame, kept: DataFrame | None) -> DataFrame:
    """`candidates` (valid decoded events with `payload_sha256`) with a `dedup_status` column.

    `kept` holds, for ids already kept in Silver, the kept copy's hash and Kafka coordinates
    (`KEPT_SCHEMA`, one row per id). `kept_partition`/`kept_offset` say which record holds the
    kept copy, for duplicates.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    order = Window.partitionBy("event_id").orderBy("kafka_timestamp", "kafka_partition", "kafka_offset")
    ranked = candidates.withColumns(
        {
            "_rank": sf.row_number().over(order),
            "_first_hash": sf.first("payload_sha256").over(order),
            "_first_partition": sf.first("kafka_partition").over(order),
            "_first_offset": sf.first("kafka_offset").over(order),
        }
    )
    if kept is None:
        joined = ranked.withColumns(
            {name: sf.lit(None) for name in ("_kept_hash", "_kept_topic", "_kept_partition", "_kept_offset")}
        )
    else:
        joined = ranked.join(sf.broadcast(kept), "event_id", "left")
    in_table = sf.col("_kept_hash").isNotNull()
    is_self = (
        in_table
        & (sf.col("_kept_topic") == sf.col("kafka_topic"))
        & (sf.col("_kept_partition") == sf.col("kafka_partition"))
        & (sf.col("_kept_offset") == sf.col("kafka_offset"))
    )
    kept_hash = sf.coalesce(sf.col("_kept_hash"), sf.col("_first_hash"))
    status = (
        sf.when(is_self, sf.lit(KEPT))
        .when(~in_table & (sf.col("_rank") == 1), sf.lit(INSERT))
        .when(sf.col("payload_sha256") == kept_hash, sf.lit(DUPLICATE))
        .otherwise(sf.lit(CONFLICTING))
    )
    return joined.withColumns(
        {
            "dedup_status": status,
            "kept_partition": sf.coalesce(sf.col("_kept_partition"), sf.col("_first_partition")),
            "kept_offset": sf.coalesce(sf.col("_kept_offset"), sf.col("_first_offset")),
        }
    ).drop(
        "_rank",
        "_first_hash",
        "_first_partition",
        "_first_offset",
        "_kept_hash",
        "_kept_topic",
        "_kept_partition",
        "_kept_offset",
    )

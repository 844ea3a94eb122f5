"""Bronze: every Kafka record of the `events` topic, as received, in an append-only Delta table.

The streaming sink is exactly once per (topic, partition, offset) through its checkpoint; a
replay (see `accord.streaming.replay`) only appends offsets the table does not hold yet.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from accord.streaming import delta_io
from accord.streaming.framing import header_epoch_millis, schema_id
from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings
from accord.streaming.triggers import with_trigger
from accord.wire.headers import RECEIVED_AT as RECEIVED_AT_HEADER

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.streaming.query import StreamingQuery

log = logging.getLogger(__name__)

BRONZE_QUERY = "bronze"
BRONZE_PARTITIONS = ("ingest_date",)


def kafka_options(settings: StreamingSettings) -> dict[str, str]:
    """Options of the Kafka source shared by the stream and replays."""
    return {
        "kafka.bootstrap.servers": settings.kafka_bootstrap,
        **settings.kafka_security.spark_options(),
        "subscribe": settings.events_topic,
        "includeHeaders": "true",
        # a topic deleted and re-created must not stop the stream for ever; the ledger shows the gap
        "failOnDataLoss": "false",
    }


def to_bronze(kafka: DataFrame) -> DataFrame:
    """Kafka source rows as Bronze rows: raw bytes, coordinates, headers and what the framing tells."""
    from pyspark.sql import functions as sf

    return kafka.select(
        "key",
        "value",
        "topic",
        sf.col("partition").cast("int").alias("partition"),
        sf.col("offset").cast("long").alias("offset"),
        sf.col("timestamp").alias("kafka_timestamp"),
        "headers",
        schema_id("value").alias("schema_id"),
        header_epoch_millis(RECEIVED_AT_HEADER).alias("received_at"),
        sf.to_date("timestamp").alias("ingest_date"),
    )


BRONZE_SCHEMA = (
    "key binary, value binary, topic string, partition int, offset long, kafka_timestamp timestamp, "
    "headers array<struct<key:string,value:binary>>, schema_id int, received_at timestamp, ingest_date date"
)


def ensure_bronze_table(spark: SparkSession, path: str, properties: Mapping[str, str] | None = None) -> None:
    """Create the empty Bronze table, so Silver can stream from it before any record arrives."""
    delta_io.create_if_missing(
        spark, path, BRONZE_SCHEMA, partition_by=BRONZE_PARTITIONS, properties=properties
    )


def kafka_reader(spark: SparkSession, settings: StreamingSettings) -> DataFrame:
    """The streaming Kafka source of the `events` topic, one task per topic partition."""
    reader = spark.readStream.format("kafka").options(**kafka_options(settings))
    reader = reader.option("startingOffsets", settings.starting_offsets)
    if settings.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(settings.max_offsets_per_trigger))
    return reader.load()


def start_bronze(
    spark: SparkSession, settings: StreamingSettings, *, available_now: bool = False
) -> StreamingQuery:
    """Start the Kafka → Bronze query alone (the service runs `accord.streaming.ingest` instead)."""
    lake = Lake.from_settings(settings)
    ensure_bronze_table(spark, lake.bronze)
    writer = (
        to_bronze(kafka_reader(spark, settings))
        .writeStream.queryName(BRONZE_QUERY)
        .format("delta")
        .outputMode("append")
        .partitionBy(*BRONZE_PARTITIONS)
        .option("checkpointLocation", lake.checkpoint(BRONZE_QUERY))
        # as in `ingest`: an optimized write would shuffle a batch (one ingest date) into one
        # task; each Kafka partition's task writes its own file instead
        .option("optimizeWrite", "false")
    )
    writer = with_trigger(writer, settings, available_now=available_now)
    query = writer.start(lake.bronze)
    log.info("bronze stream started", extra={"table": lake.bronze, "topic": settings.events_topic})
    return query

"""Backfill: Silver recomputed from Bronze for a range of ingest dates, one day at a time.

Without `rebuild`, only what Silver and Quarantine lack is added (after an outage, or records
quarantined before a registry fix). With `rebuild`, the range's Silver and Quarantine rows are
deleted first and recomputed with today's schemas and rules. Both are idempotent: a second run
leaves the tables as the first left them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING

from accord.streaming import delta_io, quarantine
from accord.streaming.batch_schemas import BatchSchemaResolver
from accord.streaming.errors import InvalidRangeError
from accord.streaming.lake import Lake
from accord.streaming.ops import BatchCounts
from accord.streaming.settings import StreamingSettings
from accord.streaming.silver import SilverBatch

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

BACKFILL_SOURCE = "backfill"


def days(first: date, last: date) -> list[date]:
    """Every date from `first` to `last`, both included."""
    if last < first:
        raise InvalidRangeError(f"the range ends ({last}) before it starts ({first})")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def backfill(
    spark: SparkSession,
    settings: StreamingSettings,
    catalog: BatchSchemaResolver,
    first: date,
    last: date,
    *,
    rebuild: bool = False,
    on_day: Callable[[date, BatchCounts], None] | None = None,
) -> list[BatchCounts]:
    """Recompute Silver from the Bronze rows ingested from `first` to `last`; the counts per day."""
    from pyspark.sql import functions as sf

    lake = Lake.from_settings(settings)
    bronze = delta_io.load_if_exists(spark, lake.bronze)
    if bronze is None:
        return []
    processor = SilverBatch(settings, catalog, source=BACKFILL_SOURCE)
    results = []
    for day in days(first, last):
        rows = bronze.filter(sf.col("ingest_date") == sf.lit(day))
        if rebuild:
            coordinates = rows.select(
                sf.col("topic").alias("kafka_topic"),
                sf.col("partition").alias("kafka_partition"),
                sf.col("offset").alias("kafka_offset"),
            )
            delta_io.delete_matching(spark, lake.silver, coordinates, quarantine.KEYS)
            delta_io.delete_matching(spark, lake.event_ids, coordinates, quarantine.KEYS)
            delta_io.delete_matching(spark, lake.quarantine, coordinates, quarantine.KEYS)
        counts = processor.process(rows, batch_id=int(day.strftime("%Y%m%d")))
        log.info("backfill day done", extra={"day": str(day), "rebuild": rebuild, **counts.as_log()})
        if on_day is not None:
            on_day(day, counts)
        results.append(counts)
    return results

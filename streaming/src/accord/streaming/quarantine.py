"""Quarantine: every record that could not become Silver, with its reason and raw bytes.

Rows are keyed by their Kafka coordinates, so writing the same record twice (a batch re-run, a
backfill) keeps one row.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING

from accord.streaming import delta_io

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

COLUMNS = (
    "reason",
    "detail",
    "event_id",
    "schema_id",
    "value",
    "key",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "received_at",
)
KEYS = ("kafka_topic", "kafka_partition", "kafka_offset")
SCHEMA = (
    "reason string, detail string, event_id string, schema_id int, value binary, key binary, "
    "kafka_topic string, kafka_partition int, kafka_offset long, received_at timestamp, "
    "quarantined_at timestamp"
)


def write(parts: list[DataFrame], path: str) -> None:
    """Add the quarantined rows of `parts` (each with at least `COLUMNS`) not yet in the table."""
    from pyspark.sql import functions as sf

    rows = reduce(lambda a, b: a.unionByName(b), [part.select(*COLUMNS) for part in parts])
    delta_io.insert_new(rows.withColumn("quarantined_at", sf.current_timestamp()), path, KEYS)

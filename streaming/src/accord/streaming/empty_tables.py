"""The lake's tables, created empty when the stream starts.

Spark reads a missing table as an error it can catch; delta-rs, polars and DuckDB fail on the
path. So every table exists from the first start, not from its first row, and a healthy lake
with no bad record reads as an empty Quarantine. Quarantine, the batch counts and the
experiment assignments have a fixed shape; Bronze's is the Kafka record's; Silver's columns
come from the contracts registered at the start (`accord.streaming.silver.ensure_silver`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from accord.streaming import checkpoints, delta_io, ops, quarantine
from accord.streaming.batch_schemas import BatchSchemaResolver
from accord.streaming.bronze import ensure_bronze_table
from accord.streaming.experiments import ASSIGNMENTS_SCHEMA
from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings
from accord.streaming.silver import ensure_silver

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


def fixed_tables(lake: Lake) -> dict[str, str]:
    """Path and schema (Spark DDL) of each table created empty."""
    return {
        lake.quarantine: quarantine.SCHEMA,
        lake.silver_batches: ops.SCHEMA,
        lake.assignments: ASSIGNMENTS_SCHEMA,
    }


def ensure_tables(spark: SparkSession, settings: StreamingSettings, catalog: BatchSchemaResolver) -> None:
    """Create each table of the lake that does not exist yet; existing ones keep their rows and schema.

    The stream's tables get their checkpoint intervals (`accord.streaming.checkpoints`), new or not.
    """
    lake = Lake.from_settings(settings)
    ensure_bronze_table(spark, lake.bronze, checkpoints.creation_properties(settings, lake.bronze))
    ensure_silver(spark, settings, catalog)
    for path, schema in fixed_tables(lake).items():
        if delta_io.table_exists(spark, path):
            continue
        delta_io.create_if_missing(
            spark, path, schema, properties=checkpoints.creation_properties(settings, path)
        )
        log.info("empty table created", extra={"table": path})
    checkpoints.keep_intervals(spark, settings)

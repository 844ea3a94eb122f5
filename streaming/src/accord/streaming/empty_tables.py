"""The lake's tables of fixed shape, created empty when the stream starts.

Spark reads a missing table as an error it can catch; delta-rs, polars and DuckDB fail on the
path. So Quarantine, the batch counts and the experiment assignments exist from the first start,
not from their first row, and a healthy lake with no bad record reads as an empty Quarantine.
Bronze is created by its query; Silver's columns come from the contracts (a struct per event
type), so it appears with the first valid event.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from accord.streaming import delta_io, ops, quarantine
from accord.streaming.experiments import ASSIGNMENTS_SCHEMA
from accord.streaming.lake import Lake

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


def ensure_tables(spark: SparkSession, lake: Lake) -> None:
    """Create each of `fixed_tables` that does not exist yet; existing tables are left as they are."""
    from delta.tables import DeltaTable

    for path, schema in fixed_tables(lake).items():
        if delta_io.table_exists(spark, path):
            continue
        DeltaTable.createIfNotExists(spark).location(path).addColumns(
            spark.createDataFrame([], schema).schema
        ).execute()
        log.info("empty table created", extra={"table": path})

"""Idempotent writes to the lake's Delta tables.

Insert-only MERGE on a table's natural key is idempotent by nature: running it again inserts
nothing. A stream's appends use Delta's `txnAppId`/`txnVersion` writer options, which make
Delta skip a write it has already committed for the same (application, version).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accord.streaming.errors import TableNotFoundError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class Txn:
    """An idempotent write's identity: a stable application id and a version that only grows."""

    app_id: str
    version: int


_MISSING_TABLE_CONDITIONS = frozenset(
    {"PATH_NOT_FOUND", "DELTA_MISSING_DELTA_TABLE", "DELTA_TABLE_NOT_FOUND"}
)


def load_if_exists(spark: SparkSession, path: str, version: int | None = None) -> DataFrame | None:
    """The Delta table at `path` (as of `version` when given), or None when there is none.

    The table is loaded rather than asked about: Delta caches the answer of
    `DeltaTable.isDeltaTable` per session, so a table another process creates after a first
    negative answer would stay invisible to a long-running session.
    """
    from pyspark.errors import AnalysisException

    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    try:
        return reader.load(path)
    except AnalysisException as exc:
        if exc.getCondition() in _MISSING_TABLE_CONDITIONS:
            return None
        raise


def read_table(spark: SparkSession, path: str, version: int | None = None) -> DataFrame:
    """The Delta table at `path`, as of `version` when given (so several reads see one snapshot).

    Raises:
        TableNotFoundError: there is no Delta table at `path`.
    """
    frame = load_if_exists(spark, path, version)
    if frame is None:
        raise TableNotFoundError(path)
    return frame


def latest_version(spark: SparkSession, path: str) -> int:
    """The newest version of the Delta table at `path`.

    Raises:
        TableNotFoundError: there is no Delta table at `path`.
    """
    from delta.tables import DeltaTable

    read_table(spark, path)
    newest = DeltaTable.forPath(spark, path).history(1).select("version").first()
    if newest is None:
        raise TableNotFoundError(path)
    version: int = newest[0]
    return version


def table_exists(spark: SparkSession, path: str) -> bool:
    """True when `path` holds a Delta table."""
    return load_if_exists(spark, path) is not None


def append(
    df: DataFrame,
    path: str,
    *,
    partition_by: Sequence[str] = (),
    txn: Txn | None = None,
    optimize_write: bool = False,
) -> None:
    """Append `df` to the table at `path` (creating it), at most once per `txn`.

    `optimize_write` shuffles the rows by partition before writing, so each partition a batch
    touches gets one file rather than one per task.
    """
    writer = df.write.format("delta").mode("append").option("mergeSchema", "true")
    if optimize_write:
        writer = writer.option("optimizeWrite", "true")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if txn is not None:
        writer = writer.option("txnAppId", txn.app_id).option("txnVersion", str(txn.version))
    writer.save(path)


def _aligned(df: DataFrame, target: DataFrame) -> DataFrame:
    """`df` with every target column it lacks added as null, so `INSERT *` can name them all."""
    from pyspark.sql import functions as sf

    missing = {
        f.name: sf.lit(None).cast(f.dataType) for f in target.schema.fields if f.name not in df.columns
    }
    return df.withColumns(missing) if missing else df


def insert_new(
    df: DataFrame,
    path: str,
    keys: Sequence[str],
    *,
    partition_by: Sequence[str] = (),
) -> None:
    """Insert the rows of `df` whose `keys` the table does not hold yet (creates the table)."""
    from delta.tables import DeltaTable

    spark = df.sparkSession
    if not table_exists(spark, path):
        append(df, path, partition_by=partition_by)
        return
    target = DeltaTable.forPath(spark, path)
    condition = " AND ".join(f"t.`{key}` <=> s.`{key}`" for key in keys)
    (
        target.alias("t")
        .merge(_aligned(df, target.toDF()).alias("s"), condition)
        .withSchemaEvolution()
        .whenNotMatchedInsertAll()
        .execute()
    )


def delete_matching(spark: SparkSession, path: str, keys_df: DataFrame, keys: Sequence[str]) -> None:
    """Delete the rows of the table at `path` whose `keys` appear in `keys_df`."""
    from delta.tables import DeltaTable

    if not table_exists(spark, path):
        return
    condition = " AND ".join(f"t.`{key}` = s.`{key}`" for key in keys)
    DeltaTable.forPath(spark, path).alias("t").merge(
        keys_df.select(*keys).distinct().alias("s"), condition
    ).whenMatchedDelete().execute()

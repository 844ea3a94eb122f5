"""Idempotent writes to the lake's Delta tables.

Insert-only MERGE on a table's natural key is idempotent by nature: running it again inserts
nothing. A stream's appends are idempotent per (application, version), the pair Delta's
`txnAppId`/`txnVersion` writer options name. Those options make Delta-Spark rebuild the whole
table state (three Spark jobs) before every write to learn the last version committed, which
at one micro-batch a second and four tables per batch was most of a batch's time. So the pair
is written as the commit's `userMetadata` instead, and looked up by delta-rs in the newest
commits of the table's log, without a Spark job. A batch is only ever re-run right after the
attempt that died, so its marker, when there is one, is among the newest commits; commits that
still carry Delta's own `txn` action (lakes written before) are found through delta-rs too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accord.streaming.errors import TableNotFoundError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from accord.streaming.inspect.tables import LakeReader

log = logging.getLogger(__name__)

MARKER_KEY = "accord_txn"
# how far back the marker of an interrupted attempt is looked for: only commits of other writers
# (a backfill, a compaction run by hand) can come after it, while the stream was down
MARKER_SEARCH_COMMITS = (8, 1_000)


@dataclass(frozen=True)
class Txn:
    """An idempotent write's identity: a stable application id and a version that only grows."""

    app_id: str
    version: int

    def marker(self) -> str:
        """The commit's `userMetadata` that records this write."""
        return json.dumps({MARKER_KEY: {"app_id": self.app_id, "version": self.version}})


def _marked_version(commit: dict[str, Any], app_id: str) -> int | None:
    """The version a commit's marker records for `app_id`, or None when it has none for it."""
    try:
        marker = json.loads(commit.get("userMetadata") or "{}").get(MARKER_KEY) or {}
    except (ValueError, AttributeError):
        return None
    if not isinstance(marker, dict) or marker.get("app_id") != app_id:
        return None
    version = marker.get("version")
    return version if isinstance(version, int) else None


def committed(reader: LakeReader, path: str, txn: Txn) -> bool:
    """True when the table at `path` holds a commit of `txn.app_id` at `txn.version` or later."""
    table = reader.latest(path)
    if table is None:
        return False
    for limit in MARKER_SEARCH_COMMITS:
        commits = table.history(limit)
        for commit in commits:
            version = _marked_version(commit, txn.app_id)
            if version is not None:
                return version >= txn.version
        if len(commits) < limit:
            break
    legacy = table.transaction_version(txn.app_id)
    return legacy is not None and legacy >= txn.version


def is_committed(spark: SparkSession, reader: LakeReader, path: str, txn: Txn) -> bool:
    """`committed`, read through Spark where delta-rs cannot read the table's history."""
    try:
        return committed(reader, path, txn)
    except OSError as exc:
        # delta-rs could not read the log's history (an S3-compatible server answered a
        # request it does not serve); Spark's own reader answers the same question
        log.warning("commit markers read through Spark", extra={"table": path, "error": str(exc)})
        return _committed_by_spark(spark, path, txn)


def _committed_by_spark(spark: SparkSession, path: str, txn: Txn) -> bool:
    """`committed`, read from the table's history by Spark."""
    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, path).history(MARKER_SEARCH_COMMITS[-1]).select("userMetadata")
    for row in history.collect():
        version = _marked_version({"userMetadata": row.userMetadata}, txn.app_id)
        if version is not None:
            return version >= txn.version
    return False


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
    reader: LakeReader | None = None,
    optimize_write: bool | None = None,
    properties: Mapping[str, str] | None = None,
) -> None:
    """Append `df` to the table at `path` (creating it with `properties`), at most once per `txn`.

    A `txn` needs the `reader` that looks its marker up. `optimize_write` shuffles the rows by
    partition before writing, so each partition a batch touches gets one file rather than one
    per task; None leaves it to the session's `spark.databricks.delta.optimizeWrite.enabled`.
    """
    if txn is not None:
        if reader is None:
            raise ValueError("an idempotent append needs the reader that finds its commit marker")
        if is_committed(df.sparkSession, reader, path, txn):
            return
    writer = df.write.format("delta").mode("append").option("mergeSchema", "true")
    if optimize_write is not None:
        writer = writer.option("optimizeWrite", str(optimize_write).lower())
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    # Delta takes `delta.*` options as the properties of a table the write creates, and ignores
    # them for an existing one
    for key, value in (properties or {}).items():
        writer = writer.option(key, value)
    if txn is not None:
        writer = writer.option("userMetadata", txn.marker())
    writer.save(path)


def write_tasks(spark: SparkSession, rows: int, rows_per_task: int) -> int:
    """Tasks to write `rows` in: one per `rows_per_task` rows, at least one, at most one per core.

    A stream batch is small: one task writes it, a file per table partition, without the
    shuffle of an optimized write. A large one (a backlog after a stop) uses every core.
    """
    cores = spark.sparkContext.defaultParallelism
    return max(1, min(cores, -(-rows // rows_per_task)))


def create_if_missing(
    spark: SparkSession,
    path: str,
    schema: str,
    *,
    partition_by: Sequence[str] = (),
    properties: Mapping[str, str] | None = None,
) -> None:
    """Create an empty table of `schema` (Spark DDL) with `properties` at `path`, unless one is there."""
    from delta.tables import DeltaTable

    builder = (
        DeltaTable.createIfNotExists(spark)
        .location(path)
        .addColumns(spark.createDataFrame([], schema).schema)
    )
    for key, value in (properties or {}).items():
        builder = builder.property(key, value)
    builder.partitionedBy(*partition_by).execute()


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

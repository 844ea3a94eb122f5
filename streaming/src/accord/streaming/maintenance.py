"""Table maintenance of the lake: OPTIMIZE (compaction, Z-order) and VACUUM of its Delta tables.

Which tables may be compacted while the stream writes follows from how they are written. The
stream only appends to Bronze, Silver and `_ops/silver_batches` (blind appends: Silver's dedup
reads the table in a query of its own, then appends), and Delta guarantees that a compaction,
which rewrites files without changing data (`dataChange=false`), never conflicts with a blind
append. Quarantine and the experiment assignments are written by MERGE, which reads the table
inside its transaction: a compaction committed during a MERGE would make that MERGE, hence the
stream's batch, fail. Those two are compacted only when asked for by name, with the stream
stopped.

Silver is Z-ordered by `event_type` within each closed `event_date` partition (one no event can
still reach, except late ones), once, when it holds more files than its final layout needs; open
partitions are bin-packed, rewriting only the files below the minimum size, so a periodic run
does not rewrite the day so far each time. When `event_type` is itself a partition column the
partitioning already groups by it and Z-order is skipped.

A maintenance commit that loses a conflict against another writer (a backfill, a second
`accord lake optimize`) is retried from a fresh snapshot: Delta's concurrent-modification
exceptions say exactly that the operation can be run again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from accord.streaming import delta_io
from accord.streaming.errors import StreamingError
from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

MIB = 1024 * 1024
OPTIMIZE = "optimize"
VACUUM = "vacuum"
_T = TypeVar("_T")


class MaintenanceError(StreamingError):
    """A maintenance operation that cannot be run as asked."""


class RetentionTooShortError(MaintenanceError):
    """A VACUUM retention below the table's `delta.deletedFileRetentionDuration`, without force."""


class UnknownTableError(MaintenanceError):
    """A table name that is not one of the lake's tables."""


class MaintenanceConflictError(MaintenanceError):
    """A maintenance commit kept losing against concurrent writers."""


@dataclass(frozen=True)
class LakeTable:
    """A Delta table of the lake, with what maintenance needs to know about its writers.

    `appends_only`: every writer only appends, so compaction can run beside them.
    `cluster_by`: columns to Z-order closed date partitions by.
    """

    name: str
    path: str
    appends_only: bool
    cluster_by: tuple[str, ...] = ()


def lake_tables(lake: Lake) -> list[LakeTable]:
    """Every table of the lake, in the order maintenance visits them."""
    return [
        LakeTable("bronze", lake.bronze, appends_only=True),
        LakeTable("silver", lake.silver, appends_only=True, cluster_by=("event_type",)),
        # one small file per bucket a batch touches: compacted like Silver, or lookups open them all
        LakeTable("event_ids", lake.event_ids, appends_only=True),
        LakeTable("silver_batches", lake.silver_batches, appends_only=True),
        LakeTable("quarantine", lake.quarantine, appends_only=False),
        LakeTable("assignments", lake.assignments, appends_only=False),
    ]


def select_tables(lake: Lake, names: Sequence[str] = (), *, include_merged: bool = False) -> list[LakeTable]:
    """The tables named (all that may run beside the stream when none is named).

    Raises:
        UnknownTableError: a name that is not a table of the lake.
    """
    tables = lake_tables(lake)
    if not names:
        return [t for t in tables if t.appends_only or include_merged]
    by_name = {t.name: t for t in tables}
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        raise UnknownTableError(
            f"unknown table(s) {', '.join(unknown)}; the lake's tables: {', '.join(by_name)}"
        )
    return [by_name[name] for name in dict.fromkeys(names)]


@dataclass(frozen=True)
class MaintenancePolicy:
    """How maintenance lays files out and how long VACUUM keeps unreferenced files."""

    min_file_bytes: int = 64 * MIB
    target_file_bytes: int = 256 * MIB
    vacuum_retention: timedelta = timedelta(days=7)
    closed_after: timedelta = timedelta(hours=1)
    lookback: timedelta = timedelta(days=31)
    attempts: int = 5

    @classmethod
    def from_settings(cls, settings: StreamingSettings) -> MaintenancePolicy:
        """The policy of `settings`: file sizes, retention, and dates still open to late events."""
        return cls(
            min_file_bytes=settings.lake_compact_min_file_mb * MIB,
            target_file_bytes=settings.lake_target_file_mb * MIB,
            vacuum_retention=timedelta(hours=settings.lake_vacuum_retention_hours),
            closed_after=settings.watermark_delay,
            # Silver refuses events older than the horizon, so older dates never change
            lookback=settings.event_time_horizon + timedelta(days=1),
        )


@dataclass(frozen=True)
class TableFiles:
    """Files and bytes of a table's current snapshot."""

    files: int
    bytes: int


@dataclass
class MaintenanceResult:
    """What one operation did to one table."""

    table: str
    operation: str
    before: TableFiles | None = None
    after: TableFiles | None = None
    files_removed: int = 0
    files_added: int = 0
    deleted: int = 0
    duration_s: float = 0.0
    attempts: int = 0
    note: str = ""

    def as_log(self) -> dict[str, object]:
        """The result as `extra` fields of a log record."""
        return {
            "table": self.table,
            "operation": self.operation,
            "files_before": self.before.files if self.before else None,
            "files_after": self.after.files if self.after else None,
            "bytes_before": self.before.bytes if self.before else None,
            "bytes_after": self.after.bytes if self.after else None,
            "files_removed": self.files_removed,
            "files_added": self.files_added,
            "deleted": self.deleted,
            "duration_s": round(self.duration_s, 3),
            "attempts": self.attempts,
            "note": self.note,
        }


def _conflicts() -> tuple[type[BaseException], ...]:
    from delta.exceptions import (
        ConcurrentAppendException,
        ConcurrentDeleteDeleteException,
        ConcurrentDeleteReadException,
        ConcurrentTransactionException,
        ConcurrentWriteException,
        DeltaConcurrentModificationException,
        MetadataChangedException,
        ProtocolChangedException,
    )

    return (
        ConcurrentAppendException,
        ConcurrentDeleteDeleteException,
        ConcurrentDeleteReadException,
        ConcurrentTransactionException,
        ConcurrentWriteException,
        DeltaConcurrentModificationException,
        MetadataChangedException,
        ProtocolChangedException,
    )


def retry_conflicts(
    operation: Callable[[], _T], *, table: str, name: str, attempts: int, backoff_s: float = 1.0
) -> tuple[_T, int]:
    """Run `operation`, again from scratch after each Delta conflict; return its result and the attempts.

    Raises:
        MaintenanceConflictError: still conflicting after `attempts` attempts.
    """
    conflicts = _conflicts()
    for attempt in range(1, attempts + 1):
        try:
            return operation(), attempt
        except conflicts as exc:
            log.warning(
                "lake maintenance conflict",
                extra={
                    "table": table,
                    "operation": name,
                    "attempt": attempt,
                    "conflict": type(exc).__name__,
                    "retry": attempt < attempts,
                },
            )
            if attempt == attempts:
                raise MaintenanceConflictError(
                    f"{name} of {table} lost {attempts} conflicts in a row against concurrent writers"
                ) from exc
            time.sleep(backoff_s * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def table_files(spark: SparkSession, path: str) -> TableFiles:
    """Files and bytes of the current snapshot of the table at `path` (from its log, no data read)."""
    from delta.tables import DeltaTable

    detail = DeltaTable.forPath(spark, path).detail().select("numFiles", "sizeInBytes").first()
    assert detail is not None
    return TableFiles(files=int(detail.numFiles or 0), bytes=int(detail.sizeInBytes or 0))


def partition_columns(spark: SparkSession, path: str) -> list[str]:
    """The partition columns of the table at `path`."""
    from delta.tables import DeltaTable

    detail = DeltaTable.forPath(spark, path).detail().select("partitionColumns").first()
    assert detail is not None
    return list(detail.partitionColumns or [])


def date_partitions(spark: SparkSession, path: str, since: date) -> dict[date, TableFiles]:
    """Files and bytes of each `event_date` partition from `since` on (reads file metadata only)."""
    from pyspark.sql import functions as sf

    files = (
        spark.read.format("delta")
        .load(path)
        .where(sf.col("event_date") >= sf.lit(since))
        .select(
            "event_date",
            sf.col("_metadata.file_path").alias("file"),
            sf.col("_metadata.file_size").alias("size"),
        )
        .distinct()
    )
    rows = files.groupBy("event_date").agg(sf.count("*").alias("files"), sf.sum("size").alias("bytes"))
    return {r.event_date: TableFiles(int(r.files), int(r.bytes)) for r in rows.collect()}


def _configure(spark: SparkSession, policy: MaintenancePolicy) -> None:
    # compaction picks files below the minimum and packs them up to the target; files already
    # large enough are left alone, so a periodic run rewrites only what landed since the last
    spark.conf.set("spark.databricks.delta.optimize.minFileSize", str(policy.min_file_bytes))
    spark.conf.set("spark.databricks.delta.optimize.maxFileSize", str(policy.target_file_bytes))
    # one bin at a time: maintenance shares two cores with the stream
    spark.conf.set("spark.databricks.delta.optimize.maxThreads", "1")


def _dates_to_cluster(
    spark: SparkSession, table: LakeTable, policy: MaintenancePolicy, now: datetime
) -> list[date]:
    """Closed date partitions holding more files than their Z-ordered layout would."""
    if not table.cluster_by:
        return []
    partitions = partition_columns(spark, table.path)
    if partitions != ["event_date"]:
        return []
    closed_before = (now - policy.closed_after).date()
    recent = date_partitions(spark, table.path, (now - policy.lookback).date())
    return sorted(
        day
        for day, files in recent.items()
        if day < closed_before and files.files > max(1, math.ceil(files.bytes / policy.target_file_bytes))
    )


def optimize_table(
    spark: SparkSession, table: LakeTable, policy: MaintenancePolicy, now: datetime | None = None
) -> MaintenanceResult:
    """Compact one table (Z-ordering Silver's closed dates); a missing table is reported, not created."""
    from delta.tables import DeltaTable

    result = MaintenanceResult(table=table.name, operation=OPTIMIZE)
    if not delta_io.table_exists(spark, table.path):
        result.note = "no table yet"
        return result
    started = time.monotonic()
    _configure(spark, policy)
    result.before = table_files(spark, table.path)
    clustered = _dates_to_cluster(spark, table, policy, now or datetime.now(UTC))

    def run() -> tuple[int, int]:
        removed = added = 0
        delta = DeltaTable.forPath(spark, table.path)
        if clustered:
            days = ", ".join(f"DATE'{day.isoformat()}'" for day in clustered)
            zorder = delta.optimize().where(f"event_date IN ({days})").executeZOrderBy(*table.cluster_by)
            removed, added = _counts(zorder)
        compacted = DeltaTable.forPath(spark, table.path).optimize().executeCompaction()
        more_removed, more_added = _counts(compacted)
        return removed + more_removed, added + more_added

    (result.files_removed, result.files_added), result.attempts = retry_conflicts(
        run, table=table.name, name=OPTIMIZE, attempts=policy.attempts
    )
    result.after = table_files(spark, table.path)
    if clustered:
        result.note = f"z-ordered by {', '.join(table.cluster_by)}: " + ", ".join(str(d) for d in clustered)
    result.duration_s = time.monotonic() - started
    return result


def _counts(metrics: object) -> tuple[int, int]:
    """Files removed and added, from the DataFrame OPTIMIZE returns."""
    from pyspark.sql import DataFrame

    assert isinstance(metrics, DataFrame)
    row = metrics.select("metrics.numFilesRemoved", "metrics.numFilesAdded").first()
    if row is None:
        return 0, 0
    return int(row.numFilesRemoved or 0), int(row.numFilesAdded or 0)


def _deleted_file_retention(spark: SparkSession, path: str) -> timedelta:
    """The table's `delta.deletedFileRetentionDuration` (Delta's default: one week)."""
    from delta.tables import DeltaTable

    detail = DeltaTable.forPath(spark, path).detail().select("properties").first()
    assert detail is not None
    value = (detail.properties or {}).get("delta.deletedFileRetentionDuration")
    if value is None:
        return timedelta(days=7)
    # the property holds a calendar interval such as "interval 1 week"; Spark reads it as one
    row = spark.sql(f"SELECT unix_micros(TIMESTAMP'1970-01-01 00:00:00' + {value}) AS us").first()
    assert row is not None
    return timedelta(microseconds=int(row.us))


def vacuum_table(
    spark: SparkSession, table: LakeTable, retention: timedelta, *, force: bool = False
) -> MaintenanceResult:
    """Delete the files the table no longer references and that were unreferenced before `retention`.

    Time travel to any version newer than `retention` keeps working (its files are kept);
    versions older lose their files.

    Raises:
        RetentionTooShortError: `retention` is below the table's own retention and `force` is not set.
    """
    from delta.tables import DeltaTable
    from pyspark.errors import IllegalArgumentException

    result = MaintenanceResult(table=table.name, operation=VACUUM)
    if not delta_io.table_exists(spark, table.path):
        result.note = "no table yet"
        return result
    started = time.monotonic()
    floor = _deleted_file_retention(spark, table.path)
    if retention < floor and not force:
        raise RetentionTooShortError(
            f"retention {_hours(retention)} h for {table.name} is below its "
            f"delta.deletedFileRetentionDuration ({_hours(floor)} h): time travel and streams reading "
            "older versions would break; pass --force to vacuum anyway"
        )
    result.before = table_files(spark, table.path)
    # Delta counts the retention in whole hours
    hours = round(retention.total_seconds() / 3600)
    confs = {
        # Delta 4 ignores a RETAIN other than 0 unless told otherwise, using the table's own
        # retention instead; the lake's setting is meant to apply
        "spark.databricks.delta.vacuum.retentionWindowIgnore.enabled": "false",
        **({"spark.databricks.delta.retentionDurationCheck.enabled": "false"} if force else {}),
    }
    previous = {key: spark.conf.get(key, None) for key in confs}
    for key, value in confs.items():
        spark.conf.set(key, value)
    try:
        # the dry run names the files the real run deletes, which VACUUM itself does not return
        doomed = spark.sql(f"VACUUM delta.`{table.path}` RETAIN {hours} HOURS DRY RUN").count()

        def run() -> None:
            DeltaTable.forPath(spark, table.path).vacuum(hours)

        _, result.attempts = retry_conflicts(run, table=table.name, name=VACUUM, attempts=3)
    except IllegalArgumentException as exc:
        if exc.getCondition() != "DELTA_VACUUM_RETENTION_PERIOD_TOO_SHORT":
            raise
        # Delta's own safety check, in whole hours
        raise RetentionTooShortError(
            f"retention {hours} h for {table.name} is below Delta's safety check; "
            "pass --force to vacuum anyway"
        ) from exc
    finally:
        for key, earlier in previous.items():
            if earlier is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, earlier)
    result.deleted = doomed
    result.after = table_files(spark, table.path)
    result.note = f"kept {_hours(retention)} h of history"
    result.duration_s = time.monotonic() - started
    return result


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g}"


def optimize_lake(
    spark: SparkSession, tables: Sequence[LakeTable], policy: MaintenancePolicy
) -> list[MaintenanceResult]:
    """OPTIMIZE each table in turn, logging what each did."""
    results = []
    for table in tables:
        result = optimize_table(spark, table, policy)
        log.info("lake optimize", extra=result.as_log())
        results.append(result)
    return results


def vacuum_lake(
    spark: SparkSession, tables: Sequence[LakeTable], retention: timedelta, *, force: bool = False
) -> list[MaintenanceResult]:
    """VACUUM each table in turn, logging what each did."""
    results = []
    for table in tables:
        result = vacuum_table(spark, table, retention, force=force)
        log.info("lake vacuum", extra=result.as_log())
        results.append(result)
    return results

"""OPTIMIZE and VACUUM of real Delta tables on disk: compaction, Z-order, retention, time travel."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from accord.streaming.maintenance import (
    LakeTable,
    MaintenancePolicy,
    RetentionTooShortError,
    date_partitions,
    optimize_table,
    vacuum_table,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark]

TODAY = datetime.now(UTC).date()
CLOSED_DAY = TODAY - timedelta(days=10)
TYPES = ("page_view", "click", "purchase", "experiment_exposure")


def append_batch(spark: SparkSession, path: str, batch: int, rows: int, days: tuple[date, ...]) -> None:
    """One small append, as a stream's micro-batch lands: a few rows in each date partition."""
    data = [
        (f"{batch}-{n}", TYPES[n % len(TYPES)], days[n % len(days)], f"payload {batch} {n}")
        for n in range(rows)
    ]
    frame = spark.createDataFrame(data, "event_id string, event_type string, event_date date, payload string")
    frame.repartition(4).write.format("delta").mode("append").partitionBy("event_date").save(path)


def rows_of(spark: SparkSession, path: str, version: int | None = None) -> Counter[tuple[object, ...]]:
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return Counter(tuple(row) for row in reader.load(path).collect())


def test_optimize_compacts_small_files_keeps_every_row_and_zorders_closed_dates(
    spark: SparkSession, tmp_path: Path
) -> None:
    path = str(tmp_path / "silver")
    for batch in range(12):
        append_batch(spark, path, batch, rows=40, days=(CLOSED_DAY, TODAY))
    table = LakeTable("silver", path, appends_only=True, cluster_by=("event_type",))
    before_rows = rows_of(spark, path)
    before = date_partitions(spark, path, CLOSED_DAY)
    # optimized writes: one file per date partition per append, whatever the write's task count
    assert set(before) == {CLOSED_DAY, TODAY}
    assert {files.files for files in before.values()} == {12}

    result = optimize_table(spark, table, MaintenancePolicy())

    after = date_partitions(spark, path, CLOSED_DAY)
    assert {day: files.files for day, files in after.items()} == {CLOSED_DAY: 1, TODAY: 1}
    assert rows_of(spark, path) == before_rows, "the same multiset of rows"
    assert result.before is not None
    assert result.after is not None
    assert (result.before.files, result.after.files) == (24, 2)
    assert (result.files_removed, result.files_added) == (24, 2)
    assert str(CLOSED_DAY) in result.note
    assert str(TODAY) not in result.note

    from delta.tables import DeltaTable

    history = DeltaTable.forPath(spark, path).history().filter("operation = 'OPTIMIZE'").collect()
    zordered = [h for h in history if h.operationParameters["zOrderBy"] != "[]"]
    assert len(zordered) == 1
    assert "event_type" in zordered[0].operationParameters["zOrderBy"]

    # a run with nothing to do rewrites nothing
    again = optimize_table(spark, table, MaintenancePolicy())
    assert (again.files_removed, again.files_added, again.note) == (0, 0, "")
    assert rows_of(spark, path) == before_rows


def test_optimize_leaves_large_files_alone_and_skips_zorder_on_a_partition_column(
    spark: SparkSession, tmp_path: Path
) -> None:
    path = str(tmp_path / "by_type")
    for batch in range(3):
        data = [(f"{batch}-{n}", TYPES[n % 2], CLOSED_DAY) for n in range(30)]
        frame = spark.createDataFrame(data, "event_id string, event_type string, event_date date")
        frame.write.format("delta").mode("append").partitionBy("event_date", "event_type").save(path)
    table = LakeTable("silver", path, appends_only=True, cluster_by=("event_type",))

    result = optimize_table(spark, table, MaintenancePolicy())
    assert result.note == ""
    assert result.after is not None
    assert result.after.files == 2

    # files above the minimum size are never rewritten
    tiny = MaintenancePolicy(min_file_bytes=1, target_file_bytes=1024)
    assert optimize_table(spark, table, tiny).files_removed == 0


def test_vacuum_deletes_files_unreferenced_before_the_retention_and_keeps_time_travel_within_it(
    spark: SparkSession, tmp_path: Path
) -> None:
    path = str(tmp_path / "bronze")
    table = LakeTable("bronze", path, appends_only=True)
    for batch in range(3):
        append_batch(spark, path, batch, rows=20, days=(TODAY,))
    first_rows = rows_of(spark, path)
    first_version = _last_version(spark, path)
    first_files = _parquet_files(path)
    optimize_table(spark, table, MaintenancePolicy())  # unreferences the three files, now
    compacted = _parquet_files(path) - first_files
    stray = Path(path) / "event_date=2000-01-01" / "part-stray.snappy.parquet"
    stray.parent.mkdir()
    stray.write_bytes(b"left behind by a failed write ten days ago")
    ten_days_ago = time.time() - 10 * 86_400
    os.utime(stray, (ten_days_ago, ten_days_ago))

    kept = vacuum_table(spark, table, MaintenancePolicy().vacuum_retention)

    assert not stray.exists(), "a file unreferenced for longer than the retention is deleted"
    assert first_files <= _parquet_files(path), "files unreferenced within the retention are kept"
    assert kept.deleted == 1
    assert rows_of(spark, path, version=first_version) == first_rows, "time travel within the retention"

    with pytest.raises(RetentionTooShortError, match="deletedFileRetentionDuration"):
        vacuum_table(spark, table, timedelta(hours=1))
    assert first_files <= _parquet_files(path)

    forced = vacuum_table(spark, table, timedelta(0), force=True)

    assert forced.deleted == 4, "the three files and the partition folder the stray file left empty"
    assert _parquet_files(path) == compacted
    assert rows_of(spark, path) == first_rows
    with pytest.raises(Exception, match=r"(?i)not found|does not exist|FileNotFound|FAILED_READ_FILE"):
        rows_of(spark, path, version=first_version)
    assert spark.conf.get("spark.databricks.delta.retentionDurationCheck.enabled") == "true"


def test_vacuum_lists_a_table_in_as_many_tasks_as_the_session_shuffles_not_ten_thousand(
    spark: SparkSession, tmp_path: Path
) -> None:
    path = str(tmp_path / "silver")
    append_batch(spark, path, 0, rows=20, days=(TODAY, CLOSED_DAY))
    context = spark.sparkContext
    context.setJobGroup("vacuum-tasks", "vacuum under test")
    try:
        vacuum_table(spark, LakeTable("silver", path, appends_only=True), timedelta(days=7))
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
    tracker = context.statusTracker()
    jobs = [tracker.getJobInfo(job) for job in tracker.getJobIdsForGroup("vacuum-tasks")]
    stages = [tracker.getStageInfo(stage) for job in jobs if job for stage in job.stageIds]
    tasks = [stage.numTasks for stage in stages if stage]

    # a dry run and a run, each listing the folders and joining them with the table's files
    assert tasks, "the vacuum ran Spark jobs"
    assert max(tasks) <= int(spark.conf.get("spark.sql.shuffle.partitions") or 0)


def _last_version(spark: SparkSession, path: str) -> int:
    from delta.tables import DeltaTable

    last = DeltaTable.forPath(spark, path).history(1).first()
    assert last is not None
    return int(last.version)


def _parquet_files(path: str) -> set[str]:
    return {str(p.relative_to(path)) for p in Path(path).rglob("*.parquet")}

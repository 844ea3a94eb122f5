"""Silver's files after an hour of traffic, before and after one maintenance run.

Writes `--rate` events/s for `--seconds` of simulated traffic straight into a Silver-shaped
Delta table partitioned by `event_date`, as the stream's micro-batches land (one append per
`--trigger` seconds of traffic, or `--coalesce` triggers per append to save time: the
file count before maintenance is then a lower bound), then runs the stream's maintenance
(`accord.streaming.maintenance.optimize_table`) once and prints files per date partition and
their average size before and after, with the machine's load average.

Target (issue 11): average file size >= 32 MiB or fewer than 10 files per date partition.

Run by hand: `.venv/bin/python bench/streaming/files.py [--rate 500] [--seconds 3600] [--trigger 5]`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from accord.streaming.maintenance import (
    MIB,
    LakeTable,
    MaintenancePolicy,
    TableFiles,
    date_partitions,
    optimize_table,
)
from accord.streaming.session import build_session
from accord.streaming.settings import StreamingSettings

ROOT = Path(__file__).resolve().parents[2]
TYPES = ("page_view", "click", "add_to_cart", "purchase", "experiment_exposure", "session_start")
console = Console()


def _silver_rows_sql(first: int, last: int, start_ms: int, rate: int) -> str:
    """Silver-shaped rows for events `first`..`last` (exclusive) of traffic starting at `start_ms`."""
    types = ", ".join(f"'{t}'" for t in TYPES)
    return f"""
    SELECT
      uuid() AS event_id,
      element_at(array({types}), CAST(id % {len(TYPES)} AS INT) + 1) AS event_type,
      concat('events-accord.events.', CAST(id % {len(TYPES)} AS STRING)) AS subject,
      CAST(id % {len(TYPES)} + 1 AS INT) AS schema_id,
      timestamp_millis({start_ms} + CAST(id * 1000 / {rate} AS BIGINT) - 800) AS event_time,
      timestamp_millis({start_ms} + CAST(id * 1000 / {rate} AS BIGINT) - 200) AS sent_at,
      timestamp_millis({start_ms} + CAST(id * 1000 / {rate} AS BIGINT)) AS received_at,
      timestamp_millis({start_ms} + CAST(id * 1000 / {rate} AS BIGINT) - 600) AS event_time_corrected,
      concat('user-', CAST(id % 20000 AS STRING)) AS user_id,
      CAST(NULL AS STRING) AS anonymous_id,
      concat('session-', CAST(id % 50000 AS STRING)) AS session_id,
      named_struct('app_name', 'shop', 'platform', 'WEB', 'locale', 'en-GB',
                   'user_agent', concat('Mozilla/5.0 build ', CAST(id % 300 AS STRING))) AS context,
      named_struct('url', concat('https://shop.example/p/', CAST(id % 5000 AS STRING)),
                   'referrer', 'https://search.example/') AS page_view,
      CAST(map() AS MAP<STRING, STRING>) AS rescued_data,
      map('exp-checkout', IF(id % 2 = 0, 'A', 'B')) AS experiments,
      false AS is_late,
      'events' AS kafka_topic,
      CAST(id % 3 AS INT) AS kafka_partition,
      id AS kafka_offset,
      timestamp_millis({start_ms} + CAST(id * 1000 / {rate} AS BIGINT)) AS kafka_timestamp,
      sha2(CAST(id AS STRING), 256) AS payload_sha256,
      CAST(id DIV 1000 AS BIGINT) AS silver_batch_id,
      current_timestamp() AS processed_at,
      to_date(timestamp_millis({start_ms} + CAST(id * 1000 / {rate} AS BIGINT) - 600)) AS event_date
    FROM range({first}, {last})
    """


def _partitions_table(title: str, stats: dict[date, TableFiles]) -> Table:
    table = Table(title=title)
    for column in ("event_date", "files", "MiB", "average file MiB"):
        table.add_column(column, justify="right")
    for day, files in sorted(stats.items()):
        n, size = files.files, files.bytes
        table.add_row(str(day), str(n), f"{size / MIB:.1f}", f"{size / MIB / n:.2f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=500, help="events per second")
    parser.add_argument("--seconds", type=int, default=3600, help="seconds of traffic")
    parser.add_argument("--trigger", type=int, default=5, help="seconds of traffic per micro-batch")
    parser.add_argument("--coalesce", type=int, default=1, help="micro-batches per append (to save time)")
    args = parser.parse_args()

    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="accord-files-") as workdir:
        settings = StreamingSettings(
            lake_uri=str(Path(workdir) / "lake"),
            state_dir=Path(workdir) / "state",
            cache_dir=ROOT / ".cache",
            spark_driver_memory="2g",
            shuffle_partitions=2,
        )
        spark = build_session(settings, "accord-bench-files")
        path = f"{settings.lake_uri}/silver/events"
        total = args.rate * args.seconds
        per_append = args.rate * args.trigger * args.coalesce
        start_ms = int((datetime.now(UTC) - timedelta(seconds=args.seconds)).timestamp() * 1000)
        appends = 0
        began = time.monotonic()
        for first in range(0, total, per_append):
            rows = spark.sql(_silver_rows_sql(first, min(first + per_append, total), start_ms, args.rate))
            rows.write.format("delta").mode("append").partitionBy("event_date").save(path)
            appends += 1
            if appends % 50 == 0:
                elapsed = time.monotonic() - began
                console.print(f"{appends} appends, {first + per_append} events, {elapsed:.0f} s")
        write_s = time.monotonic() - began
        since = (datetime.fromtimestamp(start_ms / 1000, UTC) - timedelta(days=1)).date()
        before = date_partitions(spark, path, since)
        load_written = os.getloadavg()

        silver = LakeTable("silver", path, appends_only=True, cluster_by=("event_type",))
        result = optimize_table(spark, silver, MaintenancePolicy.from_settings(settings))
        after = date_partitions(spark, path, since)
        load_end = os.getloadavg()
        rows_after = spark.read.format("delta").load(path).count()
        spark.stop()

    console.print(_partitions_table("Silver before maintenance", before))
    console.print(_partitions_table("Silver after one maintenance run", after))
    summary = Table(title=f"{total:,} events at {args.rate}/s, {appends} appends of {per_append:,} rows")
    for column in ("figure", "value"):
        summary.add_column(column)
    files_before = sum(f.files for f in before.values())
    files_after = sum(f.files for f in after.values())
    bytes_after = sum(f.bytes for f in after.values())
    worst = max(f.files for f in after.values())
    average_mib = bytes_after / MIB / files_after
    summary.add_row("micro-batch (trigger)", f"{args.trigger} s x {args.coalesce} per append")
    summary.add_row("files before / after", f"{files_before} / {files_after}")
    summary.add_row("average file after", f"{average_mib:.1f} MiB")
    summary.add_row("most files in one date partition after", str(worst))
    met = average_mib >= 32 or worst < 10
    summary.add_row("target (>= 32 MiB average or < 10 files per date)", "met" if met else "NOT met")
    summary.add_row("rows after (unchanged)", f"{rows_after:,}")
    summary.add_row("writing the hour", f"{write_s:.0f} s")
    share = result.duration_s / write_s
    summary.add_row("maintenance run", f"{result.duration_s:.0f} s ({share:.2f} of the writing)")
    summary.add_row("maintenance note", result.note or "bin-packing only (open date)")
    summary.add_row(
        "load average (start / written / end)",
        " / ".join(f"{load[0]:.1f}" for load in (load_start, load_written, load_end)),
    )
    console.print(summary)


if __name__ == "__main__":
    main()

"""`accord lake optimize` and `accord lake vacuum`: table maintenance by hand.

Spark is imported only when a command runs, so `accord --help` stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from accord.streaming.settings import StreamingSettings

if TYPE_CHECKING:
    from accord.streaming.maintenance import MaintenanceResult

VACUUM = "vacuum"

console = Console()

_TABLES_HELP = (
    "a table to maintain (repeatable): bronze, silver, event_ids, silver_batches, quarantine, assignments; "
    "default: every table the stream only appends to"
)


@click.group()
def lake() -> None:
    """Table maintenance of the lake: compaction (OPTIMIZE) and clean-up (VACUUM)."""


@lake.command("optimize")
@click.option("--table", "tables", multiple=True, help=_TABLES_HELP)
@click.option(
    "--all",
    "include_merged",
    is_flag=True,
    help="also quarantine and assignments, which the stream writes by MERGE: only with the stream stopped",
)
def optimize(tables: Sequence[str], include_merged: bool) -> None:
    """Compact small files; Z-order Silver by event_type within each closed event_date.

    Safe while the stream writes (for the default tables): compaction never conflicts with
    the stream's appends, and a conflict with another writer is retried.
    """
    from accord.streaming.lake import Lake
    from accord.streaming.maintenance import MaintenancePolicy, optimize_lake, select_tables
    from accord.streaming.session import build_session

    settings = StreamingSettings()
    chosen = select_tables(Lake.from_settings(settings), tables, include_merged=include_merged)
    spark = build_session(settings, "accord-lake-optimize")
    try:
        with console.status("optimizing …"):
            results = optimize_lake(spark, chosen, MaintenancePolicy.from_settings(settings))
    finally:
        spark.stop()
    console.print(results_table("lake optimize", results))


@lake.command("vacuum")
@click.option("--table", "tables", multiple=True, help="a table to vacuum (repeatable); default: every table")
@click.option(
    "--retention-hours",
    type=click.IntRange(min=0),
    default=None,
    help="keep unreferenced files this long; default ACCORD_LAKE_VACUUM_RETENTION_HOURS (168)",
)
@click.option(
    "--force",
    is_flag=True,
    help="allow a retention below the table's delta.deletedFileRetentionDuration (breaks time travel)",
)
def vacuum(tables: Sequence[str], retention_hours: int | None, force: bool) -> None:
    """Delete files no version within the retention references (time travel within it keeps working)."""
    from datetime import timedelta

    from accord.streaming.lake import Lake
    from accord.streaming.maintenance import select_tables, vacuum_lake
    from accord.streaming.session import build_session

    settings = StreamingSettings()
    chosen = select_tables(Lake.from_settings(settings), tables, include_merged=True)
    hours = settings.lake_vacuum_retention_hours if retention_hours is None else retention_hours
    spark = build_session(settings, "accord-lake-vacuum")
    try:
        with console.status("vacuuming …"):
            results = vacuum_lake(spark, chosen, timedelta(hours=hours), force=force)
    finally:
        spark.stop()
    console.print(results_table("lake vacuum", results))


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    if n < 1024:
        return f"{n} B"
    size = float(n)
    for unit in ("KiB", "MiB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} GiB"


def results_table(title: str, results: Sequence[MaintenanceResult]) -> Table:
    """What each operation did, one row per table."""
    table = Table(title=title)
    for column in ("table", "files before", "files after", "bytes before", "bytes after"):
        table.add_column(column, justify="right" if column != "table" else "left")
    table.add_column("files deleted", justify="right")
    table.add_column("duration", justify="right")
    table.add_column("attempts", justify="right")
    table.add_column("note")
    for r in results:
        table.add_row(
            r.table,
            "—" if r.before is None else str(r.before.files),
            "—" if r.after is None else str(r.after.files),
            _size(None if r.before is None else r.before.bytes),
            _size(None if r.after is None else r.after.bytes),
            str(r.deleted) if r.operation == VACUUM else "—",
            f"{r.duration_s:.1f} s",
            str(r.attempts),
            r.note,
        )
    return table

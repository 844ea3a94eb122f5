"""`accord stream`, `accord replay` and `accord backfill`.

Spark is imported only when a command runs, so `accord --help` stays fast.
"""

from __future__ import annotations

from datetime import date, datetime

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from accord.streaming.settings import StreamingSettings

console = Console()


@click.group()
def stream() -> None:
    """Run the streaming jobs: Kafka → Bronze → Silver (+ Quarantine)."""


@stream.command("split")
@click.option("--once", is_flag=True, help="copy what is in Kafka now, process it, then stop")
def stream_split(once: bool) -> None:
    """Bronze and Silver as two queries (two hops: Silver streams Bronze's commits)."""
    from accord.streaming.app import run

    run(StreamingSettings(), ("bronze", "silver"), once=once)


@stream.command("bronze")
@click.option("--once", is_flag=True, help="copy what is in Kafka now, then stop")
def stream_bronze(once: bool) -> None:
    """Kafka topic `events` → Delta table bronze/events."""
    from accord.streaming.app import run

    run(StreamingSettings(), ("bronze",), once=once)


@stream.command("silver")
@click.option("--once", is_flag=True, help="process what is in Bronze now, then stop")
def stream_silver(once: bool) -> None:
    """Bronze → Silver and Quarantine."""
    from accord.streaming.app import run

    run(StreamingSettings(), ("silver",), once=once)


@stream.command("serve")
@click.option("--once", is_flag=True, help="process what is available now, then stop")
def stream_serve(once: bool) -> None:
    """Kafka → Bronze → Silver in one query, restarted when it dies (what `accord up` runs)."""
    from accord.streaming.app import run

    run(StreamingSettings(), once=once)


# credentials stay out of a file meant to be shared: the provider chain or `--conf` gives them
_SECRET_KEYS = ("spark.hadoop.fs.s3a.access.key", "spark.hadoop.fs.s3a.secret.key")


@stream.command("spark-conf")
def stream_spark_conf() -> None:
    """Print the Spark settings every job runs with, as a `spark-submit --properties-file`."""
    from pathlib import Path

    from accord.streaming import submit
    from accord.streaming.session import spark_conf

    settings = StreamingSettings()
    conf = {"spark.master": settings.spark_master, **spark_conf(settings)}
    click.echo("# spark-submit --properties-file <this file> <entry file> <accord command and options>")
    click.echo(f"# entry file: {Path(submit.__file__)}")
    for key, value in sorted(conf.items()):
        if key in _SECRET_KEYS:
            click.echo(f"# {key} left out: set it with --conf or use the AWS credentials provider chain")
        else:
            click.echo(f"{key} {value}")


@click.command()
@click.option(
    "--from",
    "start",
    default="earliest",
    show_default=True,
    help="`earliest`, `latest` or per-partition offsets as JSON, e.g. '{\"0\": 42}'",
)
@click.option("--to", "end", default="latest", show_default=True, help="`latest` or JSON offsets (exclusive)")
def replay(start: str, end: str) -> None:
    """Copy Kafka records into Bronze from chosen offsets; offsets Bronze holds are skipped."""
    from accord.streaming.replay import offsets_option
    from accord.streaming.replay import replay as run_replay
    from accord.streaming.session import build_session

    settings = StreamingSettings()
    # refuse a malformed range before paying for a Spark start
    offsets_option(settings.events_topic, start, ending=False)
    offsets_option(settings.events_topic, end, ending=True)
    spark = build_session(settings, "accord-replay")
    try:
        with console.status("replaying Kafka into Bronze …"):
            added = run_replay(spark, settings, start, end)
    finally:
        spark.stop()
    console.print(f"[green]✓[/green] {added} record(s) added to Bronze")


def _date(_ctx: click.Context, _param: click.Parameter, value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter(f"expected a date as YYYY-MM-DD, got {value!r}") from exc


@click.command()
@click.option("--from", "first", required=True, callback=_date, help="first ingest date, YYYY-MM-DD")
@click.option("--to", "last", required=True, callback=_date, help="last ingest date (included)")
@click.option("--rebuild", is_flag=True, help="delete and recompute the range's Silver and Quarantine rows")
def backfill(first: date, last: date, rebuild: bool) -> None:
    """Recompute Silver from Bronze for a range of ingest dates."""
    from accord.streaming.backfill import backfill as run_backfill
    from accord.streaming.backfill import days
    from accord.streaming.schema_cache import stream_catalog
    from accord.streaming.session import build_session

    settings = StreamingSettings()
    total = len(days(first, last))
    spark = build_session(settings, "accord-backfill")
    table = Table(title="backfill" + (" (rebuild)" if rebuild else ""))
    for column in ("day", "bronze rows", "in silver", "duplicates", "quarantined"):
        table.add_column(column, justify="right")
    try:
        with Progress(console=console) as bar:
            task = bar.add_task("backfilling", total=total)

            def on_day(day: date, counts: object) -> None:
                from accord.streaming.ops import BatchCounts

                assert isinstance(counts, BatchCounts)
                table.add_row(
                    str(day),
                    str(counts.input_rows),
                    str(counts.inserted),
                    str(counts.duplicates),
                    str(sum(counts.quarantined.values())),
                )
                bar.advance(task)

            catalog = stream_catalog(settings)
            run_backfill(spark, settings, catalog, first, last, rebuild=rebuild, on_day=on_day)
    finally:
        spark.stop()
    console.print(table)

"""`accord gold`: recompute Gold from Silver, print the results, write the report.

Spark is imported only when the command runs, so `accord --help` stays fast.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console

from accord.gold.experiments_config import load_experiments
from accord.gold.settings import GoldSettings

# tables are wide: when the output is not a terminal (a log, a pipe), do not squeeze them to 80 columns
console = Console(width=None if sys.stdout.isatty() else 200)


@click.command()
@click.option(
    "--experiments",
    "experiments_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="experiments JSON (default: ACCORD_EXPERIMENTS_FILE, else the demo's)",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("report.html"),
    show_default=True,
    help="where to write the HTML report",
)
def gold(experiments_file: Path | None, report_path: Path) -> None:
    """Recompute the Gold tables from Silver, print the results and write the HTML report."""
    from accord.gold.build import build_gold
    from accord.gold.report import render_report, write_report
    from accord.gold.results_view import results_table
    from accord.streaming.errors import EmptyTableError, TableNotFoundError
    from accord.streaming.inspect.tables import LakeReader
    from accord.streaming.session import build_session

    settings = GoldSettings()
    experiments = load_experiments(experiments_file or settings.experiments_file)
    reader = LakeReader.from_settings(settings)
    lake = reader.lake
    # asked without a JVM: starting Spark only to learn there is no Silver yet takes half a minute
    silver = reader.table(lake.silver)
    if silver is None:
        raise TableNotFoundError(lake.silver)
    if not silver.file_uris():
        raise EmptyTableError(lake.silver)
    with console.status("starting Spark …"):
        spark = build_session(settings, "accord-gold")
    with console.status("recomputing Gold from Silver …"):
        run = build_gold(spark, lake, experiments, settings.watermark_delay)
    rows = [asdict(row) for row in run.results]
    console.print(results_table(rows, {}))
    html = render_report(rows)
    console.print(f"report written to {write_report(html, report_path)}")

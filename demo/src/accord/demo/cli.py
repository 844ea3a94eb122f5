"""`accord demo`: start the platform, send simulated traffic, prove the counts, show the experiment.

The demo keeps everything it creates (servers' data, logs, lake, truth file, report) under
`<state dir>/demo/`, which it empties first: its numbers are checked against the simulator's
truth file, and data left by an earlier run would not be in that file.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from accord.demo.errors import DemoStepError
from accord.gold.settings import GoldSettings
from accord.runtime.cli import cli as accord_cli
from accord.runtime.cli import start_services, stop_services
from accord.runtime.services import discover
from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import Supervisor

# tables are wide: when the output is not a terminal (a log, a pipe), do not squeeze them to 80 columns
console = Console(width=None if sys.stdout.isatty() else 200)

EVENTS_PER_USER = 12.5
"""What the simulator sends per user on average (sessions of page views, exposures, purchases)."""


@contextmanager
def _step(name: str, timings: list[tuple[str, float]]) -> Iterator[None]:
    console.rule(name)
    started = time.monotonic()
    yield
    timings.append((name, time.monotonic() - started))


def _accord(*args: str) -> None:
    """Run an `accord` subcommand in this process, as a user would type it."""
    try:
        accord_cli.main(list(args), prog_name="accord", standalone_mode=False)
    except click.ClickException as exc:
        raise DemoStepError(f"`accord {' '.join(args)}` failed: {exc.format_message()}") from exc


def _fresh_workspace(runtime: RuntimeSettings) -> Path:
    """Empty `<state dir>/demo` (stopping what an earlier `--keep-running` left) and point every
    component at it through the environment the servers inherit."""
    workspace = runtime.state_dir / "demo"
    stop_services(Supervisor(workspace), discover(runtime), runtime.stop_timeout_s)
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    os.environ["ACCORD_STATE_DIR"] = str(workspace)
    os.environ["ACCORD_LAKE_URI"] = str(workspace / "lake")
    return workspace


def _nested(lifts: dict[tuple[str, str], float]) -> dict[str, dict[str, str]]:
    nested: dict[str, dict[str, str]] = {}
    for (experiment, variant), lift in lifts.items():
        nested.setdefault(experiment, {})[variant] = f"{lift:+.1%}"
    return nested


def _timing_table(timings: list[tuple[str, float]]) -> Table:
    table = Table(title="demo wall time")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for name, seconds in timings:
        table.add_row(name, f"{seconds:.1f}")
    table.add_section()
    table.add_row("total", f"{sum(s for _, s in timings):.1f}", style="bold")
    return table


@click.command()
@click.option(
    "--events",
    type=click.IntRange(min=100),
    default=100_000,
    show_default=True,
    help="about how many events to send (sets the number of users)",
)
@click.option(
    "--users",
    type=click.IntRange(min=10),
    default=None,
    help=f"users to simulate (default: events / {EVENTS_PER_USER})",
)
@click.option("--seed", type=int, default=7, show_default=True, help="same seed, same traffic")
@click.option("--keep-running", is_flag=True, help="leave the servers running afterwards")
@click.option(
    "--catch-up-timeout",
    type=float,
    default=900.0,
    show_default=True,
    help="seconds to wait for Silver to process everything",
)
def demo(events: int, users: int | None, seed: int, keep_running: bool, catch_up_timeout: float) -> None:
    """Bring the platform up, push simulated traffic through it, check every count, report the A/B test."""
    from accord.demo.catchup import kafka_records, wait_for_silver
    from accord.demo.checks import check_against_truth
    from accord.demo.simulator.truth import load_truth
    from accord.gold.build import build_gold
    from accord.gold.experiments_config import default_experiments_file, load_experiments
    from accord.gold.report import LedgerSummary, render_report, write_report
    from accord.gold.results_view import results_table
    from accord.streaming.delta_io import read_table
    from accord.streaming.inspect.cli import collect_ledger
    from accord.streaming.inspect.ledger_view import ledger_table
    from accord.streaming.inspect.tables import LakeReader
    from accord.streaming.lake import Lake
    from accord.streaming.session import build_session

    users = users or max(10, math.ceil(events / EVENTS_PER_USER))
    timings: list[tuple[str, float]] = []
    workspace = _fresh_workspace(RuntimeSettings())
    runtime, settings = RuntimeSettings(), GoldSettings()
    experiments_file = settings.experiments_file or default_experiments_file()
    experiments = load_experiments(experiments_file)
    truth_path = workspace / "truth.json"
    ok = True
    try:
        with _step("start the platform", timings):
            start_services(Supervisor(runtime.state_dir), discover(runtime))
        with _step("register the schemas", timings):
            _accord("--log-level", "ERROR", "schemas", "register")
        with _step(f"simulate {users:,} users", timings):
            # the simulator's table reports rejections; one log line per deliberately malformed
            # event would bury it
            _accord(
                "--log-level",
                "ERROR",
                "simulate",
                "--gateway-url",
                settings.gateway_url,
                "--users",
                str(users),
                "--seed",
                str(seed),
                "--experiments",
                str(experiments_file),
                "--truth",
                str(truth_path),
            )
            truth = load_truth(truth_path)
        with _step("wait for Silver", timings):
            expected = kafka_records(settings.kafka_bootstrap, settings.events_topic)
            wait_for_silver(LakeReader.from_settings(settings), expected, console, catch_up_timeout)
        with _step("build Gold", timings):
            spark = build_session(settings, "accord-demo")
            lake = Lake.from_settings(settings)
            run = build_gold(spark, lake, experiments, settings.watermark_delay)
        with _step("ledger and checks", timings):
            ledger = collect_ledger(settings)
            console.print(ledger_table(ledger))
            checks = check_against_truth(ledger, read_table(spark, lake.silver), truth)
            check_table = Table(
                title=f"the platform's counts against the simulator's truth ({truth_path.name})"
            )
            for column in ("check", "truth", "measured", "ok"):
                check_table.add_column(column, justify="left" if column == "check" else "right")
            for check in checks:
                mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
                check_table.add_row(check.name, f"{check.expected:,}", f"{check.measured:,}", mark)
            console.print(check_table)
            ok = ledger.reconciles and all(check.ok for check in checks)
        rows = [asdict(row) for row in run.results]
        lifts = truth.true_relative_lifts()
        console.print(results_table(rows, lifts))
        summary = LedgerSummary(
            rows=[(check.name, f"{check.measured:,} (truth {check.expected:,})") for check in checks],
            reconciles=ok,
            verdict="every count reconciles and matches the truth file" if ok else "some counts disagree",
        )
        html = render_report(rows, summary, _nested(lifts))
        report = write_report(html, workspace / "report.html")
        spark.stop()
    finally:
        if keep_running:
            console.print(
                f"the platform keeps running; to use it: export ACCORD_STATE_DIR={workspace} "
                f"ACCORD_LAKE_URI={workspace / 'lake'}  (then `accord status`, `accord ledger`, "
                "`accord trace EVENT_ID`, `accord down`)"
            )
        else:
            with _step("stop the platform", timings):
                stop_services(Supervisor(runtime.state_dir), discover(runtime), runtime.stop_timeout_s)
    console.print(_timing_table(timings))
    console.print(f"report: {report}")
    if not ok:
        console.print("[red]the counts do not reconcile with the truth file[/]")
        sys.exit(1)
    console.print("[green]every event is accounted for: the ledger reconciles and matches the truth file[/]")

"""`accord simulate`: the simulator on the command line, with a progress bar and a summary table.

Loaded through the `accord.commands` entry point; click and rich stay out of the SDK, which the
simulator only uses as any application would.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from accord.demo.simulator.run import Simulation, simulate
from accord.demo.simulator.traffic import FaultRates
from accord.gold.experiments_config import load_experiments
from accord.runtime.addresses import gateway_url
from accord.sdk.errors import AccordSdkError


@click.command("simulate")
@click.option(
    "--gateway-url",
    envvar="ACCORD_GATEWAY_URL",
    default=gateway_url,
    show_default="from ACCORD_GATEWAY_HOST/PORT, http://127.0.0.1:8080",
)
@click.option(
    "--write-key",
    envvar="ACCORD_WRITE_KEY",
    default="dev-write-key",
    show_default=True,
    help="[ACCORD_WRITE_KEY]",
)
@click.option("--users", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True, help="same seed, same traffic")
@click.option(
    "--experiments",
    "experiments_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON list of experiments (the file the Gold layer reads)",
)
@click.option("--baseline-rate", type=click.FloatRange(0, 1), default=0.1, show_default=True)
@click.option("--lift", "true_lift", type=float, default=0.2, show_default=True, help="true relative lift")
@click.option(
    "--duplicates", type=click.FloatRange(0, 1), default=0.02, show_default=True, help="share resent"
)
@click.option(
    "--late", type=click.FloatRange(0, 1), default=0.02, show_default=True, help="share hours-days old"
)
@click.option("--out-of-order", type=click.FloatRange(0, 1), default=0.02, show_default=True)
@click.option("--malformed", type=click.FloatRange(0, 1), default=0.01, show_default=True)
@click.option("--rate", type=click.FloatRange(min=0), default=0.0, help="events/s to pace at (0: no pacing)")
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("simulation-truth.json"),
    show_default=True,
)
def simulate_command(
    gateway_url: str,
    write_key: str,
    users: int,
    seed: int,
    experiments_file: Path | None,
    baseline_rate: float,
    true_lift: float,
    duplicates: float,
    late: float,
    out_of_order: float,
    malformed: float,
    rate: float,
    truth_path: Path,
) -> None:
    """Send realistic product traffic through the SDK, with faults, and write a truth file."""
    console = Console()
    try:
        simulation = Simulation(
            gateway_url=gateway_url,
            write_key=write_key,
            truth_path=truth_path,
            users=users,
            seed=seed,
            experiments=load_experiments(experiments_file) if experiments_file else [],
            baseline_rate=baseline_rate,
            true_lift=true_lift,
            faults=FaultRates(
                duplicate=duplicates, late=late, out_of_order=out_of_order, malformed=malformed
            ),
            rate=rate,
        )
        with Progress(
            TextColumn("simulating users"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[events]} events"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("users", total=users, events=0)
            truth = simulate(
                simulation, lambda done, _total, events: bar.update(task, completed=done, events=events)
            )
    except AccordSdkError as exc:
        raise click.ClickException(str(exc)) from exc
    table = Table(title=f"sent to {gateway_url} (truth: {truth_path})")
    table.add_column("what")
    table.add_column("events", justify="right")
    for name, count in {
        **truth.sent.model_dump(),
        **{f"type {k}": v for k, v in truth.by_type.items()},
    }.items():
        table.add_row(name, str(count))
    console.print(table)
    for experiment in truth.experiments:
        result = Table(title=f"experiment {experiment.experiment_id}")
        for column in ("variant", "exposed", "converted", "rate"):
            result.add_column(column, justify="right" if column != "variant" else "left")
        for variant, exposed in experiment.exposed.items():
            converted = experiment.converted[variant]
            share = f"{converted / exposed:.3f}" if exposed else "-"
            result.add_row(variant, str(exposed), str(converted), share)
        console.print(result)

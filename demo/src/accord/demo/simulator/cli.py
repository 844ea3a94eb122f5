"""`accord simulate`: the simulator on the command line, with a progress bar and a summary table.

Loaded through the `accord.commands` entry point; click and rich stay out of the SDK, which the
simulator only uses as any application would.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from accord.demo.simulator.run import Simulation, simulate
from accord.demo.simulator.traffic import FaultRates, Misbucketing
from accord.gold.experiments_config import load_experiments
from accord.gold.settings import GoldSettings
from accord.runtime.addresses import gateway_url
from accord.sdk.errors import AccordSdkError
from accord.sdk.events import Context
from accord.wire.error_codes import ErrorCode


def _platform_variant(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[str, str] | None:
    if value is None:
        return None
    platform, _, variant = value.partition(":")
    platforms = [p.value for p in Context.Platform]
    if platform.upper() not in platforms or not variant:
        raise click.BadParameter(
            f"expected PLATFORM:VARIANT with PLATFORM one of {', '.join(platforms)}, got {value!r}"
        )
    return platform.upper(), variant


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
    help="JSON list of experiments; default: the file the Gold layer reads [ACCORD_EXPERIMENTS_FILE]",
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
    "--drop-exposures",
    "drop_exposures",
    metavar="PLATFORM:VARIANT",
    callback=_platform_variant,
    help="mis-bucketing fault: exposures of VARIANT users on PLATFORM are lost from --drop-exposures-from on",
)
@click.option(
    "--drop-exposures-from",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="share of the users simulated before the fault starts",
)
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
    drop_exposures: tuple[str, str] | None,
    drop_exposures_from: float,
    truth_path: Path,
) -> None:
    """Send realistic product traffic through the SDK, with faults, and write a truth file.

    Exits 1 when the gateway accepted none of the valid events.
    """
    console = Console()
    # the table counts every rejection by its code: a warning line per refused event would only
    # bury the progress bar (a refused batch is still logged as an error)
    logging.getLogger("accord.sdk.sender").setLevel(logging.ERROR)
    try:
        simulation = Simulation(
            gateway_url=gateway_url,
            write_key=write_key,
            truth_path=truth_path,
            users=users,
            seed=seed,
            experiments=load_experiments(experiments_file or GoldSettings().experiments_file),
            baseline_rate=baseline_rate,
            true_lift=true_lift,
            faults=FaultRates(
                duplicate=duplicates, late=late, out_of_order=out_of_order, malformed=malformed
            ),
            rate=rate,
            misbucketing=(
                Misbucketing(*drop_exposures, from_user=int(users * drop_exposures_from))
                if drop_exposures
                else None
            ),
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
        **{f"rejected {code}": n for code, n in truth.rejected.items()},
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
    if truth.sent.unique_valid == 0:
        raise click.ClickException(_nothing_accepted(truth.rejected, gateway_url))


def _nothing_accepted(rejected: dict[str, int], gateway_url: str) -> str:
    """Why a simulation counts for nothing, and what to do when the schemas are the cause."""
    codes = ", ".join(f"{code} {n}" for code, n in rejected.items()) or "no answer"
    message = f"the gateway at {gateway_url} accepted none of the valid events (rejected: {codes})"
    if ErrorCode.SCHEMA_NOT_REGISTERED in rejected:
        message += "; register the contracts first: `accord schemas register`"
    return message

"""The `accord` command line: `up`, `down`, `status`, and the commands components contribute.

Components add commands through the `accord.commands` entry-point group (a click command or
group each), so this module never imports a component it does not need.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

import click
from pydantic import ValidationError
from pydantic_settings import SettingsError
from rich.console import Console
from rich.table import Table

from accord.runtime.errors import AccordError
from accord.runtime.logs import configure_logging
from accord.runtime.services import SetupStep, discover, discover_setup
from accord.runtime.settings import RuntimeSettings, invalid_setting
from accord.runtime.supervisor import ServiceSpec, State, Supervisor

console = Console()
err_console = Console(stderr=True)


class AccordGroup(click.Group):
    """A click group that reports runtime failures as one clear message and exit code 1.

    A bad `ACCORD_*` value (a settings class's `ValidationError`) is such a failure too: one line
    naming the variable, its value and what is expected.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AccordError as exc:
            raise click.ClickException(str(exc)) from exc
        except SettingsError as exc:
            raise click.ClickException(f"invalid setting: {exc}") from exc
        except ValidationError as exc:
            invalid = invalid_setting(exc)
            if invalid is None:
                raise
            raise click.ClickException(str(invalid)) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *(ep.name for ep in _contributed())})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        for ep in _contributed():
            if ep.name == cmd_name:
                loaded: click.Command = ep.load()
                return loaded
        return None


def _contributed() -> list[Any]:
    return list(entry_points(group="accord.commands"))


@click.group(cls=AccordGroup)
@click.option("--log-level", default="WARNING", envvar="ACCORD_LOG_LEVEL", show_default=True)
def cli(log_level: str) -> None:
    """Accord: contract-first product events, from SDK to Gold tables."""
    configure_logging(log_level)


def _selected(name: str, chosen: str) -> bool:
    # a component's name also selects its numbered processes: `kafka` is kafka-1 … kafka-N
    return name == chosen or re.fullmatch(rf"{re.escape(chosen)}-\d+", name) is not None


def _select(specs: list[ServiceSpec], only: tuple[str, ...]) -> list[ServiceSpec]:
    if not only:
        return specs
    unknown = sorted(chosen for chosen in only if not any(_selected(spec.name, chosen) for spec in specs))
    if unknown:
        known = ", ".join(sorted(spec.name for spec in specs))
        raise click.BadParameter(f"unknown service(s) {', '.join(unknown)}; known: {known}")
    return [spec for spec in specs if any(_selected(spec.name, chosen) for chosen in only)]


def start_services(supervisor: Supervisor, specs: list[ServiceSpec], steps: Sequence[SetupStep] = ()) -> None:
    """Start every given service that is not running yet, in order, with its setup steps.

    All ports are checked before anything starts; if one service (or a setup step) fails, the
    services this call started are stopped again, so nothing is left half-started. The setup
    steps of a service run once it is ready, also when it was already running.
    """
    for spec in specs:
        if not supervisor.is_running(spec.name):
            supervisor.check_ports(spec)
    started: list[str] = []
    try:
        for spec in specs:
            if supervisor.is_running(spec.name):
                console.print(f"[dim]{spec.name} is already running[/dim]")
            else:
                with console.status(f"starting {spec.name} …"):
                    supervisor.start(spec)
                started.append(spec.name)
                console.print(f"[green]✓[/green] {spec.name} started")
            for step in steps:
                if step.after == spec.name:
                    with console.status(f"{step.name} …"):
                        summary = step.run()
                    console.print(f"[green]✓[/green] {step.name}: {summary}")
    except BaseException:
        for name in reversed(started):
            supervisor.stop(name)
        raise


def stop_services(supervisor: Supervisor, specs: list[ServiceSpec], timeout_s: float = 20.0) -> None:
    """Stop the given services in reverse start order, those of one start order together."""
    for _, group in itertools.groupby(reversed(specs), key=lambda spec: spec.order):
        for name in supervisor.stop_together(list(group), timeout_s):
            console.print(f"[green]✓[/green] {name} stopped")


def print_status(settings: RuntimeSettings, only: tuple[str, ...] = ()) -> bool:
    """Print the status table; return True only when every (chosen) service runs and is ready.

    A stopped service counts as down: `status` answers "is the platform up?", and a service
    that `up` rolled back or `down` stopped is as unavailable as a crashed one.
    """
    supervisor = Supervisor(settings.state_dir)
    statuses = [supervisor.status(spec) for spec in _select(discover(settings), only)]
    table = Table(title="accord services")
    for column in ("service", "state", "pid", "ports", "log", "detail"):
        table.add_column(column)
    colours = {State.RUNNING: "green", State.STARTING: "yellow", State.CRASHED: "red", State.STOPPED: "dim"}
    for status in statuses:
        table.add_row(
            status.name,
            f"[{colours[status.state]}]{status.state.value}[/]",
            str(status.pid or "-"),
            ",".join(map(str, status.ports)),
            str(status.log_file),
            status.detail,
        )
    console.print(table)
    for status in statuses:
        if status.state is State.STOPPED:
            console.print(f"[red]{status.name} is stopped[/red] (`accord up` starts it)")
        elif status.state in (State.CRASHED, State.STARTING):
            console.print(
                f"[red]{status.name} is {status.state.value}[/red]; last lines of {status.log_file}:"
            )
            for line in status.log_tail:
                console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    return all(status.state is State.RUNNING for status in statuses)


@cli.command()
@click.option("--only", multiple=True, help="start only these services (repeatable)")
def up(only: tuple[str, ...]) -> None:
    """Start the platform's servers natively and wait until each is ready."""
    settings = RuntimeSettings()
    start_services(
        Supervisor(settings.state_dir), _select(discover(settings), only), discover_setup(settings)
    )
    print_status(settings, only)


@cli.command()
@click.option("--only", multiple=True, help="stop only these services (repeatable)")
def down(only: tuple[str, ...]) -> None:
    """Stop every server `up` started: gracefully, then by force after a timeout."""
    settings = RuntimeSettings()
    stop_services(Supervisor(settings.state_dir), _select(discover(settings), only), settings.stop_timeout_s)


@cli.command()
@click.option("--only", multiple=True, help="report only these services (repeatable)")
def status(only: tuple[str, ...]) -> None:
    """Show each server's state, pid, ports and log; exit 1 when one is not running and ready."""
    if not print_status(RuntimeSettings(), only):
        sys.exit(1)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="accord")

"""`accord ledger` and `accord trace EVENT_ID`.

Both read the lake in this process with delta-rs (no JVM); pyarrow is imported only when a
command runs, so `accord --help` stays fast.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console

from accord.streaming.errors import InspectError, TableNotFoundError
from accord.streaming.inspect.ledger import Ledger
from accord.streaming.settings import StreamingSettings

# tables are wide: when the output is not a terminal (a log, a pipe), do not squeeze them to 80 columns
console = Console(width=None if sys.stdout.isatty() else 200)


def collect_ledger(settings: StreamingSettings, *, gateway: bool = True, kafka: bool = True) -> Ledger:
    """The lake's ledger, with the gateway's and Kafka's counts when asked (and reachable)."""
    from accord.streaming.inspect.gateway_stats import fetch_gateway_stats
    from accord.streaming.inspect.kafka_counts import records_per_hour
    from accord.streaming.inspect.ledger import compute_ledger
    from accord.streaming.inspect.tables import LakeReader

    gateway_hours = None
    if gateway:
        try:
            gateway_hours = fetch_gateway_stats(settings.gateway_url, settings.write_key.get_secret_value())
        except InspectError as exc:
            console.print(f"[yellow]without the gateway's counts:[/] {exc}")
    ledger = compute_ledger(LakeReader.from_settings(settings), gateway=gateway_hours)
    if kafka:
        hours = [hour.hour for hour in ledger.hours if hour.hour is not None]
        try:
            counts = records_per_hour(
                settings.kafka_bootstrap,
                settings.events_topic,
                hours,
                client_config=settings.kafka_security.librdkafka(),
            )
        except InspectError as exc:
            console.print(f"[yellow]without Kafka's counts:[/] {exc}")
        else:
            for hour in ledger.hours:
                if hour.hour is not None:
                    hour.kafka = counts.get(hour.hour)
    return ledger


@click.command()
@click.option("--no-gateway", is_flag=True, help="do not ask the gateway for its counts")
@click.option("--no-kafka", is_flag=True, help="do not ask Kafka for its counts")
def ledger(no_gateway: bool, no_kafka: bool) -> None:
    """Counts per stage and hour of receipt; exit 1 when they do not reconcile."""
    from accord.streaming.inspect.ledger_view import ledger_table

    settings = StreamingSettings()
    with console.status("counting every stage …"):
        result = collect_ledger(settings, gateway=not no_gateway, kafka=not no_kafka)
    console.print(ledger_table(result))
    if not result.reconciles:
        console.print("[red]the ledger does not reconcile[/]: see the hours marked NO")
        sys.exit(1)
    console.print(
        "[green]the ledger reconciles[/]: accepted = Bronze - direct, "
        "Bronze = Silver + Quarantine + duplicates"
    )


@click.command()
@click.argument("event_id")
def trace(event_id: str) -> None:
    """Where one event is: Kafka partition and offset, Bronze, Silver or Quarantine with the reason."""
    from accord.streaming.inspect.tables import LakeReader
    from accord.streaming.inspect.trace import Trace, find_dead_letters, trace_event

    settings = StreamingSettings()
    no_lake: TableNotFoundError | None = None
    with console.status(f"looking for {event_id} …"):
        try:
            found = trace_event(LakeReader.from_settings(settings), event_id)
        except TableNotFoundError as missing:
            # an event the gateway refused never reaches the lake: look for it in the dead letters
            found, no_lake = Trace(event_id), missing
        try:
            found.dead_letters = find_dead_letters(
                settings.kafka_bootstrap,
                settings.deadletter_topic,
                event_id,
                client_config=settings.kafka_security.librdkafka(),
            )
        except InspectError as exc:
            console.print(f"[yellow]dead letters not searched:[/] {exc}")
    if no_lake is not None and not found.dead_letters:
        raise no_lake
    for record in found.records:
        console.print(
            f"kafka {settings.events_topic} partition {record.partition} offset {record.offset} "
            f"(received {record.received_at}) → bronze → {record.fate}: {record.detail}"
        )
    if found.silver is not None:
        console.print(
            f"silver: {found.silver['event_type']} at {found.silver['event_time']}, "
            f"event_date {found.silver['event_date']}, late: {found.silver['is_late']}"
        )
    for letter in found.dead_letters:
        reasons = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in letter.errors)
        console.print(
            f"rejected at the gateway: {letter.code} ({letter.failure_type}): {reasons} "
            f"[dim]{settings.deadletter_topic} partition {letter.partition} offset {letter.offset}[/]"
        )
    if not found.found:
        console.print(
            f"[red]{event_id} is in no stage[/]: not in Bronze, Silver, Quarantine nor dead letters"
        )
        sys.exit(1)

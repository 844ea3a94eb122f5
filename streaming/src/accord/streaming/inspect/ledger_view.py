"""The ledger as a rich table for the terminal."""

from __future__ import annotations

from rich.table import Table

from accord.streaming.inspect.ledger import Ledger, LedgerHour


def _n(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _ledger_cells(hour: LedgerHour, label: str) -> list[str]:
    reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(hour.quarantined.items()))
    return [
        label,
        _n(hour.accepted),
        _n(hour.gateway_duplicates),
        _n(hour.rejected),
        _n(hour.kafka),
        _n(hour.bronze),
        _n(hour.direct),
        _n(hour.silver),
        f"{hour.quarantine:,}" + (f" ({reasons})" if reasons else ""),
        _n(hour.duplicates_removed),
        _n(hour.late),
        _n(hour.unexplained),
        "[green]yes[/]" if hour.reconciles else "[red]NO[/]",
    ]


def ledger_table(ledger: Ledger) -> Table:
    """One row per hour of receipt and a total row; the last column says whether it reconciles.

    `direct` counts the Bronze records produced straight to Kafka, which the gateway never saw.
    """
    table = Table(title="ledger: events per stage and hour of receipt (UTC)")
    columns = (
        "hour", "accepted", "gateway dups", "rejected", "kafka", "bronze", "direct", "silver",
        "quarantine", "dups removed", "late", "unexplained", "reconciles",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column in ("hour", "quarantine") else "right")
    for hour in ledger.hours:
        label = hour.hour.strftime("%Y-%m-%d %H:00") if hour.hour else "no receipt time"
        table.add_row(*_ledger_cells(hour, label))
    table.add_section()
    table.add_row(*_ledger_cells(ledger.total, "total"), style="bold")
    return table

"""The checks of the ledger and Silver against the simulator's truth file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from accord.demo.simulator.truth import Truth
from accord.streaming.inspect.ledger import Ledger

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


@dataclass(frozen=True)
class Check:
    """One count the platform measured beside what the simulator knows it sent."""

    name: str
    expected: int
    measured: int

    @property
    def ok(self) -> bool:
        """True when they agree."""
        return self.expected == self.measured


def _ids(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def check_against_truth(ledger: Ledger, silver: DataFrame, truth: Truth) -> list[Check]:
    """Every count the truth file allows to check, measured from the ledger and Silver."""
    from pyspark.sql import functions as sf

    total = ledger.total
    sent = truth.sent
    by_type = {r["event_type"]: r["count"] for r in silver.groupBy("event_type").count().collect()}
    silver_ids = {r["event_id"] for r in silver.select("event_id").collect()}
    expected_ids = _ids(truth.event_ids_file)
    late_ids = _ids(truth.late_event_ids_file)
    late_rows = silver.where(sf.col("event_id").isin(list(late_ids))) if late_ids else None
    late_in_silver = late_rows.count() if late_rows is not None else 0
    late_flagged = late_rows.where(sf.col("is_late")).count() if late_rows is not None else 0
    checks = [
        Check("unique valid events in Silver", sent.unique_valid, total.silver),
        Check("sent event ids missing from Silver", 0, len(expected_ids - silver_ids)),
        Check("Silver event ids never sent", 0, len(silver_ids - expected_ids)),
        Check(
            "malformed events rejected or quarantined",
            sent.malformed,
            (total.rejected or 0) + total.quarantine,
        ),
        Check(
            "duplicates removed (gateway + Silver)",
            sent.duplicates,
            (total.gateway_duplicates or 0) + total.duplicates_removed,
        ),
        Check("late events (hours to days old) in Silver", sent.late, late_in_silver),
        Check("late events flagged is_late in Silver", sent.late, late_flagged),
        Check("Bronze records accounted for", total.bronze, total.bronze - total.unexplained),
    ]
    checks += [
        Check(f"{event_type} events in Silver", expected, by_type.get(event_type, 0))
        for event_type, expected in sorted(truth.by_type.items())
    ]
    return checks

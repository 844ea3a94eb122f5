"""What checking the data-contract rules costs, as a ratio against decoding alone, in the same run.

    .venv/bin/python bench/schemas/contract_rules.py [--events 2000] [--rounds 5]

Legs, on framed Purchase events of the contracts (no servers):
* decode: fastavro `schemaless_reader` with logical types, the read the rules need (baseline);
* decode + rules: the same, then `ContractChecker.first_violation` over `Purchase.rules.json`
  (confluent-kafka's CEL executor), what the gateway and Silver add per event of a ruled schema.
The legs take turns every round, so load from other processes falls on both alike; median and
min-max of the per-round ratios.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import fastavro
from rich.console import Console
from rich.table import Table

from accord.registry_client.contract_rules import ContractChecker, Side, condition_rules
from accord.schemas.catalog import load_catalog
from accord.schemas.settings import SchemasSettings


def purchases(count: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        {
            "envelope": {"event_id": str(uuid.uuid4()), "event_time": now, "user_id": f"u{n}", "context": {}},
            "order_id": f"order-{n}",
            "amount": Decimal(100 + n) / 100,
            "currency": "EUR",
        }
        for n in range(count)
    ]


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings = SchemasSettings()
    catalog = load_catalog(settings.schemas_dir, settings.events_topic)
    purchase = catalog.require("accord.events.Purchase")
    schema = catalog.self_contained(purchase)
    parsed = fastavro.parse_schema(schema)
    checker = ContractChecker(json.dumps(schema), condition_rules(purchase.rule_set), Side.WRITE)
    bodies = []
    for record in purchases(args.events):
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, parsed, record)
        bodies.append(buffer.getvalue())

    def decode() -> None:
        for body in bodies:
            fastavro.schemaless_reader(io.BytesIO(body), parsed, None)

    def decode_and_check() -> None:
        for body in bodies:
            assert checker.first_violation(fastavro.schemaless_reader(io.BytesIO(body), parsed, None)) is None

    ratios, base_rates, rule_rates = [], [], []
    for _ in range(args.rounds):
        base, ruled = timed(decode), timed(decode_and_check)
        ratios.append(ruled / base)
        base_rates.append(args.events / base)
        rule_rates.append(args.events / ruled)
    table = Table(title=f"data-contract rules, {args.events} Purchase events x {args.rounds} rounds")
    for column in ("leg", "events/s (median)", "time vs decode (median, min-max)"):
        table.add_column(column)
    table.add_row("decode (baseline)", f"{statistics.median(base_rates):,.0f}", "1.00")
    table.add_row(
        f"decode + {len(checker.rules)} CEL rules",
        f"{statistics.median(rule_rates):,.0f}",
        f"{statistics.median(ratios):.1f} ({min(ratios):.1f}-{max(ratios):.1f})",
    )
    console = Console()
    console.print(table)
    console.print("load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()

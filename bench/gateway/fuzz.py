"""Fuzz the gateway from its own OpenAPI document with schemathesis: no generated request gets a 5xx.

    .venv/bin/python bench/gateway/fuzz.py [--cases 10000] [--seed N]

Starts its own Kafka broker, registry and gateway on free ports (nothing of a running stack is
touched), reads `/openapi.json` from the running gateway and generates `--cases` requests in
one run: valid (positive) and schema-breaking (negative) cases for every operation, sent with
a valid write key, each answer checked by schemathesis' response checks (the status is in the
document, the body matches it, no 5xx, ...). `positive_data_acceptance` is left out: a batch
whose events break their registered schemas is rightly answered 422, which the document cannot
express. Operations whose cases run out (those without parameters or body) get as many as
hypothesis can find; the others share the rest.

Prints one table row per operation and generation mode (cases, answers per status class,
check failures) with the load average, and exits 1 if any answer was a 5xx.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from rich.console import Console
from rich.table import Table
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accord.gateway.testing import TestKey, running_stack
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE as AVRO_BATCH

console = Console()
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# rounds an operation gets before its cases count as exhausted (hypothesis found nothing new)
MAX_ROUNDS = 50


@schemathesis.serializer(AVRO_BATCH)
def _avro_batch(_context: Any, value: Any) -> bytes:
    # generated binary bodies are arbitrary bytes: exactly what a broken client would send
    return value if isinstance(value, bytes) else str(value).encode()


@dataclass
class Tally:
    """What one operation in one generation mode was answered."""

    cases: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)


def fuzz_operation(
    operation: Any, mode: GenerationMode, cases: int, base_url: str, headers: dict[str, str], tally: Tally
) -> None:
    """Send up to `cases` generated requests for `operation`; recording, never stopping on a failure."""
    excluded = [positive_data_acceptance]

    def run(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        tally.cases += 1
        tally.statuses[f"{response.status_code // 100}xx"] += 1
        if response.status_code >= 500:
            tally.server_errors.append(f"{response.status_code} {case.as_curl_command(headers)}")
        try:
            case.validate_response(response, headers=headers, excluded_checks=excluded)
        except AssertionError as failure:  # schemathesis' Failure and FailureGroup are AssertionErrors
            for name in _failure_names(failure):
                tally.failures[name] += 1

    strategy = operation.as_strategy(generation_mode=mode)
    test = settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(given(case=strategy)(run))
    # Unsatisfiable: no case of this mode exists (a negative case of an operation without inputs)
    with contextlib.suppress(Unsatisfiable):
        seed(time.monotonic_ns())(test)()


def _failure_names(failure: AssertionError) -> list[str]:
    inner = getattr(failure, "exceptions", None)
    if inner:
        return [name for exc in inner for name in _failure_names(exc)]
    return [str(getattr(failure, "title", type(failure).__name__))]


def fuzz(base_url: str, write_key: str, total: int) -> dict[tuple[str, str], Tally]:
    """Fuzz every operation of the gateway at `base_url` until `total` cases were sent."""
    document = httpx.get(f"{base_url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Bearer {write_key}"}
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the gateway's own document must be valid
        operations.append(result.ok())
    tallies = {(op.label, mode.value): Tally() for op in operations for mode in MODES}
    open_ = [(op, mode) for op in operations for mode in MODES]
    for _ in range(MAX_ROUNDS):
        sent = sum(t.cases for t in tallies.values())
        if sent >= total or not open_:
            break
        share = max(1, (total - sent) // len(open_))
        still_open = []
        for operation, mode in open_:
            tally = tallies[(operation.label, mode.value)]
            before = tally.cases
            fuzz_operation(operation, mode, share, base_url, headers, tally)
            if tally.cases - before >= share:  # cases left to find
                still_open.append((operation, mode))
        open_ = still_open
    return tallies


def report(tallies: dict[tuple[str, str], Tally], seconds: float) -> int:
    """Print the table; the number of 5xx answers."""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    table = Table(title=f"schemathesis fuzz of the gateway, {seconds:.0f} s, load average {load}")
    for column in ("operation", "mode", "cases", "2xx", "4xx", "5xx", "check failures"):
        table.add_column(column, justify="left" if column in ("operation", "mode") else "right")
    totals = Tally()
    for (label, mode), tally in tallies.items():
        totals.cases += tally.cases
        totals.statuses.update(tally.statuses)
        totals.failures.update(tally.failures)
        totals.server_errors += tally.server_errors
        failures = ", ".join(f"{name} x {n}" for name, n in tally.failures.most_common()) or "0"
        table.add_row(
            label,
            mode,
            f"{tally.cases:,}",
            *(f"{tally.statuses[c]:,}" for c in ("2xx", "4xx", "5xx")),
            failures,
        )
    table.add_section()
    table.add_row(
        "all",
        "",
        f"{totals.cases:,}",
        *(f"{totals.statuses[c]:,}" for c in ("2xx", "4xx", "5xx")),
        f"{sum(totals.failures.values()):,}",
    )
    console.print(table)
    for line in totals.server_errors[:10]:
        console.print(f"[red]5xx[/red] {line}")
    return totals.statuses["5xx"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="generated requests in the run")
    args = parser.parse_args()

    overrides = {"log_level": "WARNING", "rate_limit_events_per_s": 10_000_000}
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-fuzz-") as tmp,
        console.status("starting Kafka, the registry and the gateway …") as status,
        running_stack(Path(tmp), Path(".cache"), overrides, [TestKey("fuzz")]) as stack,
    ):
        _, _, gateway = stack
        status.update(f"fuzzing with {args.cases:,} cases …")
        started = time.monotonic()
        tallies = fuzz(gateway.url, gateway.write_key, args.cases)
        status.stop()
        server_errors = report(tallies, time.monotonic() - started)
    raise SystemExit(1 if server_errors else 0)


if __name__ == "__main__":
    main()

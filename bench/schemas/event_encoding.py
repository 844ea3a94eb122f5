"""Cost of the generated event classes, as ratios against bare fastavro in the same run.

    .venv/bin/python bench/schemas/event_encoding.py [--events 20000] [--pairs 5]

Legs, interleaved baseline / candidate so drift hits both alike:

* bare fastavro: `schemaless_writer` of a dict built beforehand (what the classes must approach);
* to_avro + encode: a `PageView` built beforehand, `to_avro()` then the same writer;
* build + to_avro + encode: the event constructed per call (new UUIDv7 and timestamp), as
  `track()` does, then `to_avro()` and the writer.

The table gives events/s of each leg and its ratio to the bare leg of the same pair (median and
min-max over pairs).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from typing import Any

import fastavro
from rich.console import Console
from rich.table import Table

from accord.sdk.events import Context, Envelope, PageView

console = Console()


def page_view() -> PageView:
    return PageView(
        envelope=Envelope(user_id="user-42", session_id="s-1", context=Context(app_name="web", locale="fr")),
        url="https://example.com/pricing",
        path="/pricing",
        title="Pricing",
        campaign=PageView.Campaign(source="newsletter", medium="email"),
    )


def rate(step: Callable[[], None], events: int) -> float:
    start = time.perf_counter()
    for _ in range(events):
        step()
    return events / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()

    schema = fastavro.parse_schema(PageView.AVRO_SCHEMA)
    prebuilt = page_view()
    datum: dict[str, Any] = prebuilt.to_avro()
    buffer = io.BytesIO()

    def write(record: dict[str, Any]) -> None:
        buffer.seek(0)
        fastavro.schemaless_writer(buffer, schema, record)

    legs: dict[str, Callable[[], None]] = {
        "to_avro + encode": lambda: write(prebuilt.to_avro()),
        "build + to_avro + encode": lambda: write(page_view().to_avro()),
    }
    ratios: dict[str, list[float]] = {name: [] for name in legs}
    rates: dict[str, list[float]] = {name: [] for name in ["bare fastavro", *legs]}
    with console.status("measuring") as status:
        for pair in range(args.pairs):
            for name, step in legs.items():
                status.update(f"pair {pair + 1}/{args.pairs}: {name}")
                bare = rate(lambda: write(datum), args.events)
                candidate = rate(step, args.events)
                rates["bare fastavro"].append(bare)
                rates[name].append(candidate)
                ratios[name].append(candidate / bare)

    table = Table(title=f"PageView encoding, {args.events} events x {args.pairs} pairs")
    for column in ("leg", "events/s (median)", "ratio to bare (median)", "ratio min-max"):
        table.add_column(column, justify="right")
    table.add_row("bare fastavro", f"{statistics.median(rates['bare fastavro']):,.0f}", "1.00", "-")
    for name in legs:
        table.add_row(
            name,
            f"{statistics.median(rates[name]):,.0f}",
            f"{statistics.median(ratios[name]):.2f}",
            f"{min(ratios[name]):.2f}-{max(ratios[name]):.2f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()

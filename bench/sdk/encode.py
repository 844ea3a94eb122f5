"""SDK speed, as ratios against raw baselines measured in the same run.

    .venv/bin/python bench/sdk/encode.py [--events 20000] [--rounds 5] [--e2e-events 20000] [--pairs 3]

1. Encoding (no servers): events/s of
   * bare fastavro: `schemaless_writer` over the events' dicts, into one reused buffer (baseline);
   * SDK encode: `to_avro()`, local checks, fastavro, Confluent framing, per typed event;
   * SDK track(): all of the above plus stamping and queueing (the sender idles meanwhile);
   the legs take turns every 500 events, so load from other processes falls on all of them
   alike; median and min-max of the per-round ratios over `--rounds`.
2. End to end (starts its own Kafka broker, registry and gateway on free ports): events/s of
   * bare producer: confluent-kafka `Producer` (acks=all, idempotent) sending the same framed
     events straight to the `events` topic (baseline);
   * SDK -> gateway -> Kafka: `track()` of every event then `close()`, which returns once the
     gateway has answered every batch (it answers after Kafka acknowledged);
   interleaved over `--pairs`.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Producer
from fastavro import parse_schema, schemaless_writer
from rich.console import Console
from rich.table import Table

from accord.gateway.testing import GatewayHandle, TestKey, running_stack
from accord.registry_client import RegistryClient
from accord.schemas.catalog import load_catalog
from accord.schemas.register import register_catalog
from accord.schemas.settings import SchemasSettings
from accord.sdk import Client, ClientConfig
from accord.sdk.codec import codec_for
from accord.sdk.events import Context, Envelope, ExperimentExposure, FeatureUsed, PageView, Purchase, Signup
from accord.sdk.record import Event
from accord.wire.framing import frame

console = Console()


def workload(count: int) -> list[Event]:
    """A realistic mix: mostly page views and feature use, some exposures, signups and purchases."""
    context = Context(app_name="shop-web", app_version="4.2.0", platform=Context.Platform.WEB, locale="fr-FR")
    events: list[Event] = []
    for n in range(count):
        envelope = Envelope(user_id=f"user-{n % 997}", session_id=f"s-{n % 97}", context=context)
        kind = n % 20
        if kind < 12:
            events.append(PageView(envelope=envelope, url=f"https://shop.example/p/{n}", path=f"/p/{n}"))
        elif kind < 16:
            events.append(FeatureUsed(envelope=envelope, feature="export_csv", screen="/reports"))
        elif kind < 18:
            events.append(
                ExperimentExposure(envelope=envelope, experiment_id="new_checkout", variant="treatment")
            )
        elif kind < 19:
            events.append(Signup(envelope=envelope, method=Signup.SignupMethod.EMAIL))
        else:
            events.append(
                Purchase(envelope=envelope, order_id=f"o-{n}", amount=Decimal("42.10"), currency="EUR")
            )
    return events


def _rate(count: int, run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def _timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _discarding_gateway(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/schemas/resolve":
        return httpx.Response(200, json={"id": 7})
    return httpx.Response(200, json={"accepted": 0, "duplicates": 0, "rejected": []})


def encoding_round(events: list[Event], chunk: int) -> dict[str, float]:
    """Events/s of each leg over the same events, the legs taking turns every `chunk` events.

    Taking turns often spreads whatever else the machine is doing evenly over the legs.
    """
    parsed = {cls: parse_schema(cls.AVRO_SCHEMA) for cls in {type(e) for e in events}}
    dicts = [(parsed[type(e)], e.to_avro()) for e in events]  # the baseline starts from dicts
    buffer = io.BytesIO()
    # A sender that waits until the timing is over: track() alone is measured.
    idle = ClientConfig(
        queue_size=len(events) + 1, batch_size=len(events) + 1, batch_bytes=10**12, linger_s=3600
    )
    client = Client(
        "http://bench.invalid", "key", idle, http_transport=httpx.MockTransport(_discarding_gateway)
    )
    spent = {"bare fastavro": 0.0, "SDK encode": 0.0, "SDK track()": 0.0}
    for start in range(0, len(events), chunk):
        part, part_dicts = events[start : start + chunk], dicts[start : start + chunk]

        def bare(work: list[tuple[Any, dict[str, Any]]] = part_dicts) -> None:
            for schema, record in work:
                buffer.seek(0)
                buffer.truncate()
                schemaless_writer(buffer, schema, record)

        def encode(work: list[Event] = part) -> None:
            for event in work:
                frame(7, codec_for(event).encode(event.to_avro()))

        def track(work: list[Event] = part) -> None:
            for event in work:
                client.track(event)

        spent["bare fastavro"] += _timed(bare)
        spent["SDK encode"] += _timed(encode)
        spent["SDK track()"] += _timed(track)
    client.close()
    return {name: len(events) / seconds for name, seconds in spent.items()}


def encoding_table(events: int, rounds: int) -> Table:
    work = workload(events)
    for event in work[:1000]:  # build the codecs and warm up before timing
        codec_for(event).encode(event.to_avro())
    rates: dict[str, list[float]] = {"bare fastavro": [], "SDK encode": [], "SDK track()": []}
    with console.status("encoding …") as status:
        for round_ in range(rounds):
            status.update(f"encoding: round {round_ + 1} of {rounds}")
            for name, rate in encoding_round(work, 500).items():
                rates[name].append(rate)
    base = rates["bare fastavro"]
    table = Table(title=f"B2 encoding: {events} events x {rounds} rounds, legs alternating every 500 events")
    for column in ("leg", "median events/s", "median ratio to bare fastavro", "min-max over rounds"):
        table.add_column(column, justify="left" if column == "leg" else "right")
    for name, values in rates.items():
        ratios = [value / baseline for value, baseline in zip(values, base, strict=True)]
        table.add_row(
            name,
            f"{statistics.median(values):,.0f}",
            f"{statistics.median(ratios):.2f}" + (" (baseline)" if name == "bare fastavro" else ""),
            f"{min(ratios):.2f}-{max(ratios):.2f}",
        )
    return table


def bare_producer(bootstrap: str, records: list[tuple[bytes, bytes]]) -> float:
    """Events/s of a bare idempotent producer getting `records` (key, framed value) acknowledged."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5}
    )
    delivered = 0

    def on_delivery(error: Any, _message: Any) -> None:
        nonlocal delivered
        delivered += error is None

    def run() -> None:
        for index, (key, value) in enumerate(records):
            while True:
                try:
                    producer.produce("events", value, key, on_delivery=on_delivery)
                    break
                except BufferError:
                    producer.poll(0.005)
            if index % 100 == 0:
                producer.poll(0)
        producer.flush(60)

    rate = _rate(len(records), run)
    assert delivered == len(records), f"the bare producer delivered {delivered} of {len(records)}"
    return rate


def sdk_to_kafka(gateway: GatewayHandle, events: list[Event]) -> float:
    """Events/s from the first `track()` until `close()` saw every batch acknowledged."""
    config = ClientConfig(queue_size=len(events) + 1, batch_size=500, linger_s=0.01, close_timeout_s=300)
    client = Client(gateway.url, gateway.write_key, config)
    client.track(events[0])  # resolve the schema ids before timing, as a long-lived client would
    assert client.flush(30)

    def run() -> None:
        for event in events[1:]:
            client.track(event)
        client.close()

    rate = _rate(len(events) - 1, run)
    counters = client.counters
    assert counters.sent == len(events), f"the SDK delivered {counters.sent} of {len(events)}: {counters}"
    return rate


def end_to_end_table(events: int, pairs: int) -> Table:
    rates: dict[str, list[float]] = {"bare producer": [], "SDK -> gateway -> Kafka": []}
    ratios: list[float] = []
    overrides = {
        "rate_limit_events_per_s": 10_000_000,
        "rate_limit_burst": 10_000_000,
        "log_level": "WARNING",
    }
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-sdk-") as tmp,
        console.status("starting Kafka, the registry and the gateway …") as status,
        running_stack(Path(tmp), Path(".cache"), overrides, [TestKey("bench")]) as (
            broker,
            registry,
            gateway,
        ),
    ):
        schemas = SchemasSettings()
        register_catalog(
            load_catalog(schemas.schemas_dir, schemas.events_topic), RegistryClient(registry.url)
        )
        for pair in range(pairs):
            status.update(f"end to end: pair {pair + 1} of {pairs}")
            framed = workload(events)
            records = [
                ((e.envelope.user_id or "").encode(), frame(1, codec_for(e).encode(e.to_avro())))
                for e in framed
            ]
            base = bare_producer(broker.bootstrap, records)
            sdk = sdk_to_kafka(gateway, workload(events))
            rates["bare producer"].append(base)
            rates["SDK -> gateway -> Kafka"].append(sdk)
            ratios.append(sdk / base)
    table = Table(title=f"end to end: {events} events x {pairs} pairs (median, min-max)")
    for column in ("leg", "events/s", "ratio to bare producer", "min-max"):
        table.add_column(column, justify="left" if column == "leg" else "right")
    table.add_row("bare producer", f"{statistics.median(rates['bare producer']):,.0f}", "1.00 (baseline)", "")
    table.add_row(
        "SDK -> gateway -> Kafka",
        f"{statistics.median(rates['SDK -> gateway -> Kafka']):,.0f}",
        f"{statistics.median(ratios):.2f}",
        f"{min(ratios):.2f}-{max(ratios):.2f}",
    )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per encoding round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved encoding rounds")
    parser.add_argument("--e2e-events", type=int, default=20_000, help="events per end-to-end leg")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved end-to-end pairs (0 skips them)")
    args = parser.parse_args()
    console.print(encoding_table(args.events, args.rounds))
    if args.pairs:
        console.print(end_to_end_table(args.e2e_events, args.pairs))


if __name__ == "__main__":
    main()

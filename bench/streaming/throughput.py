"""Streaming throughput and Silver freshness, beside a bare Kafka → Delta copy in the same run.

Starts its own broker, registry and gateway on free ports, then:

1. pre-loads `--events` framed PageView records into Kafka (encoded once, before timing);
2. copies them with AvailableNow queries, one after the other, `--pairs` times (after one
   unreported warm-up pair):
   (a) bare Kafka → Delta copy, no decoding (the baseline),
   (b) Kafka → Bronze (framing parsed, headers kept),
   (c) Bronze → Silver (decode, rules, dedup, experiments, Quarantine, counts);
3. runs both queries continuously and sends `--rate` events/s through the gateway for
   `--seconds`; freshness = end of the Silver batch that holds an event - the gateway's 200.

Run by hand: `.venv/bin/python bench/streaming/throughput.py [--events 20000] [--rate 200]`.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import struct
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import fastavro
import httpx
from confluent_kafka import Producer
from rich.console import Console
from rich.table import Table

from accord.gateway.service import gateway_spec
from accord.gateway.settings import GatewaySettings
from accord.registry.testing import RegistryHandle
from accord.registry_client import RegistryClient
from accord.runtime.ports import free_port
from accord.runtime.supervisor import Supervisor
from accord.runtime.testing import BrokerHandle, make_test_settings
from accord.schemas.catalog import load_catalog
from accord.schemas.register import register_catalog
from accord.streaming.batch_schemas import BatchSchemaResolver, RegistrySchemas
from accord.streaming.bronze import kafka_options, start_bronze
from accord.streaming.lake import Lake
from accord.streaming.session import build_session
from accord.streaming.settings import StreamingSettings
from accord.streaming.silver import start_silver
from accord.wire.headers import RECEIVED_AT, SENT_AT

ROOT = Path(__file__).resolve().parents[2]
SUBJECT = "events-accord.events.PageView"
console = Console()


def _framed_events(registry_url: str, count: int) -> list[tuple[bytes, bytes]]:
    client = RegistryClient(registry_url)
    schema_id = client.latest(SUBJECT).id
    parsed = fastavro.parse_schema(client.resolved_schema(schema_id))
    now = int(time.time() * 1000)
    out = []
    for n in range(count):
        record = {
            "envelope": {
                "event_id": str(uuid.uuid4()),
                "event_time": now,
                "user_id": f"user-{n % 500}",
                "anonymous_id": None,
                "session_id": "s",
                "context": {"platform": "WEB"},
            },
            "url": f"https://example.com/{n % 50}",
        }
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, parsed, record)
        out.append((f"user-{n % 500}".encode(), struct.pack(">bI", 0, schema_id) + buffer.getvalue()))
    return out


def _preload(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "acks": "all"})
    received = str(int(time.time() * 1000)).encode()
    for key, value in records:
        producer.produce(
            topic,
            key=key,
            value=value,
            headers=[(RECEIVED_AT, received), (SENT_AT, received)],
        )
        producer.poll(0)
    producer.flush(60)


def _timed(action: Any) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _throughput(
    spark: Any, base: StreamingSettings, catalog: BatchSchemaResolver, events: int, pairs: int, work: Path
) -> list[dict[str, float]]:
    results = []
    for pair in range(pairs + 1):
        settings = base.model_copy(update={"lake_uri": str(work / f"lake-{pair}")})
        lake = Lake.from_settings(settings)

        def bare(settings: StreamingSettings = settings, lake: Lake = lake) -> None:
            frame = (
                spark.readStream.format("kafka")
                .options(**kafka_options(settings))
                .option("startingOffsets", "earliest")
                .load()
            )
            query = (
                frame.select("key", "value", "partition", "offset")
                .writeStream.format("delta")
                .option("checkpointLocation", lake.checkpoint("bare"))
                .trigger(availableNow=True)
                .start(f"{lake.root}/bare/events")
            )
            query.awaitTermination()

        with console.status(f"pair {pair}/{pairs} (0: warm-up): bare copy, Bronze, Silver …"):
            bare_s = _timed(bare)
            bronze_s = _timed(
                lambda s=settings: start_bronze(spark, s, available_now=True).awaitTermination()
            )
            silver_s = _timed(
                lambda s=settings: start_silver(spark, s, catalog, available_now=True).awaitTermination()
            )
        silver_rows = spark.read.format("delta").load(lake.silver).count()
        assert silver_rows == events, f"correctness gate: {silver_rows} Silver rows for {events} events"
        results.append({"bare": events / bare_s, "bronze": events / bronze_s, "silver": events / silver_s})
    # the first pair runs in a cold JVM (class loading, JIT): it warms up and is not reported
    return results[1:]


def _freshness(
    spark: Any,
    settings: StreamingSettings,
    catalog: BatchSchemaResolver,
    gateway_url: str,
    rate: int,
    seconds: int,
) -> list[float]:
    lake = Lake.from_settings(settings)
    acked: dict[str, float] = {}
    batch = max(1, rate // 10)
    queries = [start_bronze(spark, settings), start_silver(spark, settings, catalog)]
    try:
        with httpx.Client(timeout=30) as http, console.status(f"sending {rate} events/s for {seconds}s …"):
            started = time.monotonic()
            sent = 0
            while time.monotonic() - started < seconds:
                due = (time.monotonic() - started) * rate
                if sent >= due:
                    time.sleep(0.01)
                    continue
                now = int(time.time() * 1000)
                ids = [str(uuid.uuid4()) for _ in range(batch)]
                body = {
                    "sent_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now / 1000))
                    + f".{now % 1000:03d}Z",
                    "events": [
                        {
                            "schema": SUBJECT,
                            "payload": {
                                "envelope": {"event_id": i, "event_time": now, "user_id": "u", "context": {}},
                                "url": "https://example.com/",
                            },
                        }
                        for i in ids
                    ],
                }
                answer = http.post(
                    f"{gateway_url}/v1/events", json=body, headers={"Authorization": "Bearer dev-write-key"}
                )
                answer.raise_for_status()
                ack = time.time()
                acked.update({i: ack for i in ids})
                sent += batch
        deadline = time.monotonic() + 300
        with console.status("waiting for Silver to catch up …"):
            while time.monotonic() < deadline:
                # the batch's counts are written after its rows: wait for them, not for the rows
                if Path(lake.silver_batches).exists():
                    counted = spark.read.format("delta").load(lake.silver_batches).agg({"inserted": "sum"})
                    if (counted.collect()[0][0] or 0) >= len(acked):
                        break
                time.sleep(2)
    finally:
        for query in queries:
            query.stop()
    finished = {
        r.batch_id: r.finished_at.timestamp()
        for r in spark.read.format("delta")
        .load(lake.silver_batches)
        .select("batch_id", "finished_at")
        .collect()
    }
    rows = spark.read.format("delta").load(lake.silver).select("event_id", "silver_batch_id").collect()
    return [finished[r.silver_batch_id] - acked[r.event_id] for r in rows if r.event_id in acked]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _print_rates(rates: list[dict[str, float]], events: int, pairs: int) -> None:
    table = Table(title=f"streaming throughput, {events} events, local[2] ({pairs} pairs)")
    for column in ("leg", "events/s (median)", "min", "max", "ratio to bare copy (median of pairs)"):
        table.add_column(column, justify="right")
    for leg, name in (
        ("bare", "bare Kafka → Delta copy"),
        ("bronze", "Kafka → Bronze"),
        ("silver", "Bronze → Silver"),
    ):
        values = [r[leg] for r in rates]
        ratio = statistics.median(r[leg] / r["bare"] for r in rates)
        table.add_row(
            name,
            f"{statistics.median(values):,.0f}",
            f"{min(values):,.0f}",
            f"{max(values):,.0f}",
            f"{ratio:.2f}",
        )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--rate", type=int, default=200, help="events/s sent through the gateway")
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    runtime = make_test_settings(work / "kafka", ROOT / ".cache")
    broker = BrokerHandle(runtime, Supervisor(runtime.state_dir))
    registry = RegistryHandle(runtime.kafka_bootstrap, "_schemas", work / "registry")
    gateway_settings = GatewaySettings(
        host="127.0.0.1", port=free_port(), kafka_bootstrap=runtime.kafka_bootstrap, registry_url=registry.url
    )
    gateway_supervisor = Supervisor(work / "gateway")
    gateway_env = {
        "ACCORD_GATEWAY_HOST": "127.0.0.1",
        "ACCORD_GATEWAY_PORT": str(gateway_settings.port),
        "ACCORD_KAFKA_BOOTSTRAP": runtime.kafka_bootstrap,
        "ACCORD_REGISTRY_URL": registry.url,
    }
    with console.status("starting broker, registry and gateway …"):
        broker.start()
        registry.start()
        gateway_supervisor.start(gateway_spec(gateway_settings, gateway_env))
    try:
        register_catalog(load_catalog(ROOT / "schemas" / "avro"), RegistryClient(registry.url))
        settings = StreamingSettings(
            lake_uri=str(work / "lake"),
            state_dir=work / "state",
            cache_dir=ROOT / ".cache",
            kafka_bootstrap=runtime.kafka_bootstrap,
            registry_url=registry.url,
            shuffle_partitions=2,
            trigger_interval="1 second",
        )
        with console.status(f"encoding and producing {args.events} events …"):
            _preload(runtime.kafka_bootstrap, runtime.events_topic, _framed_events(registry.url, args.events))
        spark = build_session(settings, "accord-bench")
        catalog = BatchSchemaResolver(RegistrySchemas(registry.url), runtime.events_topic)
        rates = _throughput(spark, settings, catalog, args.events, args.pairs, work)
        _print_rates(rates, args.events, args.pairs)

        fresh_settings = settings.model_copy(
            update={"lake_uri": str(work / "lake-fresh"), "starting_offsets": "latest"}
        )
        lags = _freshness(
            spark,
            fresh_settings,
            catalog,
            f"http://127.0.0.1:{gateway_settings.port}",
            args.rate,
            args.seconds,
        )
        spark.stop()
    finally:
        gateway_supervisor.stop("gateway")
        registry.stop()
        broker.stop()

    fresh = Table(
        title=f"Silver freshness at {args.rate} events/s for {args.seconds}s (gateway 200 → Silver batch end)"
    )
    for column in ("events", "p50 s", "p95 s", "max s"):
        fresh.add_column(column, justify="right")
    fresh.add_row(
        str(len(lags)), f"{_percentile(lags, 0.5):.2f}", f"{_percentile(lags, 0.95):.2f}", f"{max(lags):.2f}"
    )
    console.print(fresh)
    console.print(
        json.dumps(
            {
                "rates": rates,
                "freshness_p50": _percentile(lags, 0.5),
                "freshness_p95": _percentile(lags, 0.95),
            }
        )
    )


if __name__ == "__main__":
    main()

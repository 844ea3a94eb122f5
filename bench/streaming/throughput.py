"""Streaming benchmarks: freshness through the gateway, throughput against a bare copy, dedup cost.

Starts its own broker, registry and gateway on free ports, then runs (all by default, or the
ones named with `--run`):

- `freshness`: the stream service's query (`ingest`, default settings) runs continuously while
  `--rate` events/s go through the real gateway for `--seconds`. Each event's freshness is the
  time from the gateway's 200 to the moment the Delta commit holding it appeared in the table's
  `_delta_log` (read from outside after the run: the file of each row, the version that added
  it, the commit file's modification time), for Bronze and for Silver. Spark jobs per
  micro-batch are sampled from the progress file.
- `throughput`: `--events` framed PageViews pre-loaded into Kafka, copied with AvailableNow
  queries, one after the other, `--pairs` times after one unreported warm-up pair:
  two bare Kafka → Delta copies, the baselines: (a) key, value, partition and offset, and (a')
  the whole record (headers and timestamps too, what Bronze keeps); then (b) Kafka → Bronze and
  (c) Kafka → Bronze → Silver (the `ingest` query). Ratios are (b) and (c) over (a) and over (a')
  per pair. Bronze exists before (b) and (c) start, as it does once the service runs.
- `dedup`: Silver and its event-id index pre-grown to `--grown-rows` synthetic rows (UUIDv7 ids
  over the past 30 days, written directly), then the same `--events`-event batch processed by the
  stream's Silver step (bound to a query, as in the service) against it and against an empty
  Silver, `--pairs` times; the ratio of the two durations.

Run by hand: `.venv/bin/python bench/streaming/throughput.py [--run freshness] [--seconds 300]`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import struct
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import fastavro
import httpx
from confluent_kafka import Producer
from rich.console import Console
from rich.table import Table

from accord.gateway.service import gateway_spec
from accord.gateway.settings import GatewaySettings
from accord.registry.testing import RegistryHandle
from accord.registry_client import RegistryClient
from accord.runtime.kafka import ensure_topics
from accord.runtime.logs import configure_logging
from accord.runtime.ports import free_port
from accord.runtime.supervisor import Supervisor
from accord.runtime.testing import BrokerHandle, make_test_settings
from accord.schemas.catalog import load_catalog
from accord.schemas.register import register_catalog
from accord.streaming.batch_schemas import BatchSchemaResolver, RegistrySchemas
from accord.streaming.bronze import ensure_bronze_table, kafka_options, start_bronze
from accord.streaming.delta_io import load_if_exists
from accord.streaming.empty_tables import ensure_tables
from accord.streaming.ingest import INGEST_QUERY, start_ingest
from accord.streaming.lake import Lake
from accord.streaming.progress import ProgressFile
from accord.streaming.session import build_session
from accord.streaming.settings import StreamingSettings
from accord.streaming.warmup import warm_up
from accord.wire.headers import RECEIVED_AT, SENT_AT

ROOT = Path(__file__).resolve().parents[2]
SUBJECT = "events-accord.events.PageView"
console = Console(width=150)
# the narrow baseline copies what a consumer of the values needs; the record baseline copies
# every column of the Kafka record, as Bronze keeps it
KEY_VALUE_COLUMNS = ("key", "value", "partition", "offset")
RECORD_COLUMNS = ("key", "value", "topic", "partition", "offset", "timestamp", "timestampType", "headers")


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


class LoadSampler:
    """Samples the 1-minute load average every few seconds while a leg runs."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(5):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        if not self.samples:
            return _load()
        return f"{statistics.mean(self.samples):.1f} (max {max(self.samples):.1f})"


def _framed_events(registry_url: str, count: int) -> list[tuple[bytes, bytes]]:
    client = RegistryClient(registry_url)
    schema_id = client.latest(SUBJECT).id
    parsed = fastavro.parse_schema(client.resolved_schema(schema_id))
    now = int(time.time() * 1000)
    out = []
    for n in range(count):
        record = {
            "envelope": {
                "event_id": str(_uuid7(now)),
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


def _uuid7(millis: int) -> uuid.UUID:
    """A UUIDv7 for `millis`, as the SDK makes them: 48 bits of time, version, variant, random bits."""
    random_bits = uuid.uuid4().int
    rand_a, rand_b = (random_bits >> 64) & 0xFFF, random_bits & (2**62 - 1)
    return uuid.UUID(int=(millis & (2**48 - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)


def _preload(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]], partitions: int) -> None:
    ensure_topics(bootstrap, {topic: partitions})
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


def _await(start: Callable[[], Any]) -> None:
    start().awaitTermination()


def _timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# --- throughput ----------------------------------------------------------------------------


def _throughput(
    spark: Any, base: StreamingSettings, catalog: BatchSchemaResolver, events: int, pairs: int, work: Path
) -> tuple[list[dict[str, float]], str]:
    results = []
    with LoadSampler() as load:
        for pair in range(pairs + 1):
            settings = base.model_copy(
                update={"lake_uri": str(work / f"lake-{pair}"), "state_dir": work / f"state-{pair}"}
            )
            lake = Lake.from_settings(settings)

            def bare(
                columns: tuple[str, ...], name: str, settings: StreamingSettings = settings, lake: Lake = lake
            ) -> None:
                frame = (
                    spark.readStream.format("kafka")
                    .options(**kafka_options(settings))
                    .option("startingOffsets", "earliest")
                    .load()
                )
                query = (
                    frame.select(*columns)
                    .writeStream.format("delta")
                    .option("checkpointLocation", lake.checkpoint(name))
                    .trigger(availableNow=True)
                    .start(f"{lake.root}/{name}/events")
                )
                query.awaitTermination()

            with console.status(f"pair {pair}/{pairs} (0: warm-up): bare copies, Bronze, Bronze + Silver …"):
                bare_s = _timed(partial(bare, KEY_VALUE_COLUMNS, "bare"))
                record_s = _timed(partial(bare, RECORD_COLUMNS, "bare-record"))
                # the service creates Bronze once, when it starts: not part of a batch's work
                ensure_bronze_table(spark, lake.bronze)
                bronze_s = _timed(partial(_await, partial(start_bronze, spark, settings, available_now=True)))
                ingest_settings = settings.model_copy(update={"lake_uri": str(work / f"lake-{pair}-ingest")})
                ensure_bronze_table(spark, Lake.from_settings(ingest_settings).bronze)
                progress = ProgressFile(ingest_settings.state_dir)
                ingest = partial(
                    start_ingest, spark, ingest_settings, catalog, available_now=True, progress=progress
                )
                ingest_s = _timed(partial(_await, ingest))
            silver = Lake.from_settings(ingest_settings).silver
            silver_rows = spark.read.format("delta").load(silver).count()
            assert silver_rows == events, f"correctness gate: {silver_rows} Silver rows for {events} events"
            jobs = float(progress.read().get(INGEST_QUERY, {}).get("spark_jobs", 0))
            results.append(
                {
                    "bare": events / bare_s,
                    "record": events / record_s,
                    "bronze": events / bronze_s,
                    "silver": events / ingest_s,
                    "jobs": jobs,
                }
            )
    # the first pair runs in a cold JVM (class loading, JIT): it warms up and is not reported
    return results[1:], load.summary()


def _print_rates(rates: list[dict[str, float]], events: int, pairs: int, load: str) -> None:
    table = Table(
        title=f"streaming throughput, {events} events, local[2] ({pairs} pairs), load average {load}"
    )
    columns = ("leg", "events/s (median)", "min", "max", "ratio to key+value copy", "ratio to record copy")
    for column in columns:
        table.add_column(column, justify="right")
    for leg, name in (
        ("bare", "bare Kafka → Delta copy, key + value + coordinates"),
        ("record", "bare Kafka → Delta copy, whole record (headers too)"),
        ("bronze", "Kafka → Bronze"),
        ("silver", "Kafka → Bronze + Silver (ingest)"),
    ):
        values = [r[leg] for r in rates]
        table.add_row(
            name,
            f"{statistics.median(values):,.0f}",
            f"{min(values):,.0f}",
            f"{max(values):,.0f}",
            *(f"{statistics.median(r[leg] / r[base] for r in rates):.2f}" for base in ("bare", "record")),
        )
    console.print(table)
    console.print(f"Spark jobs in the one ingest batch: {[int(r['jobs']) for r in rates]}")


# --- freshness -----------------------------------------------------------------------------


def _commit_times(table_path: str) -> dict[str, float]:
    """Data file → time its commit file appeared, from the table's `_delta_log`."""
    log_dir = Path(table_path) / "_delta_log"
    files: dict[str, float] = {}
    for commit in sorted(log_dir.glob("*.json")):
        visible = commit.stat().st_mtime
        for line in commit.read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                files.setdefault(unquote(action["add"]["path"]), visible)
    return files


def _row_freshness(
    spark: Any, table_path: str, id_column: Any, acked: dict[str, float]
) -> list[tuple[float, float]]:
    """(acknowledged at, seconds until visible) of every acknowledged row of the table."""
    from pyspark.sql import functions as sf

    commits = _commit_times(table_path)
    rows = (
        spark.read.format("delta")
        .load(table_path)
        .select(id_column.alias("event_id"), sf.input_file_name().alias("file"))
        .collect()
    )
    root = Path(table_path).resolve()
    out = []
    for row in rows:
        if row.event_id not in acked:
            continue
        # Spark names the file `file:/…`, the log relative to the table
        relative = Path(unquote(urlparse(row.file).path)).relative_to(root)
        acked_at = acked[row.event_id]
        out.append((acked_at, commits[str(relative)] - acked_at))
    return out


def _send(gateway_url: str, rate: int, seconds: int, acked: dict[str, float]) -> None:
    per_request = max(1, rate // 10)
    with httpx.Client(timeout=30) as http:
        started = time.monotonic()
        sent = 0
        while time.monotonic() - started < seconds:
            due = (time.monotonic() - started) * rate
            if sent >= due:
                time.sleep(0.005)
                continue
            now = int(time.time() * 1000)
            ids = [str(_uuid7(now)) for _ in range(per_request)]
            sent_at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now / 1000)) + f".{now % 1000:03d}Z"
            body = {
                "sent_at": sent_at,
                "events": [
                    {
                        "schema": SUBJECT,
                        "payload": {
                            "envelope": {
                                "event_id": i,
                                "event_time": now,
                                "user_id": f"u{n % 97}",
                                "context": {},
                            },
                            "url": "https://example.com/",
                        },
                    }
                    for n, i in enumerate(ids)
                ],
            }
            answer = http.post(
                f"{gateway_url}/v1/events", json=body, headers={"Authorization": "Bearer dev-write-key"}
            )
            answer.raise_for_status()
            ack = time.time()
            acked.update(dict.fromkeys(ids, ack))
            sent += per_request


def _check_running(query: Any) -> None:
    if not query.isActive:
        raise RuntimeError(f"the ingest query stopped: {query.exception()}")


def _freshness(
    spark: Any,
    settings: StreamingSettings,
    catalog: BatchSchemaResolver,
    gateway_url: str,
    rate: int,
    seconds: int,
) -> dict[str, Any]:
    from pyspark.sql import functions as sf

    lake = Lake.from_settings(settings)
    progress = ProgressFile(settings.state_dir)
    acked: dict[str, float] = {}
    jobs: dict[int, int] = {}
    # what the stream service does before its query starts (`accord.streaming.app.run`)
    ensure_tables(spark, settings, catalog)
    with console.status("warming up …"):
        warm_up(spark, settings, catalog)
    query = start_ingest(spark, settings, catalog, progress=progress)
    try:
        # "latest" is resolved at the first trigger: events sent before it would be skipped
        while query.lastProgress is None:
            _check_running(query)
            time.sleep(0.5)
        with LoadSampler() as load, console.status(f"sending {rate} events/s for {seconds}s …"):
            sender = threading.Thread(target=_send, args=(gateway_url, rate, seconds, acked))
            sender.start()
            while sender.is_alive():
                _check_running(query)
                facts = progress.read().get(INGEST_QUERY, {})
                if "spark_jobs" in facts:
                    jobs[int(facts["batch_id"])] = int(facts["spark_jobs"])
                time.sleep(0.5)
            sender.join()
        deadline = time.monotonic() + 600
        with console.status("waiting for Silver to catch up …"):
            while time.monotonic() < deadline:
                _check_running(query)
                silver = load_if_exists(spark, lake.silver)
                if silver is not None and silver.count() >= len(acked):
                    break
                time.sleep(2)
    finally:
        query.stop()
    event_id_header = sf.expr(
        "CAST(try_element_at(filter(headers, h -> h.key = 'accord.event_id'), 1).value AS STRING)"
    )
    return {
        "silver": _row_freshness(spark, lake.silver, sf.col("event_id"), acked),
        "bronze": _row_freshness(spark, lake.bronze, event_id_header, acked),
        "acked": len(acked),
        "jobs": list(jobs.values()),
        "load": load.summary(),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _print_freshness(result: dict[str, Any], rate: int, seconds: int) -> None:
    table = Table(
        title=f"freshness at {rate} events/s for {seconds}s through the gateway, default settings "
        f"(gateway 200 → Delta commit visible), load average {result['load']}"
    )
    for column in ("table", "events", "p50 s", "p95 s", "max s"):
        table.add_column(column, justify="right")
    for name in ("bronze", "silver"):
        lags = [lag for _, lag in result[name]]
        table.add_row(
            name,
            f"{len(lags)} of {result['acked']}",
            f"{_percentile(lags, 0.5):.2f}",
            f"{_percentile(lags, 0.95):.2f}",
            f"{max(lags):.2f}",
        )
    console.print(table)
    _print_freshness_by_minute(result)
    jobs = result["jobs"]
    if jobs:
        console.print(
            f"Spark jobs per micro-batch: median {statistics.median(jobs):.0f}, "
            f"min {min(jobs)}, max {max(jobs)} over {len(jobs)} sampled batches"
        )


def _print_freshness_by_minute(result: dict[str, Any]) -> None:
    """Silver's freshness per minute of the load: a fresh service's first batches apart from the rest."""
    start = min(acked_at for acked_at, _ in result["silver"])
    minutes: dict[int, list[float]] = {}
    for acked_at, lag in result["silver"]:
        minutes.setdefault(int((acked_at - start) // 60), []).append(lag)
    table = Table(title="silver freshness per minute of the load")
    for column in ("minute", "events", "p50 s", "p95 s", "max s"):
        table.add_column(column, justify="right")
    for minute, lags in sorted(minutes.items()):
        table.add_row(
            str(minute + 1),
            str(len(lags)),
            f"{_percentile(lags, 0.5):.2f}",
            f"{_percentile(lags, 0.95):.2f}",
            f"{max(lags):.2f}",
        )
    console.print(table)


# --- dedup cost ----------------------------------------------------------------------------


def _grow(spark: Any, lake: Lake, rows: int) -> None:
    """Write `rows` synthetic Silver rows and their index rows: UUIDv7 ids over the past 30 days."""
    from pyspark.sql import functions as sf

    from accord.streaming import id_index

    now_ms = int(time.time() * 1000)
    span_ms = 30 * 86_400_000
    millis = sf.lit(now_ms - span_ms) + (sf.col("id") * sf.lit(span_ms // rows))
    hex_ms = sf.lpad(sf.hex(millis), 12, "0")
    random_hex = sf.substring(sf.sha2(sf.col("id").cast("string"), 256), 1, 19)
    event_id = sf.concat_ws(
        "-",
        sf.substring(hex_ms, 1, 8),
        sf.substring(hex_ms, 9, 4),
        sf.concat(sf.lit("7"), sf.substring(random_hex, 1, 3)),
        sf.concat(sf.lit("8"), sf.substring(random_hex, 4, 3)),
        sf.substring(random_hex, 7, 12),
    )
    base = spark.range(rows).select(
        event_id.alias("event_id"),
        sf.lit("page_view").alias("event_type"),
        sf.timestamp_millis(millis).alias("event_time_corrected"),
        sf.sha2(sf.col("id").cast("string"), 256).alias("payload_sha256"),
        sf.lit("synthetic").alias("kafka_topic"),
        (sf.col("id") % 4).cast("int").alias("kafka_partition"),
        sf.col("id").alias("kafka_offset"),
        sf.to_date(sf.timestamp_millis(millis)).alias("event_date"),
    )
    base.write.format("delta").partitionBy("event_date").save(lake.silver)
    spark.read.format("delta").load(lake.silver).withColumn(id_index.BUCKET_COLUMN, id_index.bucket()).select(
        *id_index.COLUMNS
    ).write.format("delta").partitionBy(id_index.BUCKET_COLUMN).save(lake.event_ids)


def _dedup_cost(
    spark: Any,
    base: StreamingSettings,
    catalog: BatchSchemaResolver,
    registry_url: str,
    events: int,
    grown_rows: int,
    pairs: int,
    work: Path,
    partitions: int,
) -> dict[str, Any]:
    from accord.streaming.bronze import to_bronze
    from accord.streaming.silver import SilverBatch

    grown = Lake.from_settings(base.model_copy(update={"lake_uri": str(work / "dedup-grown")}))
    with console.status(f"writing {grown_rows:,} synthetic Silver and index rows …"):
        grow_s = _timed(lambda: _grow(spark, grown, grown_rows))
    durations: list[tuple[float, float]] = []
    with LoadSampler() as load:
        for pair in range(pairs + 1):
            # a new batch of ids each pair, so the grown lake never already holds them
            topic = f"dedup-{pair}"
            _preload(base.kafka_bootstrap, topic, _framed_events(registry_url, events), partitions)
            batch = (
                spark.read.format("kafka")
                .options(**{**kafka_options(base), "subscribe": topic})
                .option("startingOffsets", "earliest")
                .load()
            )
            rows = to_bronze(batch)
            timings = []
            for lake_uri in (str(work / f"dedup-empty-{pair}"), str(work / "dedup-grown")):
                # processing unpersists its batch: cache it again, so neither leg reads Kafka
                rows.cache()
                assert rows.count() == events
                settings = base.model_copy(update={"lake_uri": lake_uri, "events_topic": topic})
                processor = SilverBatch(settings, catalog)
                name = Path(lake_uri).name
                # bound like the stream's own processor: its writes are marked appends, not merges
                processor.bind(f"bench-{name}-{pair}")
                with console.status(f"pair {pair}/{pairs} (0: warm-up): batch against {name} …"):
                    timings.append(_timed(partial(processor.process, rows, batch_id=pair)))
            durations.append((timings[0], timings[1]))
    return {"durations": durations[1:], "grow_s": grow_s, "load": load.summary()}


def _print_dedup(result: dict[str, Any], events: int, grown_rows: int) -> None:
    table = Table(
        title=f"dedup cost: one {events:,}-event batch against an empty Silver and against "
        f"{grown_rows:,} rows, load average {result['load']}"
    )
    for column in ("pair", "empty s", "grown s", "grown / empty"):
        table.add_column(column, justify="right")
    for n, (empty, grown) in enumerate(result["durations"], start=1):
        table.add_row(str(n), f"{empty:.2f}", f"{grown:.2f}", f"{grown / empty:.2f}")
    ratio = statistics.median(g / e for e, g in result["durations"])
    table.add_row("median", "", "", f"{ratio:.2f}")
    console.print(table)
    console.print(f"(synthetic rows written in {result['grow_s']:.0f}s)")


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", default="freshness,throughput,dedup", help="comma-separated benchmarks")
    parser.add_argument("--events", type=int, default=20_000, help="events per throughput or dedup batch")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--rate", type=int, default=2_000, help="events/s sent through the gateway")
    parser.add_argument("--seconds", type=int, default=300, help="how long the gateway load lasts")
    parser.add_argument("--grown-rows", type=int, default=20_000_000, help="rows of the pre-grown Silver")
    args = parser.parse_args()
    configure_logging("WARNING")
    chosen = set(args.run.split(","))

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
        # created here, so the registry's start does not race the topic's metadata
        ensure_topics(runtime.kafka_bootstrap, {"_schemas": 1}, {"cleanup.policy": "compact"})
        time.sleep(2)
        registry.start()
        gateway_supervisor.start(gateway_spec(gateway_settings, gateway_env))
    try:
        register_catalog(load_catalog(ROOT / "schemas" / "avro"), RegistryClient(registry.url))
        # default streaming settings, only pointed at this run's servers and folders
        settings = StreamingSettings(
            lake_uri=str(work / "lake"),
            state_dir=work / "state",
            cache_dir=ROOT / ".cache",
            kafka_bootstrap=runtime.kafka_bootstrap,
            registry_url=registry.url,
        )
        spark = build_session(settings, "accord-bench")
        catalog = BatchSchemaResolver(RegistrySchemas(registry.url), runtime.events_topic)
        if "freshness" in chosen:
            fresh_settings = settings.model_copy(
                update={"lake_uri": str(work / "lake-fresh"), "starting_offsets": "latest"}
            )
            gateway_url = f"http://127.0.0.1:{gateway_settings.port}"
            result = _freshness(spark, fresh_settings, catalog, gateway_url, args.rate, args.seconds)
            _print_freshness(result, args.rate, args.seconds)
        if "throughput" in chosen:
            topic = "throughput"
            with console.status(f"encoding and producing {args.events} events …"):
                _preload(
                    runtime.kafka_bootstrap,
                    topic,
                    _framed_events(registry.url, args.events),
                    runtime.kafka_partitions,
                )
            topic_settings = settings.model_copy(update={"events_topic": topic})
            rates, load = _throughput(spark, topic_settings, catalog, args.events, args.pairs, work)
            _print_rates(rates, args.events, args.pairs, load)
        if "dedup" in chosen:
            dedup = _dedup_cost(
                spark,
                settings,
                catalog,
                registry.url,
                args.events,
                args.grown_rows,
                args.pairs,
                work,
                runtime.kafka_partitions,
            )
            _print_dedup(dedup, args.events, args.grown_rows)
        spark.stop()
    finally:
        gateway_supervisor.stop("gateway")
        registry.stop()
        broker.stop()


if __name__ == "__main__":
    main()

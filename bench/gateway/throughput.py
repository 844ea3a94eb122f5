"""Gateway throughput and latency, as ratios against a bare confluent-kafka producer in the same run.

    .venv/bin/python bench/gateway/throughput.py [--seconds 5] [--pairs 3]

Starts its own Kafka broker, registry and gateway on free ports (nothing of a running stack is
touched), then interleaves legs A/B/A/B…:

* bare producer: confluent-kafka `Producer` (acks=all, idempotence, lz4, linger 5 ms) sending the
  already-framed events with the gateway's key and headers, counting delivery reports;
* gateway, Avro bodies: batches of 100 framed events posted over keep-alive connections;
* gateway, JSON bodies: the same events as JSON batches of 100;
* gateway, Avro bodies whose events are all rejected (the dead-letter path);
* `/v1/events` vs `/v1/batch`: the same page views of the platform's `accord.events.PageView`
  contract, once as native JSON batches and once as Segment-spec batches (Basic auth, RFC 3339
  times, context mapped by `schemas/segment.json`), so the cost of the Segment mapping shows;
* a second gateway of `--workers` processes on one port (`ACCORD_GATEWAY_WORKERS`), Avro and
  JSON bodies: the scale-out legs, compared with the one-process gateway of the same pair.

Events/s of each gateway leg are divided by the bare producer's events/s of the same pair; the
table gives the median and min-max over pairs. A second table gives p50/p99 latency at a fixed
rate (`--latency-rate` events/s in batches of 10, open loop: latency counts from the scheduled
send time; the bare producer sends the same records at the same rate). On a machine with
2+ cores the broker is pinned to core 0 and the system under test (gateway or bare producer) to
core 1; the load generator runs on core 0. The workers of the several-process gateway are not
pinned: they share both cores with the broker and the load generator, as they would in use.

The gateway runs with a zero-length dedup window so the pre-built batches can be sent again; the
dedup bookkeeping still runs for every event.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
import httpx
import orjson
import psutil
from confluent_kafka import Consumer, Producer, TopicPartition
from rich.console import Console
from rich.table import Table

from accord.gateway.publisher import Headers
from accord.gateway.segment import SEGMENT_NAMESPACE
from accord.gateway.testing import GatewayHandle, TestKey, running_stack, start_gateway
from accord.runtime.supervisor import Supervisor
from accord.runtime.testing import BrokerHandle
from accord.runtime.waiting import wait_until
from accord.schemas.catalog import load_catalog
from accord.schemas.settings import SchemasSettings
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE as AVRO_BATCH
from accord.wire.framing import JSON_MEDIA_TYPE as JSON
from accord.wire.framing import batch_body, frame
from accord.wire.headers import EVENT_ID, KEY_ID, RECEIVED_AT, SENT_AT

console = Console()
SCALED_AVRO = "gateway, N processes, Avro"
SCALED_JSON = "gateway, N processes, JSON"
BATCH = 100
POOL_BATCHES = 300
PRODUCER_CONFIG = {
    "acks": "all",
    "enable.idempotence": True,
    "compression.type": "lz4",
    "linger.ms": 5,
    "queue.buffering.max.messages": 100_000,
}

SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "PageView",
    "namespace": "bench.gateway",
    "fields": [
        {
            "name": "envelope",
            "type": {
                "type": "record",
                "name": "Envelope",
                "namespace": "accord.common",
                "fields": [
                    {"name": "event_id", "type": {"type": "string", "logicalType": "uuid"}},
                    {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
                    {"name": "user_id", "type": ["null", "string"], "default": None},
                    {"name": "anonymous_id", "type": ["null", "string"], "default": None},
                    {"name": "session_id", "type": ["null", "string"], "default": None},
                ],
            },
        },
        {"name": "url", "type": "string"},
        {"name": "referrer", "type": ["null", "string"], "default": None},
        {"name": "user_agent", "type": "string"},
        {"name": "duration_ms", "type": "long"},
        {"name": "logged_in", "type": "boolean"},
        {"name": "tags", "type": {"type": "map", "values": "string"}},
    ],
}


def _event(index: int) -> dict[str, Any]:
    return {
        "envelope": {
            "event_id": str(uuid.uuid4()),
            "event_time": 1_767_225_600_000 + index,
            "user_id": f"user-{index % 1000}",
            "anonymous_id": None,
            "session_id": f"session-{index % 97}",
        },
        "url": f"https://shop.example.com/products/{index % 500}",
        "referrer": "https://search.example.com/?q=shoes",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
        "duration_ms": index % 10_000,
        "logged_in": index % 2 == 0,
        "tags": {"plan": "pro", "ab": "B"},
    }


@dataclass
class Workload:
    """Pre-built requests and records: nothing is generated while a leg is timed."""

    avro_requests: list[bytes]
    json_requests: list[bytes]
    rejected_requests: list[bytes]
    contract_requests: list[bytes]
    segment_requests: list[bytes]
    records: list[tuple[bytes, bytes, Headers]]


def _http_request(
    url: str, key: str, content_type: str, body: bytes, sent_at: str, path: str = "/v1/events"
) -> bytes:
    host = url.removeprefix("http://")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: {content_type}\r\nAccord-Sent-At: {sent_at}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def build_workload(gateway: GatewayHandle, schema_id: int, batch: int) -> Workload:
    """Framed events, Avro and JSON batch requests of `batch` events, and the bare producer's records."""
    parsed = fastavro.parse_schema(SCHEMA)
    sent_at = "2026-01-01T00:00:00.000Z"
    subject = "events-bench.gateway.PageView"
    avro, as_json, rejected, records = [], [], [], []
    for b in range(POOL_BATCHES):
        events = [_event(b * batch + i) for i in range(batch)]
        framed = []
        for event in events:
            buffer = io.BytesIO()
            fastavro.schemaless_writer(buffer, parsed, event)
            framed.append(frame(schema_id, buffer.getvalue()))
            headers: Headers = [
                (RECEIVED_AT, b"1767225600000"),
                (SENT_AT, b"1767225600000"),
                (KEY_ID, b"bench"),
                (EVENT_ID, event["envelope"]["event_id"].encode()),
            ]
            records.append((event["envelope"]["user_id"].encode(), framed[-1], headers))
        avro.append(_http_request(gateway.url, gateway.write_key, AVRO_BATCH, batch_body(framed), sent_at))
        document = {"sent_at": sent_at, "events": [{"schema": subject, "payload": e} for e in events]}
        as_json.append(_http_request(gateway.url, gateway.write_key, JSON, orjson.dumps(document), sent_at))
        broken = [f[:-3] for f in framed]  # each event's Avro body ends early
        rejected.append(
            _http_request(gateway.url, gateway.write_key, AVRO_BATCH, batch_body(broken), sent_at)
        )
    contract, segment = build_contract_workload(gateway, batch)
    return Workload(avro, as_json, rejected, contract, segment, records)


def _segment_page(index: int, message_id: str, sent_at: str) -> dict[str, Any]:
    return {
        "type": "page",
        "messageId": message_id,
        "userId": f"user-{index % 1000}",
        "timestamp": sent_at,
        "name": "Product",
        "properties": {
            "url": f"https://shop.example.com/products/{index % 500}",
            "path": f"/products/{index % 500}",
            "referrer": "https://search.example.com/?q=shoes",
        },
        "context": {
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
            "locale": "en-GB",
            "library": {"name": "analytics.js", "version": "5.2.0"},
        },
    }


def _native_page(segment: dict[str, Any], event_id: str, event_time_ms: int) -> dict[str, Any]:
    """The native JSON event the Segment mapping makes of `segment`."""
    context = segment["context"]
    return {
        "envelope": {
            "event_id": event_id,
            "event_time": event_time_ms,
            "user_id": segment["userId"],
            "context": {
                "user_agent": context["userAgent"],
                "locale": context["locale"],
                "library_name": context["library"]["name"],
                "library_version": context["library"]["version"],
                "platform": "WEB",
            },
        },
        "url": segment["properties"]["url"],
        "path": segment["properties"]["path"],
        "title": segment["name"],
        "referrer": segment["properties"]["referrer"],
    }


def build_contract_workload(gateway: GatewayHandle, batch: int) -> tuple[list[bytes], list[bytes]]:
    """The same page views as `/v1/events` JSON batches and as Segment `/v1/batch` batches."""
    sent_at, sent_at_ms = "2026-01-01T00:00:00.000Z", 1_767_225_600_000
    native, segment = [], []
    basic = base64.b64encode(f"{gateway.write_key}:".encode()).decode()
    for b in range(POOL_BATCHES):
        messages, events = [], []
        for i in range(batch):
            index = b * batch + i
            message = _segment_page(index, f"ajs-next-{uuid.uuid4().hex}", sent_at)
            event_id = str(uuid.uuid5(SEGMENT_NAMESPACE, message["messageId"]))
            messages.append(message)
            events.append(
                {"schema": "accord.events.PageView", "payload": _native_page(message, event_id, sent_at_ms)}
            )
        document = {"sent_at": sent_at, "events": events}
        native.append(_http_request(gateway.url, gateway.write_key, JSON, orjson.dumps(document), sent_at))
        body = orjson.dumps({"batch": messages, "sentAt": sent_at})
        request = _http_request(gateway.url, gateway.write_key, JSON, body, sent_at, "/v1/batch")
        segment.append(request.replace(f"Bearer {gateway.write_key}".encode(), f"Basic {basic}".encode(), 1))
    return native, segment


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return status, await reader.readexactly(length)


async def _closed_loop(
    url: str, requests: list[bytes], seconds: float, connections: int, expect: int
) -> tuple[int, float]:
    """Send requests back to back on `connections` keep-alive connections: (events answered, seconds)."""
    host, port = url.removeprefix("http://").split(":")
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection(host, int(port))
        index = offset
        while time.perf_counter() < deadline:
            status, body = await _exchange(reader, writer, requests[index % len(requests)])
            if status != expect:
                raise RuntimeError(f"gateway answered {status}: {body[:200]!r}")
            done += 1
            index += connections
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    return done * BATCH, time.perf_counter() - started


async def _open_loop(url: str, requests: list[bytes], rate_rps: float, seconds: float) -> list[float]:
    """Send one request every 1/rate s (open loop); latencies in ms from the scheduled time."""
    host, port = url.removeprefix("http://").split(":")
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(32):
        pool.put_nowait(await asyncio.open_connection(host, int(port)))
    latencies: list[float] = []

    async def one(request: bytes, scheduled: float) -> None:
        connection = await pool.get()
        status, body = await _exchange(*connection, request)
        latencies.append((time.perf_counter() - scheduled) * 1000)
        pool.put_nowait(connection)
        if status != 200:
            raise RuntimeError(f"gateway answered {status}: {body[:200]!r}")

    tasks = []
    start = time.perf_counter()
    for i in range(int(rate_rps * seconds)):
        scheduled = start + i / rate_rps
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        tasks.append(asyncio.create_task(one(requests[i % len(requests)], scheduled)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait()[1].close()
    return latencies


def bare_producer(bootstrap: str, topic: str, workload: Workload, seconds: float) -> tuple[int, float]:
    """Events a bare producer gets acknowledged sending the gateway's records for `seconds`, and the time."""
    producer = _ready_producer(bootstrap, topic, workload)
    delivered = 0

    def on_delivery(error: Any, _message: Any) -> None:
        nonlocal delivered
        if error is None:
            delivered += 1

    records = workload.records
    started = time.perf_counter()
    deadline = started + seconds
    index = 0
    while time.perf_counter() < deadline:
        key, value, headers = records[index % len(records)]
        try:
            producer.produce(topic, value, key, on_delivery=on_delivery, headers=headers)
        except BufferError:
            producer.poll(0.005)
            continue
        index += 1
        if index % BATCH == 0:
            producer.poll(0)
    producer.flush(30)
    return delivered, time.perf_counter() - started


def producer_latencies(
    bootstrap: str, topic: str, workload: Workload, rate_eps: float, seconds: float
) -> list[float]:
    """Per-event delivery latency (ms) of a bare producer sending `rate_eps` events/s in groups of 10."""
    producer = _ready_producer(bootstrap, topic, workload)
    latencies: list[float] = []
    group = 10
    start = time.perf_counter()
    for i in range(int(rate_eps / group * seconds)):
        scheduled = start + i * group / rate_eps
        while time.perf_counter() < scheduled:
            producer.poll(max(0.0, min(0.001, scheduled - time.perf_counter())))

        def report(error: Any, _message: Any, scheduled: float = scheduled) -> None:
            latencies.append((time.perf_counter() - scheduled) * 1000)

        for j in range(group):
            key, value, headers = workload.records[(i * group + j) % len(workload.records)]
            producer.produce(topic, value, key, on_delivery=report, headers=headers)
        producer.poll(0)
    producer.flush(30)
    return latencies


def topic_size(bootstrap: str, topic: str) -> int:
    """Records in `topic` (sum of high watermarks)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-watermarks"})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    total = sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions)
    consumer.close()
    return total


def _ready_producer(bootstrap: str, topic: str, workload: Workload) -> Producer:
    """A bare producer that has connected and obtained its producer id (not part of any timing)."""
    producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER_CONFIG})
    key, value, headers = workload.records[0]
    producer.produce(topic, value, key, headers=headers)
    producer.flush(30)
    return producer


def _pin(pid: int, core: int) -> None:
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(pid, {core})


def _pid(supervisor: Supervisor, name: str) -> int:
    record = orjson.loads((supervisor.state_dir / name / "process.json").read_bytes())
    return int(record["pid"])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each timed leg")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved producer/gateway pairs")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections of the load")
    parser.add_argument("--latency-rate", type=float, default=2000.0, help="events/s of the latency legs")
    parser.add_argument("--workers", type=int, default=2, help="processes of the scale-out gateway")
    args = parser.parse_args()

    overrides = {
        "dedup_window_s": 0.0,
        "rate_limit_events_per_s": 10_000_000,
        "log_level": "WARNING",
        "segment_mapping_file": SchemasSettings().segment_mapping,
    }
    with (
        tempfile.TemporaryDirectory(prefix="accord-bench-gateway-") as tmp,
        console.status("starting Kafka, the registry and the gateway …") as status,
        running_stack(Path(tmp), Path(".cache"), overrides, [TestKey("bench")]) as stack,
    ):
        broker, registry, gateway = stack
        response = httpx.post(
            f"{registry.url}/subjects/events-bench.gateway.PageView/versions",
            json={"schema": orjson.dumps(SCHEMA).decode()},
        )
        response.raise_for_status()
        schema_id = response.json()["id"]
        _register_contract(registry.url, "accord.events.PageView")
        status.update(f"starting a gateway of {args.workers} processes …")
        scaled = start_gateway(
            Path(tmp) / "gateway-workers",
            broker.bootstrap,
            registry.url,
            gateway.keys,
            # INFO: each worker logs that it started (`workers()` reads it); these legs reject nothing
            {**overrides, "workers": args.workers, "log_level": "INFO"},
        )
        try:
            wait_until(
                scaled.workers,
                until=lambda workers: len(workers) == args.workers,
                timeout_s=120,
                describe=f"{args.workers} gateway workers serving",
            )
            status.update("building the workload …")
            workload = build_workload(gateway, schema_id, BATCH)
            status.stop()
            _pin(_pid(broker.supervisor, "kafka"), 0)
            _pin(_pid(gateway.supervisor, "gateway"), 1)
            run(args, broker, gateway, scaled, workload)
        finally:
            scaled.stop()


def _register_contract(registry_url: str, full_name: str) -> None:
    settings = SchemasSettings()
    catalog = load_catalog(settings.schemas_dir)
    schema = catalog.self_contained(catalog.require(full_name))
    response = httpx.post(
        f"{registry_url}/subjects/events-{full_name}/versions", json={"schema": orjson.dumps(schema).decode()}
    )
    response.raise_for_status()


def run(
    args: argparse.Namespace,
    broker: BrokerHandle,
    gateway: GatewayHandle,
    scaled: GatewayHandle,
    workload: Workload,
) -> None:
    """The timed legs and the three tables."""
    topic = broker.settings.events_topic
    rates: dict[str, list[float]] = {
        "bare producer": [],
        "gateway, Avro": [],
        "gateway, JSON": [],
        "gateway, all rejected": [],
        "gateway, PageView JSON /v1/events": [],
        "gateway, PageView Segment /v1/batch": [],
        SCALED_AVRO: [],
        SCALED_JSON: [],
    }
    cpu_us: dict[str, list[float]] = {name: [] for name in rates}
    shares: dict[str, list[float]] = {SCALED_AVRO: [], SCALED_JSON: []}
    """per leg of the several-process gateway: CPU of its least busy worker / its busiest"""
    gateway_process = [psutil.Process(_pid(gateway.supervisor, "gateway"))]
    legs: list[tuple[str, Callable[[], tuple[int, float]]]] = [
        ("bare producer", lambda: bare_producer(broker.bootstrap, topic, workload, args.seconds)),
        ("gateway, Avro", lambda: _load(gateway, workload.avro_requests, args, 200)),
        ("gateway, JSON", lambda: _load(gateway, workload.json_requests, args, 200)),
        ("gateway, all rejected", lambda: _load(gateway, workload.rejected_requests, args, 422)),
        ("gateway, PageView JSON /v1/events", lambda: _load(gateway, workload.contract_requests, args, 200)),
        ("gateway, PageView Segment /v1/batch", lambda: _load(gateway, workload.segment_requests, args, 200)),
        (SCALED_AVRO, lambda: _load(scaled, workload.avro_requests, args, 200)),
        (SCALED_JSON, lambda: _load(scaled, workload.json_requests, args, 200)),
    ]
    _load(gateway, workload.avro_requests, argparse.Namespace(seconds=1.0, connections=args.connections), 200)
    _load(gateway, workload.json_requests, argparse.Namespace(seconds=1.0, connections=args.connections), 200)
    _load(
        gateway, workload.segment_requests, argparse.Namespace(seconds=1.0, connections=args.connections), 200
    )
    for warm in (workload.avro_requests, workload.json_requests):
        _load(scaled, warm, argparse.Namespace(seconds=1.0, connections=args.connections), 200)
    for pair in range(args.pairs):
        for name, leg in legs:
            before = topic_size(broker.bootstrap, topic)
            console.print(f"[dim]pair {pair + 1}/{args.pairs}: {name} …[/dim]")
            _pin(os.getpid(), 1 if name == "bare producer" else 0)
            measured = {
                "bare producer": [psutil.Process()],
                SCALED_AVRO: scaled.workers(),
                SCALED_JSON: scaled.workers(),
            }.get(name, gateway_process)
            cpu_before = [sum(p.cpu_times()[:2]) for p in measured]
            events, elapsed = leg()
            spent = [sum(p.cpu_times()[:2]) - before for p, before in zip(measured, cpu_before, strict=True)]
            cpu_us[name].append(sum(spent) / events * 1e6)
            if len(spent) > 1:
                shares[name].append(min(spent) / max(max(spent), 1e-9))
            rate = events / elapsed
            produced = topic_size(broker.bootstrap, topic) - before
            if name != "gateway, all rejected" and produced < rate * args.seconds * 0.9:
                raise RuntimeError(f"{name}: only {produced} records reached the topic")
            rates[name].append(rate)
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))

    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    table = Table(
        title=f"events/s, batches of {BATCH}, {args.pairs} interleaved pairs of {args.seconds:g}s legs "
        f"(load average {load})"
    )
    columns = (
        "leg",
        "events/s (median)",
        "ratio to bare producer (median)",
        "ratio min-max",
        "CPU µs/event (median)",
        "CPU ratio bare/leg",
    )
    for column in columns:
        table.add_column(column, justify="right" if column != "leg" else "left")
    base = rates["bare producer"]
    base_cpu = statistics.median(cpu_us["bare producer"])
    for name, values in rates.items():
        ratios = [v / b for v, b in zip(values, base, strict=True)]
        cpu = statistics.median(cpu_us[name])
        table.add_row(
            name,
            f"{statistics.median(values):,.0f}",
            f"{statistics.median(ratios):.2f}",
            f"{min(ratios):.2f}-{max(ratios):.2f}",
            f"{cpu:.1f}",
            f"{base_cpu / cpu:.2f}",
        )
    console.print(table)
    console.print(scale_out_table(args, rates, shares, load))

    rate_eps = args.latency_rate
    batches_of_10 = [_rebatch(r, 10) for r in workload.avro_requests[:50]]
    console.print(f"[dim]latency at {rate_eps:,.0f} events/s in Avro batches of 10 …[/dim]")
    _pin(os.getpid(), 0)
    gateway_ms = asyncio.run(_open_loop(gateway.url, batches_of_10, rate_eps / 10, args.seconds))
    _pin(os.getpid(), 1)
    producer_ms = producer_latencies(broker.bootstrap, topic, workload, rate_eps, args.seconds)
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    latency = Table(title=f"latency at a fixed {rate_eps:,.0f} events/s (open loop, groups of 10)")
    for column in ("", "p50 ms", "p99 ms"):
        latency.add_column(column, justify="right" if column else "left")
    latency.add_row(
        "bare producer (produce → delivery report)",
        f"{_percentile(producer_ms, 0.5):.1f}",
        f"{_percentile(producer_ms, 0.99):.1f}",
    )
    latency.add_row(
        "gateway (request → answer)",
        f"{_percentile(gateway_ms, 0.5):.1f}",
        f"{_percentile(gateway_ms, 0.99):.1f}",
    )
    latency.add_row(
        "ratio gateway / producer",
        f"{_percentile(gateway_ms, 0.5) / _percentile(producer_ms, 0.5):.2f}",
        f"{_percentile(gateway_ms, 0.99) / _percentile(producer_ms, 0.99):.2f}",
    )
    console.print(latency)


def scale_out_table(
    args: argparse.Namespace, rates: dict[str, list[float]], shares: dict[str, list[float]], load: str
) -> Table:
    """The several-process gateway against the one-process gateway and the bare producer, per body.

    Medians over the pairs (`n / 1`: with its min-max); `balance` is the CPU time of the least
    busy worker over the busiest's (1.0: the kernel spread the connections evenly).
    """
    table = Table(
        title=f"gateway of {args.workers} processes vs 1 process vs the bare producer, same pairs "
        f"(load average {load})"
    )
    n = args.workers
    for column in (
        "body",
        "bare ev/s",
        "1 proc ev/s",
        f"{n} procs ev/s",
        "1 / bare",
        f"{n} / bare",
        f"{n} / 1",
        "balance",
    ):
        table.add_column(column, justify="right" if column != "body" else "left")
    base = rates["bare producer"]
    for body, single, scaled in (
        ("Avro", "gateway, Avro", SCALED_AVRO),
        ("JSON", "gateway, JSON", SCALED_JSON),
    ):
        gain = [s / o for s, o in zip(rates[scaled], rates[single], strict=True)]
        table.add_row(
            body,
            f"{statistics.median(base):,.0f}",
            f"{statistics.median(rates[single]):,.0f}",
            f"{statistics.median(rates[scaled]):,.0f}",
            f"{statistics.median(v / b for v, b in zip(rates[single], base, strict=True)):.2f}",
            f"{statistics.median(v / b for v, b in zip(rates[scaled], base, strict=True)):.2f}",
            f"{statistics.median(gain):.2f} ({min(gain):.2f}-{max(gain):.2f})",
            f"{statistics.median(shares[scaled]):.2f}",
        )
    return table


def _rebatch(request: bytes, events: int) -> bytes:
    """The same request with only its first `events` events."""
    head, body = request.split(b"\r\n\r\n", 1)
    offset = 0
    for _ in range(events):
        offset += 4 + int.from_bytes(body[offset : offset + 4], "big")
    kept = body[:offset]
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length:")]
    return b"\r\n".join([*lines, f"Content-Length: {len(kept)}".encode()]) + b"\r\n\r\n" + kept


def _load(
    gateway: GatewayHandle, requests: list[bytes], args: argparse.Namespace, expect: int
) -> tuple[int, float]:
    return asyncio.run(_closed_loop(gateway.url, requests, args.seconds, args.connections, expect))


if __name__ == "__main__":
    main()

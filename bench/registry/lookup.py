"""GET /schemas/ids/{id} throughput and tail latency, as a ratio of a constant route of the same app.

Starts a private Kafka broker and registry, registers 1,000 schemas, pins the registry to one
core and the load generator to the other, then measures in the same run:

1. requests/s of `GET /schemas/types`, the baseline: a constant answer through the same
   middleware, an ordinary FastAPI route (the id route is a plain Starlette route, matched
   first, so a ratio above 1 is possible and means the hot path costs less than any route);
2. requests/s of `/schemas/ids/{id}` over random ids among the 1,000;
3. p50 / p99 latency of both at half the id route's throughput (open loop, fixed rate).

Run by hand: `.venv/bin/python bench/registry/lookup.py [--seconds 5] [--connections 32]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from accord.registry.testing import RegistryHandle
from accord.runtime.kafka import KafkaBroker
from accord.runtime.ports import free_port
from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import Supervisor

console = Console(width=120)
SCHEMAS = 1_000


@dataclass
class Run:
    """What one measured phase produced."""

    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _connection(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port)


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> None:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected answer: {head[:80]!r}")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)


def _requests(paths: list[str], host: str) -> list[bytes]:
    return [
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n\r\n".encode() for path in paths
    ]


async def closed_loop(host: str, port: int, paths: list[str], connections: int, seconds: float) -> Run:
    """As many requests as `connections` keep-alive connections can do in `seconds`."""
    requests = _requests(paths, host)
    count = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        reader, writer = await _connection(host, port)
        while time.perf_counter() < stop:
            await _get(reader, writer, random.choice(requests))
            count += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return Run(count, time.perf_counter() - started, [])


async def open_loop(
    host: str, port: int, paths: list[str], connections: int, rate: float, seconds: float
) -> Run:
    """Requests due at a fixed `rate` overall; latency counts from when each request was due.

    Connection k sends requests k, k + connections, …; a request that is late because the
    previous answer on its connection was slow counts that wait too (no coordinated omission).
    """
    requests = _requests(paths, host)
    total = int(rate * seconds)
    interval = 1.0 / rate
    latencies: list[float] = []
    started = time.perf_counter() + 0.1

    async def worker(k: int) -> None:
        reader, writer = await _connection(host, port)
        for i in range(k, total, connections):
            due = started + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await _get(reader, writer, random.choice(requests))
            latencies.append((time.perf_counter() - due) * 1000)
        writer.close()

    await asyncio.gather(*(worker(k) for k in range(connections)))
    return Run(total, time.perf_counter() - started, latencies)


def start_stack(state: Path) -> tuple[Supervisor, KafkaBroker, RegistryHandle]:
    settings = RuntimeSettings(
        state_dir=state,
        cache_dir=Path(".cache"),
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        kafka_heap="-Xms128m -Xmx512m",
    )
    supervisor = Supervisor(state)
    broker = KafkaBroker(settings)
    with console.status("starting Kafka …"):
        supervisor.start(broker.spec())
    registry = RegistryHandle(
        settings.kafka_bootstrap,
        "_schemas",
        state / "registry",
        extra_env={"ACCORD_LOG_LEVEL": "WARNING"},
    )
    with console.status("starting the registry …"):
        registry.start()
    return supervisor, broker, registry


def register_schemas(url: str) -> list[int]:
    ids = []
    with httpx.Client(base_url=url, timeout=30) as api, Progress(console=console) as progress:
        task = progress.add_task(f"registering {SCHEMAS} schemas", total=SCHEMAS)
        for i in range(SCHEMAS):
            schema = {
                "type": "record",
                "name": f"Event{i}",
                "namespace": "accord.bench",
                "fields": [
                    {"name": "id", "type": "string"},
                    {"name": f"field_{i}", "type": "long", "default": 0},
                ],
            }
            answer = api.post(f"/subjects/bench-{i}-value/versions", json={"schema": json.dumps(schema)})
            answer.raise_for_status()
            ids.append(int(answer.json()["id"]))
            progress.advance(task)
    return ids


def pin(registry: RegistryHandle) -> str:
    cores = os.sched_getaffinity(0)
    if len(cores) < 2:
        return "not pinned (one core)"
    server_core, load_core = sorted(cores)[:2]
    record = json.loads((registry.state_dir / registry.name / "process.json").read_text())
    server = psutil.Process(record["pid"])
    for proc in [server, *server.children(recursive=True)]:
        proc.cpu_affinity([server_core])
    os.sched_setaffinity(0, {load_core})
    return f"registry on core {server_core}, load generator on core {load_core}"


async def measure(url: str, ids: list[int], seconds: float, connections: int) -> dict[str, Run]:
    host, port = url.removeprefix("http://").split(":")
    baseline, by_id = ["/schemas/types"], [f"/schemas/ids/{i}" for i in ids]
    # warm both routes, then alternate so drift hits both alike
    await closed_loop(host, int(port), baseline + by_id, connections, 1.0)
    runs: dict[str, list[Run]] = {"baseline": [], "ids": []}
    for _ in range(3):
        runs["baseline"].append(await closed_loop(host, int(port), baseline, connections, seconds))
        runs["ids"].append(await closed_loop(host, int(port), by_id, connections, seconds))
    # the median of three alternating rounds: the machine is shared, single rounds are noisy
    results = {name: sorted(found, key=lambda run: run.rate)[1] for name, found in runs.items()}
    half = results["ids"].rate / 2
    results["baseline@half"] = await open_loop(host, int(port), baseline, connections, half, seconds)
    results["ids@half"] = await open_loop(host, int(port), by_id, connections, half, seconds)
    return results


def report(results: dict[str, Run], placement: str, connections: int) -> None:
    baseline, ids = results["baseline"], results["ids"]
    title = f"GET /schemas/ids/{{id}}, {SCHEMAS} schemas registered"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    table = Table(title=f"{title} ({placement}, {connections} connections, load average {load})")
    for column in ("route", "requests/s", "ratio to baseline", "p50 ms at half load", "p99 ms at half load"):
        table.add_column(column, justify="right" if column != "route" else "left")
    half = ids.rate / 2
    table.add_row(
        "/schemas/types (baseline)",
        f"{baseline.rate:,.0f}",
        "1.00",
        f"{results['baseline@half'].percentile(0.5):.2f}",
        f"{results['baseline@half'].percentile(0.99):.2f}",
    )
    table.add_row(
        "/schemas/ids/{id}",
        f"{ids.rate:,.0f}",
        f"{ids.rate / baseline.rate:.2f}",
        f"{results['ids@half'].percentile(0.5):.2f}",
        f"{results['ids@half'].percentile(0.99):.2f}",
    )
    console.print(table)
    spread = statistics.pstdev(results["ids@half"].latencies_ms)
    console.print(
        f"half load = {half:,.0f} requests/s (open loop); achieved "
        f"{results['ids@half'].rate:,.0f}/s; latency standard deviation {spread:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="accord-bench-registry-") as tmp:
        supervisor, broker, registry = start_stack(Path(tmp))
        try:
            ids = register_schemas(registry.url)
            placement = pin(registry)
            with console.status("measuring …"):
                results = asyncio.run(measure(registry.url, ids, args.seconds, args.connections))
            report(results, placement, args.connections)
        finally:
            registry.stop()
            supervisor.stop(broker.name)


if __name__ == "__main__":
    main()

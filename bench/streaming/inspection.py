"""`accord trace` and `accord ledger` wall time (delta-rs), beside the same reads done by Spark.

Starts its own broker, registry and gateway on free ports, sends the simulator's traffic
(`--users`, the demo's faults and experiments) through the gateway, runs Bronze and Silver
over it once, stops Spark, then times, as subprocesses and interleaved `--pairs` times:

- `accord trace ID` (an event the simulator resent, so Bronze holds two records of it),
- `accord ledger` (Kafka's counts, the gateway's counts, every lake table),
- the baseline: a fresh Python process that starts a Spark session and reads the same rows
  (trace: the id's Silver, Quarantine and Bronze rows; ledger: Bronze classified against
  Silver and Quarantine and counted per hour), which is what both commands did before;
- `accord trace ID` on a lake with no table yet ("nothing written yet"), delta-rs only.

Correctness gate: the ledger exits 0 (it reconciles) and the trace finds the id in Silver.
Run by hand: `.venv/bin/python bench/streaming/inspection.py [--users 400] [--pairs 2]` (not
`inspect.py`: run as a script, that name would hide the standard library's `inspect`).
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from accord.demo.simulator import FaultRates, Simulation, simulate
from accord.gateway.testing import TestKey, running_stack
from accord.gold.experiments_config import load_experiments
from accord.registry_client import RegistryClient
from accord.schemas.catalog import load_catalog
from accord.schemas.register import register_catalog
from accord.streaming.batch_schemas import BatchSchemaResolver, RegistrySchemas
from accord.streaming.bronze import start_bronze
from accord.streaming.inspect.tables import LakeReader, header_values
from accord.streaming.session import build_session
from accord.streaming.settings import StreamingSettings
from accord.streaming.silver import start_silver
from accord.wire.headers import EVENT_ID

ROOT = Path(__file__).resolve().parents[2]
ACCORD = Path(sys.executable).with_name("accord")
console = Console()

# the reads `trace` and `ledger` did with Spark, in a process of their own (JVM start included)
SPARK_TRACE = """
import sys
from pyspark.sql import functions as sf
from accord.streaming.delta_io import load_if_exists
from accord.streaming.framing import header_text
from accord.streaming.lake import Lake
from accord.streaming.session import build_session
from accord.streaming.settings import StreamingSettings
from accord.wire.headers import EVENT_ID
settings = StreamingSettings()
lake, event_id = Lake.from_settings(settings), sys.argv[1]
spark = build_session(settings, "bench-trace")
read = spark.read.format("delta").load
silver = read(lake.silver).where(sf.col("event_id") == event_id).collect()
if (quarantine := load_if_exists(spark, lake.quarantine)) is not None:
    quarantine.where(sf.col("event_id") == event_id).collect()
bronze = read(lake.bronze).where(header_text(EVENT_ID) == event_id)
bronze = bronze.select("partition", "offset", "received_at").collect()
assert silver and len(bronze) >= 1, (silver, bronze)
spark.stop()
"""
SPARK_LEDGER = """
from pyspark.sql import functions as sf
from accord.streaming.delta_io import load_if_exists
from accord.streaming.framing import header_text
from accord.streaming.lake import Lake
from accord.streaming.session import build_session
from accord.streaming.settings import StreamingSettings
from accord.wire.headers import EVENT_ID
settings = StreamingSettings()
lake = Lake.from_settings(settings)
spark = build_session(settings, "bench-ledger")
read = spark.read.format("delta").load
coordinates = ["topic", "partition", "offset"]
bronze = read(lake.bronze).select(
    *coordinates,
    sf.date_trunc("HOUR", sf.coalesce("received_at", "kafka_timestamp")).alias("hour"),
    header_text(EVENT_ID).alias("event_id"),
)
def marked(frame, flag):
    names = [sf.col(f"kafka_{c}").alias(c) for c in coordinates]
    return frame.select(*names, sf.lit(True).alias(flag)).dropDuplicates(coordinates)
silver, quarantine = read(lake.silver), load_if_exists(spark, lake.quarantine)
kept = silver.select("event_id", sf.lit(True).alias("kept")).dropDuplicates(["event_id"])
classified = bronze.join(marked(silver, "in_silver"), coordinates, "left")
if quarantine is not None:
    classified = classified.join(marked(quarantine, "in_quarantine"), coordinates, "left")
    quarantine.groupBy(sf.date_trunc("HOUR", "received_at"), "reason").count().collect()
classified.join(kept, "event_id", "left").groupBy("hour", "in_silver", "kept").count().collect()
late = sf.sum(sf.col("is_late").cast("long"))
silver.groupBy(sf.date_trunc("HOUR", "received_at")).agg(sf.count("*"), late).collect()
spark.stop()
"""


def _cpu_s() -> float:
    """CPU seconds (user + system) the finished child processes used so far (not their JVMs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: Sequence[str], env: dict[str, str], *, expect: int = 0) -> tuple[float, float, str]:
    """Wall and CPU seconds of `command`, and what it printed."""
    cpu, started = _cpu_s(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed, cpu = time.perf_counter() - started, _cpu_s() - cpu
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    shown = " ".join(command[:2] if command[1] == "-c" else command)
    console.log(f"{elapsed:6.2f}s wall {cpu:6.2f}s CPU  {shown}")
    return elapsed, cpu, done.stdout


def _build_lake(settings: StreamingSettings, registry_url: str) -> None:
    spark = build_session(settings, "bench-inspect-build")
    try:
        start_bronze(spark, settings, available_now=True).awaitTermination()
        catalog = BatchSchemaResolver(RegistrySchemas(registry_url), settings.events_topic)
        start_silver(spark, settings, catalog, available_now=True).awaitTermination()
    finally:
        spark.stop()


def _resent_id(settings: StreamingSettings) -> str:
    """An event id Bronze holds more than once (the simulator resent it), else any it holds."""
    reader = LakeReader.from_settings(settings)
    bronze = reader.require(reader.lake.bronze, ["headers"])
    ids = header_values(bronze["headers"], EVENT_ID)
    counts = ids.group_by("value").aggregate([([], "count_all")]).sort_by([("count_all", "descending")])
    return bytes(counts["value"][0].as_py()).decode()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=400, help="simulated users (about 12 events each)")
    parser.add_argument("--pairs", type=int, default=2)
    args = parser.parse_args()

    # the simulator's malformed events are refused on purpose: no warning line for each
    logging.getLogger("accord.sdk.sender").setLevel(logging.ERROR)
    work = Path(tempfile.mkdtemp(prefix="accord-bench-inspect-"))
    key = TestKey("bench")
    with running_stack(work / "stack", ROOT / ".cache", {}, [key]) as (broker, registry, gateway):
        register_catalog(load_catalog(ROOT / "schemas" / "avro"), RegistryClient(registry.url))
        with console.status(f"simulating {args.users} users through the gateway …"):
            truth = simulate(
                Simulation(
                    gateway.url,
                    key.secret,
                    work / "truth.json",
                    users=args.users,
                    experiments=load_experiments(),
                    faults=FaultRates(duplicate=0.05),
                )
            )
        settings = StreamingSettings(
            lake_uri=str(work / "lake"),
            state_dir=work / "state",
            cache_dir=ROOT / ".cache",
            kafka_bootstrap=broker.bootstrap,
            registry_url=registry.url,
            gateway_url=gateway.url,
            shuffle_partitions=2,
        )
        with console.status("Bronze and Silver over the traffic …"):
            _build_lake(settings, registry.url)
        env = {
            **os.environ,
            "ACCORD_LAKE_URI": settings.lake_uri,
            "ACCORD_STATE_DIR": str(settings.state_dir),
            "ACCORD_CACHE_DIR": str(settings.cache_dir),
            "ACCORD_KAFKA_BOOTSTRAP": broker.bootstrap,
            "ACCORD_REGISTRY_URL": registry.url,
            "ACCORD_GATEWAY_URL": gateway.url,
        }
        empty = {**env, "ACCORD_LAKE_URI": str(work / "empty-lake")}
        event_id = _resent_id(settings)
        legs = ("trace", "spark trace", "ledger", "spark ledger", "trace, no table yet")
        times: dict[str, list[tuple[float, float]]] = {leg: [] for leg in legs}
        for pair in range(args.pairs):
            with console.status(f"pair {pair + 1}/{args.pairs} …"):
                wall, cpu, output = _timed([str(ACCORD), "trace", event_id], env)
                assert "silver" in output, output
                times["trace"].append((wall, cpu))
                times["spark trace"].append(_timed([sys.executable, "-c", SPARK_TRACE, event_id], env)[:2])
                wall, cpu, output = _timed([str(ACCORD), "ledger"], env)
                assert "the ledger reconciles" in output, output
                times["ledger"].append((wall, cpu))
                times["spark ledger"].append(_timed([sys.executable, "-c", SPARK_LEDGER], env)[:2])
                nothing_yet = _timed([str(ACCORD), "trace", event_id], empty, expect=1)[:2]
                times["trace, no table yet"].append(nothing_yet)

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    events = truth.sent.unique_valid + truth.sent.duplicates + truth.sent.malformed
    table = Table(
        title=f"inspection wall time, {events:,} events sent, {args.pairs} pairs (load average {load})"
    )
    # no CPU column for Spark: its JVM is not a child this process waits for, so rusage misses it
    columns = ("command", "wall s", "CPU s", "Spark wall s", "Spark / delta-rs wall")
    for column in columns:
        table.add_column(column, justify="right")
    for name in ("trace", "ledger", "trace, no table yet"):
        ours, spark = times[name], times.get(f"spark {name}")

        def median(pairs: list[tuple[float, float]], at: int) -> str:
            return f"{statistics.median(p[at] for p in pairs):.2f}"

        ratio = statistics.median(s[0] / o[0] for s, o in zip(spark, ours, strict=True)) if spark else None
        table.add_row(
            f"accord {name}",
            median(ours, 0),
            median(ours, 1),
            median(spark, 0) if spark else "-",
            f"{ratio:.1f}x" if ratio else "-",
        )
    console.print(table)
    console.print(
        f"medians of {args.pairs} pairs; traced {event_id}; Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs; target: trace and ledger under 3 s wall"
    )


if __name__ == "__main__":
    main()

"""Stream throughput on a Spark standalone cluster (a master and 2 workers on loopback) / local mode.

Starts its own broker and registry on free ports, pre-loads `--events` framed PageViews into
Kafka, then runs the stream's `ingest` query (Kafka → Bronze → Silver, AvailableNow) over them
into a fresh lake, `--runs` times after one unreported warm-up, first in `local[2]`, then as an
application on the cluster (2 executors of 1 core each, the same 2 cores in all). The ratio is
cluster events/s over local events/s (medians), in this one run, with the load average of each
leg. Every run's Silver must hold all the events (the correctness gate).

Run by hand from the repository root: `.venv/bin/python -m bench.streaming.cluster [--events N]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.table import Table

from accord.registry.testing import RegistryHandle
from accord.registry_client import RegistryClient
from accord.runtime.kafka import ensure_topics
from accord.runtime.logs import configure_logging
from accord.runtime.supervisor import Supervisor
from accord.runtime.testing import BrokerHandle, make_test_settings
from accord.schemas.catalog import load_catalog
from accord.schemas.register import register_catalog
from accord.streaming.batch_schemas import BatchSchemaResolver, RegistrySchemas
from accord.streaming.ingest import start_ingest
from accord.streaming.lake import Lake
from accord.streaming.session import build_session
from accord.streaming.settings import StreamingSettings
from accord.streaming.standalone import StandaloneCluster
from bench.streaming.throughput import LoadSampler, _await, _framed_events, _preload, _timed

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "cluster-throughput"
console = Console(width=150)


def _leg(
    settings: StreamingSettings, catalog: BatchSchemaResolver, events: int, runs: int, work: Path
) -> tuple[list[float], str]:
    """Events/s of `runs` ingest runs (after a warm-up) in a session on `settings.spark_master`."""
    spark = build_session(settings, "accord-bench-cluster")
    rates = []
    try:
        with LoadSampler() as load:
            for run in range(runs + 1):
                lake_dir = work / f"{settings.spark_master.split(':')[0]}-{run}"
                run_settings = settings.model_copy(
                    update={"lake_uri": str(lake_dir / "lake"), "state_dir": lake_dir / "state"}
                )
                seconds = _timed(
                    partial(_await, partial(start_ingest, spark, run_settings, catalog, available_now=True))
                )
                rows = spark.read.format("delta").load(Lake.from_settings(run_settings).silver).count()
                assert rows == events, f"correctness gate: {rows} Silver rows for {events} events"
                rates.append(events / seconds)
    finally:
        spark.stop()
    # the first run pays for the cold JVM and executors (class loading, JIT): not reported
    return rates[1:], load.summary()


def _print(local: list[float], cluster: list[float], loads: dict[str, str], events: int) -> None:
    table = Table(title=f"stream throughput (ingest, {events} events, {len(local)} runs per leg)")
    for column in ("leg", "events/s (median)", "min", "max", "load average"):
        table.add_column(column, justify="right")
    for name, rates in (("local[2]", local), ("standalone, 2 workers x 1 core", cluster)):
        table.add_row(
            name,
            f"{statistics.median(rates):,.0f}",
            f"{min(rates):,.0f}",
            f"{max(rates):,.0f}",
            loads[name],
        )
    console.print(table)
    ratio = statistics.median(cluster) / statistics.median(local)
    console.print(
        f"cluster / local: {ratio:.2f} (load average now {'/'.join(f'{x:.1f}' for x in os.getloadavg())})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="events per ingest run")
    parser.add_argument("--runs", type=int, default=2, help="reported runs per leg (after a warm-up)")
    args = parser.parse_args()
    configure_logging("WARNING")

    work = Path(tempfile.mkdtemp(prefix="accord-bench-cluster-"))
    runtime = make_test_settings(work / "kafka", ROOT / ".cache")
    broker = BrokerHandle(runtime, Supervisor(runtime.state_dir))
    registry = RegistryHandle(runtime.kafka_bootstrap, "_schemas", work / "registry")
    cluster = StandaloneCluster(work / "spark-cluster", workers=2, cores=1, memory="1g")
    with console.status("starting broker, registry and the Spark cluster …"):
        broker.start()
        ensure_topics(runtime.kafka_bootstrap, {"_schemas": 1}, {"cleanup.policy": "compact"})
        time.sleep(2)  # the registry's start must not race the new topic's metadata
        registry.start()
        cluster.start()
    try:
        register_catalog(load_catalog(ROOT / "schemas" / "avro"), RegistryClient(registry.url))
        with console.status(f"encoding and producing {args.events} events …"):
            _preload(
                runtime.kafka_bootstrap,
                TOPIC,
                _framed_events(registry.url, args.events),
                runtime.kafka_partitions,
            )
        local = StreamingSettings(
            cache_dir=ROOT / ".cache",
            kafka_bootstrap=runtime.kafka_bootstrap,
            registry_url=registry.url,
            events_topic=TOPIC,
        )
        on_cluster = local.model_copy(
            update={
                "spark_master": cluster.master_url,
                "spark_executor_memory": "512m",
                "spark_executor_cores": 1,
                "spark_cores_max": 2,
            }
        )
        catalog = BatchSchemaResolver(RegistrySchemas(registry.url), TOPIC)
        loads: dict[str, str] = {}
        with console.status("local[2] …"):
            local_rates, loads["local[2]"] = _leg(local, catalog, args.events, args.runs, work)
        # the driver must be reachable by the executors on loopback, like every server here
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        with console.status("standalone cluster …"):
            cluster_rates, loads["standalone, 2 workers x 1 core"] = _leg(
                on_cluster, catalog, args.events, args.runs, work
            )
        _print(local_rates, cluster_rates, loads, args.events)
    finally:
        cluster.stop()
        registry.stop()
        broker.stop()


if __name__ == "__main__":
    main()

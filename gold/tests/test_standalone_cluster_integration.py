"""The stream and Gold on a Spark standalone cluster (a master and two workers on loopback) write
exactly the tables local mode writes from the same Kafka records.

The cluster run is the real commands (`accord stream serve --once`, `accord gold`) with
`ACCORD_SPARK_MASTER=spark://...`, each its own application on the cluster's executors; the
local run is the test session's `local[2]` session over the same offsets.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from accord.gold.build import build_gold
from accord.gold.experiments_config import load_experiments
from accord.gold.settings import GoldSettings
from accord.gold.tables import daily_active_users_path, daily_events_path, experiment_results_path
from accord.runtime.services import accord_executable
from accord.streaming.lake import Lake
from accord.streaming.standalone import StandaloneCluster
from accord.streaming.testing import Pipeline, envelope, job_env, on_cluster, post_events, produce_raw

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.timeout(1800)]

MINUTE_MS = 60_000
# written by the clock of the run, not by the data: the same input gives other values each run
# the service creates Silver empty at start, so its Silver (and the version Gold pins) is one commit ahead
VOLATILE = {"processed_at", "quarantined_at", "computed_at", "silver_version"}


def _traffic(now: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for n in range(16):
        user = f"user-{n}"
        at = now - (30 - n) * MINUTE_MS
        events.append(
            {
                "schema": "accord.events.ExperimentExposure",
                "payload": {
                    "envelope": envelope(event_time_ms=at, user_id=user),
                    "experiment_id": "new_checkout",
                    "variant": "treatment" if n % 2 else "control",
                },
            }
        )
        events += [
            {
                "schema": "accord.events.PageView",
                "payload": {
                    "envelope": envelope(event_time_ms=at + k, user_id=user),
                    "url": f"https://c/{k}",
                },
            }
            for k in range(1 + n % 3)
        ]
        if n % 3 == 0:
            events.append(
                {
                    "schema": "accord.events.Purchase",
                    "payload": {
                        "envelope": envelope(event_time_ms=at + 5 * MINUTE_MS, user_id=user),
                        "order_id": f"order-{n}",
                        "amount": f"{10 + n}.50",
                        "currency": "EUR",
                        "items": [],
                        "coupon": None,
                    },
                }
            )
    return events


def _rows(spark: SparkSession, path: str, like: str | None = None) -> list[str]:
    """Every row of the Delta table at `path` as JSON, without the clock-written columns, sorted.

    With `like`, only the columns of that table: the service creates Silver empty with a column
    per registered event type, where a first write has only the types it saw.
    """
    from pyspark.sql import functions as sf

    frame = spark.read.format("delta").load(path)
    if like is not None:
        frame = frame.select(*spark.read.format("delta").load(like).columns)
    frame = frame.drop(*(c for c in frame.columns if c in VOLATILE))
    return sorted(r[0] for r in frame.select(sf.to_json(sf.struct(*frame.columns))).collect())


def _tables(lake: Lake) -> dict[str, str]:
    return {
        "bronze": lake.bronze,
        "silver": lake.silver,
        "event_ids": lake.event_ids,
        "assignments": lake.assignments,
        "quarantine": lake.quarantine,
        "experiment_results": experiment_results_path(lake),
        "daily_events": daily_events_path(lake),
        "daily_active_users": daily_active_users_path(lake),
    }


def _run(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run(
            [accord_executable(), *command], env=env, stdout=out, stderr=subprocess.STDOUT, timeout=900
        )
    assert done.returncode == 0, f"`accord {' '.join(command)}` failed:\n" + log.read_text()[-4000:]


def test_stream_and_gold_on_a_standalone_cluster_write_the_tables_local_mode_writes(
    pipeline: Pipeline, gateway_server: Any, spark_cluster: StandaloneCluster, tmp_path: Path
) -> None:
    now = int(time.time() * 1000)
    events = _traffic(now)
    assert post_events(gateway_server.url, gateway_server.write_key, events, now)["accepted"] == len(events)
    # a client retry of one page view: one row in Silver all the same
    post_events(gateway_server.url, gateway_server.write_key, [events[1]], now)
    produce_raw(pipeline.settings.kafka_bootstrap, pipeline.settings.events_topic, [b"not framed"], now)

    cluster = on_cluster(pipeline.settings, spark_cluster, tmp_path / "cluster-lake")
    log = tmp_path / "cluster-jobs.log"
    env = job_env(cluster)
    _run(["stream", "serve", "--once"], env, log)
    _run(["gold", "--report", str(tmp_path / "report.html")], env, log)

    pipeline.run()
    gold = GoldSettings()
    build_gold(pipeline.spark, pipeline.lake, load_experiments(gold.experiments_file), gold.watermark_delay)

    local_tables, cluster_tables = _tables(pipeline.lake), _tables(Lake.from_settings(cluster))
    assert len(_rows(pipeline.spark, pipeline.lake.silver)) == len(events)
    assert len(_rows(pipeline.spark, pipeline.lake.quarantine)) == 1
    assert _rows(pipeline.spark, experiment_results_path(pipeline.lake))
    for name, path in local_tables.items():
        assert _rows(pipeline.spark, cluster_tables[name], like=path) == _rows(pipeline.spark, path), name
    # the cluster's executors did the work: both applications ran on the two workers
    finished = (spark_cluster.status() or {}).get("completedapps", [])
    assert {"accord-stream-ingest", "accord-gold"} <= {app["name"] for app in finished}

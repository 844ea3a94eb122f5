"""A Spark standalone worker SIGKILLed mid-batch: the stream's batch is retried on the other
worker, the query never restarts, and Silver holds every acknowledged event exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from accord.runtime.services import accord_executable
from accord.runtime.waiting import wait_until
from accord.streaming.ingest import INGEST_QUERY
from accord.streaming.lake import Lake
from accord.streaming.progress import ProgressFile
from accord.streaming.standalone import StandaloneCluster
from accord.streaming.testing import Pipeline, envelope, job_env, on_cluster, post_events

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.timeout(1800)]

EVENTS = 160
PER_BATCH = 40


def _batch_ids(folder: Path) -> set[int]:
    return {int(p.name) for p in folder.iterdir() if p.name.isdigit()} if folder.is_dir() else set()


def _in_flight(checkpoint: Path) -> int | None:
    """The batch whose offsets are logged and whose commit is not, once an earlier batch committed."""
    started, committed = _batch_ids(checkpoint / "offsets"), _batch_ids(checkpoint / "commits")
    if committed and started and max(started) not in committed:
        return max(started)
    return None


def test_worker_killed_mid_batch_the_batch_is_retried_and_silver_holds_each_event_once(
    pipeline: Pipeline, gateway_server: Any, spark_cluster: StandaloneCluster, tmp_path: Path
) -> None:
    now = int(time.time() * 1000)
    events: list[dict[str, Any]] = [
        {
            "schema": "accord.events.PageView",
            "payload": {
                "envelope": envelope(event_time_ms=now, user_id=f"user-{n % 9}"),
                "url": f"https://k/{n}",
            },
        }
        for n in range(EVENTS)
    ]
    for start in range(0, EVENTS, 100):
        assert post_events(gateway_server.url, gateway_server.write_key, events[start : start + 100], now)[
            "accepted"
        ] == len(events[start : start + 100])
    acknowledged = sorted(e["payload"]["envelope"]["event_id"] for e in events)

    cluster = on_cluster(pipeline.settings, spark_cluster, tmp_path / "lake")
    checkpoint = Path(Lake.from_settings(cluster).checkpoint(INGEST_QUERY))
    env = job_env(cluster, ACCORD_MAX_OFFSETS_PER_TRIGGER=str(PER_BATCH))
    with (tmp_path / "stream.log").open("ab") as log:
        process = subprocess.Popen(
            [accord_executable(), "stream", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        batch = wait_until(
            lambda: _in_flight(checkpoint), timeout_s=600, interval_s=0.2, describe="a batch in flight"
        )
        spark_cluster.kill_worker(0)
        killed_at = time.time()
        assert process.poll() is None, "the stream's driver died with the worker"

        def committed() -> bool:
            assert process.poll() is None, "the stream's driver exited"
            return batch in _batch_ids(checkpoint / "commits")

        wait_until(committed, timeout_s=300, interval_s=1, describe=f"batch {batch} committed after the kill")
        assert (checkpoint / "commits" / str(batch)).stat().st_mtime >= killed_at
        assert spark_cluster.alive_workers() == 1

        def silver_ids() -> list[str]:
            if not (Path(cluster.lake_uri) / "silver" / "events" / "_delta_log").is_dir():
                return []
            rows = pipeline.spark.read.format("delta").load(Lake.from_settings(cluster).silver).collect()
            return sorted(r.event_id for r in rows)

        ids = wait_until(
            silver_ids, until=lambda ids: len(ids) >= EVENTS, timeout_s=400, describe=f"{EVENTS} Silver rows"
        )
        assert ids == acknowledged
        assert ProgressFile(cluster.state_dir).read()["app"]["restarts"] == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=120)
        spark_cluster.start_worker(0)

"""SIGKILL the Silver job at random points, restart it: every event still lands exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from typing import Any

import pytest

from accord.runtime.services import accord_executable
from accord.streaming.testing import Pipeline, envelope, post_events

pytestmark = [pytest.mark.integration, pytest.mark.spark]

KILLS = 3


def _silver_process(pipeline: Pipeline, log_path: Any) -> subprocess.Popen[bytes]:
    settings = pipeline.settings
    env = {
        **os.environ,
        "ACCORD_LAKE_URI": settings.lake_uri,
        "ACCORD_STATE_DIR": str(settings.state_dir),
        "ACCORD_CACHE_DIR": str(settings.cache_dir),
        "ACCORD_REGISTRY_URL": settings.registry_url,
        "ACCORD_EVENTS_TOPIC": settings.events_topic,
        "ACCORD_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "ACCORD_TRIGGER_INTERVAL": "1 second",
        "ACCORD_MAX_FILES_PER_TRIGGER": "2",
        "ACCORD_SHUFFLE_PARTITIONS": "2",
        "ACCORD_LOG_LEVEL": "INFO",
    }
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [accord_executable(), "stream", "silver"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def test_silver_killed_mid_stream_restarts_exactly_once(
    pipeline: Pipeline, gateway_server: Any, tmp_path: Any
) -> None:
    rng = random.Random(7)
    now = int(time.time() * 1000)
    sent: list[str] = []
    for wave in range(6):
        events: list[dict[str, Any]] = [
            {
                "schema": "accord.events.PageView",
                "payload": {"envelope": envelope(event_time_ms=now), "url": f"https://k/{wave}"},
            }
            for _ in range(10)
        ]
        assert post_events(gateway_server.url, gateway_server.write_key, events, now)["accepted"] == 10
        sent += [e["payload"]["envelope"]["event_id"] for e in events]
        pipeline.bronze()  # one Bronze commit per wave, so Silver needs several batches

    log_path = tmp_path / "silver.log"
    for _ in range(KILLS):
        process = _silver_process(pipeline, log_path)
        time.sleep(rng.uniform(20, 45))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    pipeline.silver()

    silver = pipeline.table("silver")
    assert sorted(r.event_id for r in silver.select("event_id").collect()) == sorted(sent)
    batches = pipeline.table("silver_batches")
    assert batches.count() == batches.select("batch_id").distinct().count(), "each batch counted once"
    assert batches.agg({"input_rows": "sum"}).collect()[0][0] == len(sent)
    assert batches.agg({"inserted": "sum"}).collect()[0][0] == len(sent)

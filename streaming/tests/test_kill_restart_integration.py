"""SIGKILL the Silver job at random points, restart it: every event still lands exactly once."""

from __future__ import annotations

import os
import random
import signal
import time
from typing import Any

import pytest

from accord.streaming.testing import Pipeline, envelope, post_events

pytestmark = [pytest.mark.integration, pytest.mark.spark]

KILLS = 3


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
        process = pipeline.start_process("silver", log_path, ACCORD_MAX_FILES_PER_TRIGGER="2")
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

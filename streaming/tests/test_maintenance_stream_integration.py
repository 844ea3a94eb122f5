"""Table maintenance while the stream writes: no failed batch, nothing lost or duplicated.

Traffic goes through the real gateway into Kafka while Bronze and Silver run continuously;
the periodic maintenance compacts and vacuums beside them in the same Spark application, and
`accord lake optimize` compacts the same tables from another process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accord.runtime.waiting import wait_until
from accord.streaming.maintenance import MaintenancePolicy, lake_tables
from accord.streaming.maintenance_schedule import MaintenanceThread, Schedule
from accord.streaming.testing import Pipeline, envelope, post_events

# the other process starts a second Spark application on the same two cores; a drill of several
# minutes, run with ACCORD_MAINTENANCE_DRILL=1 (RUNBOOK "Drills")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.timeout(1800),
    pytest.mark.skipif(
        os.environ.get("ACCORD_MAINTENANCE_DRILL") != "1",
        reason="maintenance beside the running stream is a drill: set ACCORD_MAINTENANCE_DRILL=1",
    ),
]

EVENTS_PER_ROUND = 30
MIN_ROUNDS = 8


def page_view(event_time_ms: int, user: str) -> dict[str, Any]:
    return {
        "schema": "accord.events.PageView",
        "payload": {"envelope": envelope(event_time_ms=event_time_ms, user_id=user), "url": "https://x/"},
    }


def test_maintenance_beside_the_running_stream_fails_no_batch_and_loses_or_duplicates_nothing(
    pipeline: Pipeline, gateway_server: Any, gateway_factory: Any, tmp_path: Path
) -> None:
    from delta.tables import DeltaTable

    from accord.streaming.bronze import start_bronze
    from accord.streaming.silver import start_silver

    spark, settings, lake = pipeline.spark, pipeline.settings, pipeline.lake
    replica = gateway_factory()
    queries = [start_bronze(spark, settings), start_silver(spark, settings, pipeline.catalog)]
    maintenance = MaintenanceThread(
        spark,
        lake_tables(lake),
        MaintenancePolicy(),
        Schedule(optimize_every=timedelta(seconds=3), vacuum_every=timedelta(seconds=60)),
    )
    maintenance.start()
    by_hand = subprocess.Popen(
        [str(Path(sys.executable).with_name("accord")), "lake", "optimize"],
        env={
            **os.environ,
            "ACCORD_LAKE_URI": settings.lake_uri,
            "ACCORD_STATE_DIR": str(tmp_path / "by-hand"),
            "ACCORD_CACHE_DIR": str(settings.cache_dir),
            "ACCORD_SHUFFLE_PARTITIONS": "2",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sent: list[str] = []
    resent = 0
    try:
        rounds = 0
        deadline = time.monotonic() + 600
        # keep writing until the other process has finished, so its compaction meets the stream's appends
        while (rounds < MIN_ROUNDS or by_hand.poll() is None) and time.monotonic() < deadline:
            now = int(time.time() * 1000)
            events = [page_view(now - 1_000, f"user-{n % 7}") for n in range(EVENTS_PER_ROUND)]
            answer = post_events(gateway_server.url, gateway_server.write_key, events, now)
            assert answer["accepted"] == EVENTS_PER_ROUND
            sent += [e["payload"]["envelope"]["event_id"] for e in events]
            if rounds % 4 == 0:
                # another replica forwards a client's retry: the same events reach Kafka twice
                again = post_events(replica.url, replica.write_key, events[:3], now)
                resent += again["accepted"]
            rounds += 1
            time.sleep(1)
        output, _ = by_hand.communicate(timeout=600)
        assert by_hand.returncode == 0, output
        assert "silver" in output

        # on a loaded machine a batch can take a minute: give Silver time to catch up
        pipeline.wait_for("silver", "true", len(sent), timeout_s=900)
        wait_until(
            lambda: _compacted(maintenance, "silver"),
            timeout_s=600,
            interval_s=1.0,
            describe="a maintenance run that compacted Silver",
        )
        assert all(query.isActive for query in queries), "no query stopped on a failed batch"
    finally:
        maintenance.stop()
        for query in queries:
            query.stop()
    assert [query.exception() for query in queries] == [None, None]
    assert maintenance.failures == 0

    silver_ids = [r.event_id for r in pipeline.table("silver").select("event_id").collect()]
    assert sorted(silver_ids) == sorted(sent), "every event exactly once"
    bronze = pipeline.table("bronze").count()
    batches = pipeline.batches()
    duplicates = sum(b.duplicates for b in batches)
    assert bronze == len(sent) + resent
    assert duplicates == resent
    quarantined = pipeline.table("quarantine").count() if _exists(pipeline, "quarantine") else 0
    assert quarantined == 0
    assert bronze == len(silver_ids) + quarantined + duplicates, "the ledger reconciles"
    assert sum(b.input_rows for b in batches) == bronze

    # compactions landed between the stream's appends, not only after them
    history = DeltaTable.forPath(spark, lake.silver).history().collect()
    optimized = [h.version for h in history if h.operation == "OPTIMIZE"]
    appended = [h.version for h in history if h.operation != "OPTIMIZE"]
    assert optimized
    assert min(optimized) < max(appended)


def _compacted(maintenance: MaintenanceThread, table: str) -> bool:
    return any(r.table == table and r.files_removed > 0 for r in maintenance.runs)


def _exists(pipeline: Pipeline, table: str) -> bool:
    from accord.streaming.delta_io import table_exists

    return table_exists(pipeline.spark, getattr(pipeline.lake, table))

"""Table maintenance while the stream writes: no failed batch, nothing lost or duplicated.

Traffic goes through the real gateway into Kafka while the service's `ingest` query runs
continuously; the periodic maintenance compacts and vacuums beside it in the same Spark
application, and `accord lake optimize` compacts the same tables from another one. Traffic goes
on until Silver was compacted and more was appended after it.
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

from accord.streaming.maintenance import MaintenancePolicy, lake_tables
from accord.streaming.maintenance_schedule import MaintenanceThread, Schedule
from accord.streaming.testing import Pipeline, envelope, post_events

# a few minutes on two cores, a second Spark application among them (RUNBOOK "Drills");
# ACCORD_MAINTENANCE_DRILL_BY_HAND=0 leaves out the second application
pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.timeout(3600)]

BY_HAND = os.environ.get("ACCORD_MAINTENANCE_DRILL_BY_HAND", "1") == "1"
EVENTS_PER_ROUND = 30
MIN_ROUNDS = 12
# rounds sent after the first compaction of Silver, so appends land after it
ROUNDS_AFTER_COMPACTION = 6


def page_view(event_time_ms: int, user: str) -> dict[str, Any]:
    return {
        "schema": "accord.events.PageView",
        "payload": {"envelope": envelope(event_time_ms=event_time_ms, user_id=user), "url": "https://x/"},
    }


def test_maintenance_beside_the_running_stream_fails_no_batch_and_loses_or_duplicates_nothing(
    pipeline: Pipeline, gateway_server: Any, gateway_factory: Any, tmp_path: Path
) -> None:
    from delta.tables import DeltaTable

    from accord.streaming.ingest import start_ingest

    spark, settings, lake = pipeline.spark, pipeline.settings, pipeline.lake
    replica = gateway_factory()
    query = start_ingest(spark, settings, pipeline.catalog)
    maintenance = MaintenanceThread(
        spark,
        lake_tables(lake),
        MaintenancePolicy(),
        Schedule(optimize_every=timedelta(seconds=3), vacuum_every=timedelta(seconds=60)),
    )
    maintenance.start()
    by_hand = _optimize_by_hand(settings.lake_uri, str(settings.cache_dir), tmp_path) if BY_HAND else None
    sent: list[str] = []
    resent = 0
    try:
        rounds = after_compaction = 0
        deadline = time.monotonic() + 2400
        # write until the other process is done and Silver was compacted some rounds ago, so
        # compactions meet the stream's appends
        while time.monotonic() < deadline and (
            rounds < MIN_ROUNDS
            or (by_hand is not None and by_hand.poll() is None)
            or after_compaction < ROUNDS_AFTER_COMPACTION
        ):
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
            after_compaction += _compacted(maintenance, "silver")
            time.sleep(1)
        if by_hand is not None:
            output, _ = by_hand.communicate(timeout=600)
            assert by_hand.returncode == 0, output
            assert "silver" in output

        # on a loaded machine a batch can take a minute: give Silver time to catch up
        pipeline.wait_for("silver", "true", len(sent), timeout_s=900)
        assert query.isActive, "the query did not stop on a failed batch"
    finally:
        maintenance.stop()
        query.stop()
    assert query.exception() is None
    assert maintenance.failures == 0
    assert after_compaction >= ROUNDS_AFTER_COMPACTION, "Silver was compacted while traffic went on"

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


def _optimize_by_hand(lake_uri: str, cache_dir: str, tmp_path: Path) -> subprocess.Popen[str]:
    """`accord lake optimize` in its own process: a second Spark application on the same tables."""
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("accord")), "lake", "optimize"],
        env={
            **os.environ,
            "ACCORD_LAKE_URI": lake_uri,
            "ACCORD_STATE_DIR": str(tmp_path / "by-hand"),
            "ACCORD_CACHE_DIR": cache_dir,
            "ACCORD_SHUFFLE_PARTITIONS": "2",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _compacted(maintenance: MaintenanceThread, table: str) -> bool:
    return any(r.table == table and r.files_removed > 0 for r in maintenance.runs)


def _exists(pipeline: Pipeline, table: str) -> bool:
    from accord.streaming.delta_io import table_exists

    return table_exists(pipeline.spark, getattr(pipeline.lake, table))

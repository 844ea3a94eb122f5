"""Replay (Kafka → Bronze) and backfill (Bronze → Silver) are idempotent and fill what is missing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from accord.streaming.backfill import backfill
from accord.streaming.replay import replay
from accord.streaming.testing import Pipeline, envelope, post_events, produce_raw

pytestmark = [pytest.mark.integration, pytest.mark.spark]

VOLATILE = {"processed_at", "quarantined_at", "silver_batch_id"}


def snapshot(pipeline: Pipeline, table: str) -> list[tuple[Any, ...]]:
    frame = pipeline.table(table)
    columns = sorted(c for c in frame.columns if c not in VOLATILE)
    return sorted(tuple(json.dumps(v, default=str) for v in row) for row in frame.select(*columns).collect())


def test_replay_and_backfill_twice_leave_the_tables_unchanged(
    pipeline: Pipeline, gateway_server: Any
) -> None:
    now = int(time.time() * 1000)
    events: list[dict[str, Any]] = [
        {
            "schema": "accord.events.PageView",
            "payload": {"envelope": envelope(event_time_ms=now), "url": f"https://x/{n}"},
        }
        for n in range(8)
    ]
    assert post_events(gateway_server.url, gateway_server.write_key, events, now)["accepted"] == 8
    produce_raw(pipeline.settings.kafka_bootstrap, pipeline.settings.events_topic, [b"bad"], now)
    pipeline.run()
    tables = ("bronze", "silver", "quarantine")
    before = {t: snapshot(pipeline, t) for t in tables}
    assert len(before["silver"]) == 8
    assert len(before["quarantine"]) == 1

    start = json.dumps(json.loads(pipeline.settings.starting_offsets)[pipeline.settings.events_topic])
    assert replay(pipeline.spark, pipeline.settings, start) == 0
    assert replay(pipeline.spark, pipeline.settings, start) == 0
    today = datetime.now(UTC).date()
    for rebuild in (False, True, True):
        counts = backfill(pipeline.spark, pipeline.settings, pipeline.catalog, today, today, rebuild=rebuild)
        assert sum(c.input_rows for c in counts) == 9
    pipeline.silver()
    assert {t: snapshot(pipeline, t) for t in tables} == before


def test_replay_restores_lost_bronze_records_and_silver_catches_up(
    pipeline: Pipeline, gateway_server: Any
) -> None:
    from delta.tables import DeltaTable

    now = int(time.time() * 1000)
    events: list[dict[str, Any]] = [
        {
            "schema": "accord.events.PageView",
            "payload": {"envelope": envelope(event_time_ms=now), "url": "https://y/"},
        }
        for _ in range(6)
    ]
    assert post_events(gateway_server.url, gateway_server.write_key, events, now)["accepted"] == 6
    pipeline.bronze()
    full = snapshot(pipeline, "bronze")
    lost = pipeline.table("bronze").select("partition", "offset").limit(2).collect()
    condition = " OR ".join(f"(partition = {r.partition} AND offset = {r.offset})" for r in lost)
    DeltaTable.forPath(pipeline.spark, pipeline.lake.bronze).delete(condition)
    assert pipeline.table("bronze").count() == 4

    start = json.dumps(json.loads(pipeline.settings.starting_offsets)[pipeline.settings.events_topic])
    assert replay(pipeline.spark, pipeline.settings, start) == 2
    assert snapshot(pipeline, "bronze") == full
    pipeline.silver()
    assert pipeline.table("silver").count() == 6

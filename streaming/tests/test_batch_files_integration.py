"""A stream batch writes few files per table partition, and the stream's tables checkpoint apart."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from accord.gateway.testing import GatewayHandle
from accord.streaming.checkpoints import INTERVAL_PROPERTY, stream_intervals
from accord.streaming.empty_tables import ensure_tables
from accord.streaming.testing import Pipeline, envelope, post_events

pytestmark = [pytest.mark.integration, pytest.mark.spark]

DAY_MS = 86_400_000


def newest_commit_adds(path: str) -> Counter[tuple[tuple[str, str | None], ...]]:
    """Files the newest commit of the table at `path` added, counted per partition value."""
    log = sorted((Path(path) / "_delta_log").glob("*.json"))[-1]
    adds = [json.loads(line)["add"] for line in log.read_text().splitlines() if '"add"' in line]
    return Counter(tuple(sorted(add["partitionValues"].items())) for add in adds)


def page_view(event_time_ms: int, user: str) -> dict[str, Any]:
    return {
        "schema": "accord.events.PageView",
        "payload": {"envelope": envelope(event_time_ms=event_time_ms, user_id=user), "url": "https://x/"},
    }


def post_over_partitions_and_two_dates(pipeline: Pipeline, gateway: GatewayHandle) -> None:
    """60 page views: many users spread them over the topic's partitions (key = user)."""
    ensure_tables(pipeline.spark, pipeline.settings, pipeline.catalog)
    now = int(time.time() * 1000)
    events = [page_view(now - (i % 2) * DAY_MS, f"user-{i}") for i in range(60)]
    assert post_events(gateway.url, gateway.write_key, events, now)["accepted"] == 60


def send_over_partitions_and_two_dates(pipeline: Pipeline, gateway: GatewayHandle) -> None:
    """The 60 page views, one batch of the `ingest` query."""
    post_over_partitions_and_two_dates(pipeline, gateway)
    pipeline.run()
    assert pipeline.table("bronze").select("partition").distinct().count() > 1
    assert pipeline.table("silver").select("event_date").distinct().count() == 2


def test_a_small_stream_batch_adds_one_file_per_partition_of_each_table_it_derives(
    pipeline: Pipeline, gateway_server: GatewayHandle
) -> None:
    send_over_partitions_and_two_dates(pipeline, gateway_server)

    lake = pipeline.lake
    cores = pipeline.spark.sparkContext.defaultParallelism
    # Bronze is written as it was cached: a file per ingest date and core at most
    bronze = newest_commit_adds(lake.bronze)
    assert len(bronze) == 1, bronze
    assert 1 <= sum(bronze.values()) <= cores, bronze
    silver = newest_commit_adds(lake.silver)
    assert len(silver) == 2, silver
    assert set(silver.values()) == {1}, silver
    assert set(newest_commit_adds(lake.event_ids).values()) == {1}
    assert list(newest_commit_adds(lake.silver_batches).values()) == [1]


def test_a_large_stream_batch_writes_silver_and_its_index_on_every_core(
    pipeline: Pipeline, gateway_server: GatewayHandle
) -> None:
    # 60 new rows at 10 per write task: as many tasks as cores
    large = pipeline.with_settings(write_task_rows=10)
    send_over_partitions_and_two_dates(large, gateway_server)

    cores = large.spark.sparkContext.defaultParallelism
    assert cores > 1
    silver = newest_commit_adds(large.lake.silver)
    assert len(silver) == 2, silver
    assert max(silver.values()) <= cores, silver
    assert sum(silver.values()) > 2, silver
    index = newest_commit_adds(large.lake.event_ids)
    assert max(index.values()) <= cores, index
    assert sum(index.values()) > len(index), index
    assert large.table("silver").count() == 60


def test_the_bronze_query_alone_writes_a_file_per_kafka_partition_of_its_batch(
    pipeline: Pipeline, gateway_server: GatewayHandle
) -> None:
    post_over_partitions_and_two_dates(pipeline, gateway_server)
    pipeline.bronze()

    # the session's optimized writes would shuffle the batch's one ingest date into one task
    partitions = pipeline.table("bronze").select("partition").distinct().count()
    assert partitions > 1
    assert list(newest_commit_adds(pipeline.lake.bronze).values()) == [partitions]


def checkpoint_interval(path: str) -> str | None:
    interval: str | None = DeltaTable(path).metadata().configuration.get(INTERVAL_PROPERTY)
    return interval


def test_the_stream_tables_get_their_own_checkpoint_intervals_when_created_and_when_the_setting_changes(
    pipeline: Pipeline,
) -> None:
    ensure_tables(pipeline.spark, pipeline.settings, pipeline.catalog)
    created = stream_intervals(pipeline.settings)
    assert len(set(created.values())) == 4
    for path, interval in created.items():
        assert checkpoint_interval(path) == str(interval), path
        assert DeltaTable(path).version() == 0, "created with the property, not altered after"

    # a restart with another setting moves every table to its new interval
    restarted = pipeline.with_settings(lake_checkpoint_interval=20)
    ensure_tables(restarted.spark, restarted.settings, restarted.catalog)
    changed = stream_intervals(restarted.settings)
    assert sorted(changed.values()) == [20, 22, 24, 26]
    for path, interval in changed.items():
        assert checkpoint_interval(path) == str(interval), path
        assert DeltaTable(path).version() == 1
    # the next start finds them right and commits nothing
    ensure_tables(restarted.spark, restarted.settings, restarted.catalog)
    assert all(DeltaTable(path).version() == 1 for path in changed)

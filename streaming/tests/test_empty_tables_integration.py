"""Every table of the lake exists from the stream's start, reads with delta-rs, takes the stream's writes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from accord.gateway.testing import GatewayHandle
from accord.streaming.empty_tables import ensure_tables, fixed_tables
from accord.streaming.inspect.ledger import compute_ledger
from accord.streaming.inspect.tables import LakeReader
from accord.streaming.inspect.trace import trace_event
from accord.streaming.silver import LEADING_COLUMNS, TRAILING_COLUMNS
from accord.streaming.testing import Pipeline, envelope, post_events, produce_raw

pytestmark = [pytest.mark.integration, pytest.mark.spark]

DOCUMENTED_QUARANTINE_COLUMNS = [
    "reason", "detail", "event_id", "schema_id", "value", "key",
    "kafka_topic", "kafka_partition", "kafka_offset", "received_at", "quarantined_at",
]  # fmt: skip


def rows(path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = DeltaTable(path).to_pyarrow_table().to_pylist()
    return found


def test_a_fresh_lake_reads_with_delta_rs_before_and_after_the_first_batch(
    pipeline: Pipeline, gateway_server: GatewayHandle, tmp_path: Path
) -> None:
    lake = pipeline.lake
    every_table = [*fixed_tables(lake), lake.bronze, lake.silver, lake.event_ids]
    assert not any(Path(path).exists() for path in every_table)
    # what the stream service does when it starts (`accord.streaming.app.run`)
    for _ in range(2):  # a second start leaves the tables as they are
        ensure_tables(pipeline.spark, pipeline.settings, pipeline.catalog)

    for path in every_table:
        table = DeltaTable(path)
        assert table.version() == 0, path
        assert table.to_pyarrow_table().num_rows == 0, path
    quarantine_columns = [f.name for f in DeltaTable(lake.quarantine).schema().fields]
    assert quarantine_columns == DOCUMENTED_QUARANTINE_COLUMNS
    # Silver has the envelope, a struct per registered event type, then the lineage
    silver_columns = [f.name for f in DeltaTable(lake.silver).schema().fields]
    event_types = {"page_view", "purchase", "experiment_exposure", "conversion", "signup", "feature_used"}
    assert silver_columns[: len(LEADING_COLUMNS)] == list(LEADING_COLUMNS)
    assert silver_columns[-len(TRAILING_COLUMNS) :] == list(TRAILING_COLUMNS)
    assert event_types <= set(silver_columns[len(LEADING_COLUMNS) : -len(TRAILING_COLUMNS)])
    assert DeltaTable(lake.silver).metadata().partition_columns == ["event_date"]
    assert DeltaTable(lake.event_ids).metadata().partition_columns == ["id_bucket"]
    # the inspection commands answer on the empty lake instead of failing on a missing table
    reader = LakeReader.from_settings(pipeline.settings)
    assert compute_ledger(reader).hours == []
    assert not trace_event(reader, "0190a5c8-7f3e-7a5b-8c2d-1e2f3a4b5c6d").found

    now = int(time.time() * 1000)
    exposure = {
        "schema": "accord.events.ExperimentExposure",
        "payload": {
            "envelope": envelope(event_time_ms=now - 1_000, user_id="user-7"),
            "experiment_id": "exp-1",
            "variant": "B",
        },
    }
    assert post_events(gateway_server.url, gateway_server.write_key, [exposure], now)["accepted"] == 1
    produce_raw(pipeline.settings.kafka_bootstrap, pipeline.settings.events_topic, [b"not framed"], now)
    pipeline.run()

    # the stream's writes land in the tables created empty, with their types
    [kept] = rows(lake.silver)
    assert (kept["event_type"], kept["experiment_exposure"]["variant"]) == ("experiment_exposure", "B")
    assert [r["event_id"] for r in rows(lake.event_ids)] == [kept["event_id"]]
    assert [f.name for f in DeltaTable(lake.silver).schema().fields] == silver_columns
    quarantined = rows(lake.quarantine)
    assert [(r["reason"], r["value"]) for r in quarantined] == [("bad_framing", b"not framed")]
    assert [(r["user_key"], r["experiment_id"], r["variant"]) for r in rows(lake.assignments)] == [
        ("user-7", "exp-1", "B")
    ]
    batches = rows(lake.silver_batches)
    assert [(b["input_rows"], b["inserted"], b["quarantined"]) for b in batches] == [
        (2, 1, [("bad_framing", 1)])
    ]


def test_a_start_while_the_registry_is_down_goes_on_and_leaves_silver_to_its_first_write(
    pipeline: Pipeline,
) -> None:
    # nothing listens on the discard port
    stream = pipeline.with_settings(registry_url="http://127.0.0.1:9")
    ensure_tables(stream.spark, stream.settings, stream.catalog)
    lake = stream.lake
    assert all(DeltaTable(path).version() == 0 for path in [*fixed_tables(lake), lake.bronze])
    assert not Path(lake.silver).exists()
    assert not Path(lake.event_ids).exists()

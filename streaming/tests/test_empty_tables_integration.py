"""Quarantine, the batch counts and the assignments exist from the stream's start, and take its writes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from accord.gateway.testing import GatewayHandle
from accord.streaming.empty_tables import ensure_tables, fixed_tables
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
    assert not Path(lake.quarantine).exists()
    # what the stream service does when it starts (`accord.streaming.app.run`)
    ensure_tables(pipeline.spark, lake)
    ensure_tables(pipeline.spark, lake)  # a second start leaves them as they are

    for path in fixed_tables(lake):
        table = DeltaTable(path)
        assert table.version() == 0, path
        assert table.to_pyarrow_table().num_rows == 0, path
    quarantine_columns = [f.name for f in DeltaTable(lake.quarantine).schema().fields]
    assert quarantine_columns == DOCUMENTED_QUARANTINE_COLUMNS

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
    quarantined = rows(lake.quarantine)
    assert [(r["reason"], r["value"]) for r in quarantined] == [("bad_framing", b"not framed")]
    assert [(r["user_key"], r["experiment_id"], r["variant"]) for r in rows(lake.assignments)] == [
        ("user-7", "exp-1", "B")
    ]
    batches = rows(lake.silver_batches)
    assert [(b["input_rows"], b["inserted"], b["quarantined"]) for b in batches] == [
        (2, 1, [("bad_framing", 1)])
    ]

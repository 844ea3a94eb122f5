"""The same pipeline with the lake on an S3-compatible server (moto) on loopback."""

from __future__ import annotations

import time
from typing import Any

import pytest

from accord.streaming.session import configure_s3
from accord.streaming.testing import Pipeline, S3Server, envelope, post_events, produce_raw

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def test_pipeline_writes_its_tables_to_s3(
    pipeline: Pipeline, gateway_server: Any, s3_server: S3Server, tmp_path: Any
) -> None:
    pipeline.settings = s3_server.lake_settings(pipeline.settings).model_copy(
        update={"checkpoint_uri": str(tmp_path / "checkpoints")}
    )
    configure_s3(pipeline.spark, pipeline.settings)
    now = int(time.time() * 1000)
    events: list[dict[str, Any]] = [
        {
            "schema": "accord.events.PageView",
            "payload": {"envelope": envelope(event_time_ms=now), "url": "https://s3/"},
        }
        for _ in range(5)
    ]
    assert post_events(gateway_server.url, gateway_server.write_key, events, now)["accepted"] == 5
    produce_raw(pipeline.settings.kafka_bootstrap, pipeline.settings.events_topic, [b"bad"], now)
    pipeline.run()

    assert pipeline.lake.silver.startswith("s3a://")
    assert pipeline.table("bronze").count() == 6
    assert sorted(r.event_id for r in pipeline.table("silver").collect()) == sorted(
        e["payload"]["envelope"]["event_id"] for e in events
    )
    assert [r.reason for r in pipeline.table("quarantine").collect()] == ["bad_framing"]
    log_prefix = "lake/silver/events/_delta_log/"
    listed = s3_server.client().list_objects_v2(Bucket=s3_server.bucket, Prefix=log_prefix)
    keys = [o["Key"] for o in listed["Contents"]]
    assert any(k.endswith(".json") for k in keys)

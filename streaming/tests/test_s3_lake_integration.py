"""The same pipeline with the lake on an S3-compatible server (moto) on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from accord.runtime.ports import free_port
from accord.streaming.session import configure_s3
from accord.streaming.testing import Pipeline, envelope, post_events, produce_raw

pytestmark = [pytest.mark.integration, pytest.mark.spark]

BUCKET = "accord-lake"


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def test_pipeline_writes_its_tables_to_s3(
    pipeline: Pipeline, gateway_server: Any, s3_endpoint: str, tmp_path: Any
) -> None:
    import boto3

    pipeline.settings = pipeline.settings.model_copy(
        update={
            "lake_uri": f"s3a://{BUCKET}/lake",
            "checkpoint_uri": str(tmp_path / "checkpoints"),
            "s3_endpoint": s3_endpoint,
            "s3_access_key": SecretStr("testing"),
            "s3_secret_key": SecretStr("testing"),
        }
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
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="lake/silver/events/_delta_log/")["Contents"]
    ]
    assert any(k.endswith(".json") for k in keys)

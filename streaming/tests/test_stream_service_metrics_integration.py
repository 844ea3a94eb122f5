"""`accord stream serve` as `accord up` runs it: its Prometheus endpoint and the lake it starts with."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from deltalake import DeltaTable
from prometheus_client.parser import text_string_to_metric_families

from accord.gateway.testing import GatewayHandle
from accord.runtime.services import accord_executable
from accord.runtime.testing import BrokerHandle
from accord.runtime.waiting import wait_until
from accord.streaming.lake import Lake
from accord.streaming.progress import ProgressFile
from accord.streaming.settings import StreamingSettings
from accord.streaming.testing import envelope, post_events, produce_raw, topic_end_offsets

# a Spark application of its own beside the tests' session: slow on a loaded machine
pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.timeout(900)]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def exposure(now: int, user: str, variant: str) -> dict[str, Any]:
    return {
        "schema": "accord.events.ExperimentExposure",
        "payload": {
            "envelope": envelope(event_time_ms=now, user_id=user),
            "experiment_id": "new_checkout",
            "variant": variant,
        },
    }


def test_the_running_stream_exports_its_batches_and_starts_with_every_fixed_table(
    kafka_broker: BrokerHandle,
    registered_schemas: str,
    gateway_server: GatewayHandle,
    tmp_path: Path,
    pytestconfig: pytest.Config,
) -> None:
    topic = kafka_broker.settings.events_topic
    settings = StreamingSettings(lake_uri=str(tmp_path / "lake"), state_dir=tmp_path / "state")
    env = {
        **os.environ,
        "ACCORD_LAKE_URI": settings.lake_uri,
        "ACCORD_STATE_DIR": str(settings.state_dir),
        "ACCORD_CACHE_DIR": str(Path(pytestconfig.rootpath) / ".cache"),
        "ACCORD_REGISTRY_URL": registered_schemas,
        "ACCORD_KAFKA_BOOTSTRAP": kafka_broker.bootstrap,
        "ACCORD_EVENTS_TOPIC": topic,
        "ACCORD_STARTING_OFFSETS": topic_end_offsets(kafka_broker.bootstrap, topic),
        "ACCORD_SHUFFLE_PARTITIONS": "2",
        "ACCORD_STREAM_METRICS_PORT": "0",
        "ACCORD_EXPERIMENT_HEALTH_INTERVAL_S": "2",
        "ACCORD_LOG_LEVEL": "INFO",
    }
    progress = ProgressFile(settings.state_dir)
    log_path = tmp_path / "stream.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [accord_executable(), "stream", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        app = wait_until(
            lambda: progress.read().get("app", {}),
            until=lambda facts: facts.get("ready") and facts.get("metrics_port"),
            timeout_s=300,
            describe=f"the stream ready (log {log_path})",
        )
        port = int(app["metrics_port"])
        # the service warmed up on synthetic records (default settings) before its query started
        assert '"msg": "stream warmed up"' in log_path.read_text()
        assert scrape(port)[("accord_stream_ready", frozenset())] == 1
        # a healthy lake, no record yet: delta-rs reads an empty Quarantine
        lake = Lake.from_settings(settings)
        assert DeltaTable(lake.quarantine).to_pyarrow_table().num_rows == 0

        now = int(time.time() * 1000)
        views = [
            {
                "schema": "accord.events.PageView",
                "payload": {"envelope": envelope(event_time_ms=now), "url": "https://m/"},
            }
            for _ in range(5)
        ]
        events = [exposure(now, "user-a", "control"), exposure(now, "user-b", "treatment"), *views]
        assert post_events(gateway_server.url, gateway_server.write_key, events, now)["accepted"] == 7
        produce_raw(kafka_broker.bootstrap, topic, [b"not framed"], now)

        inserted = ("accord_stream_silver_rows_total", frozenset({("outcome", "inserted")}))
        batches = ("accord_stream_batch_duration_seconds_count", frozenset({("query", "ingest")}))
        treatment = frozenset({("experiment", "new_checkout"), ("variant", "treatment")})
        found = wait_until(
            lambda: scrape(port),
            # the query's own progress event comes after its batch, the health check after Silver
            until=lambda s: (
                s.get(inserted) == 7
                and s.get(batches, 0) >= 1
                and s.get(("accord_experiment_exposed_users", treatment)) == 1
            ),
            timeout_s=420,
            describe="the batch and the health check in the metrics",
        )
        scraped_at = time.time()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=120)

    assert found[("accord_stream_quarantined_total", frozenset({("reason", "bad_framing")}))] == 1
    assert found[("accord_stream_input_rows_total", frozenset({("query", "ingest")}))] == 8
    assert found[("accord_stream_batch_duration_seconds_count", frozenset({("query", "ingest")}))] >= 1
    lags = {labels: v for (name, labels), v in found.items() if name == "accord_stream_kafka_lag_offsets"}
    assert len(lags) == kafka_broker.settings.kafka_partitions
    assert all(v == 0 for v in lags.values()), lags
    # from the events' reception to each commit: Bronze is committed before Silver, within the batch
    freshness = {
        table: found[("accord_stream_freshness_seconds", frozenset({("table", table)}))]
        for table in ("bronze", "silver")
    }
    assert 0 <= freshness["bronze"] <= freshness["silver"] <= scraped_at - now / 1000, freshness
    for table in freshness:
        written = found[("accord_stream_last_write_timestamp_seconds", frozenset({("table", table)}))]
        assert now / 1000 <= written <= scraped_at
    checkout = frozenset({("experiment", "new_checkout")})
    assert found[("accord_experiment_srm_alarm", checkout)] == 0
    assert found[("accord_experiment_multiple_exposure_share", checkout)] == 0
    assert found[("accord_stream_query_restarts_total", frozenset())] == 0

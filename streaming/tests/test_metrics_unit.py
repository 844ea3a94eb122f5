"""The stream's Prometheus endpoint: progress facts in, the text exposition format out over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from accord.streaming.metrics import serve_metrics
from accord.streaming.ops import BatchCounts
from accord.streaming.progress import ProgressFile, kafka_lag_by_partition
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.unit

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def source(end: str, latest: str) -> SimpleNamespace:
    return SimpleNamespace(endOffset=end, latestOffset=latest, metrics={})


def test_lag_per_partition_comes_from_the_sources_offsets() -> None:
    progress = SimpleNamespace(
        sources=[
            source('{"events": {"0": 10, "1": 7}}', '{"events": {"0": 15, "1": 7}}'),
            source("not json", "{}"),
        ]
    )
    assert kafka_lag_by_partition(progress) == {"events": {"0": 5, "1": 0}}


def test_endpoint_exports_what_the_batches_and_the_supervisor_record(tmp_path: Path) -> None:
    settings = StreamingSettings(state_dir=tmp_path, stream_metrics_port=0)
    progress = ProgressFile(tmp_path)
    progress.update("app", {"restarts": 2})
    endpoint = serve_metrics(settings, progress)
    try:
        assert progress.read()["app"]["metrics_port"] == endpoint.port
        progress.update("app", {"ready": True, "restarts": 2})
        finished = datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)
        for batch_id in (0, 1):
            progress.update(
                "ingest",
                {
                    "batch_duration_ms": 1500,
                    "input_rows": 40,
                    "kafka_lag_by_partition": {"events": {"0": 3 - batch_id, "1": 0}},
                },
            )
            counts = BatchCounts(
                batch_id=batch_id,
                source="stream",
                input_rows=40,
                inserted=30,
                duplicates=4,
                late=2,
                quarantined={"unknown_schema": 5, "rule_violation:invalid_uuid": 1},
                max_received_at=datetime(2026, 1, 1, 12, 0, 8),
                finished_at=finished,
            )
            progress.update("silver", counts.progress_facts())
            ingest_end = finished.timestamp() + 0.5
            progress.update(
                "ingest", {"input_rows": 40, "bronze_ms": 500, "batch_ms": 2500, "at": ingest_end}
            )
        progress.update("app", {"restarts": 3, "crash_loop": True})

        assert endpoint.port is not None
        found = scrape(endpoint.port)
    finally:
        endpoint.stop()

    def value(name: str, **labels: str) -> float:
        return found[(name, frozenset(labels.items()))]

    assert value("accord_stream_kafka_lag_offsets", topic="events", partition="0") == 2
    assert value("accord_stream_kafka_lag_offsets", topic="events", partition="1") == 0
    assert value("accord_stream_batch_duration_seconds_count", query="ingest") == 2
    assert value("accord_stream_batch_duration_seconds_sum", query="ingest") == 3.0
    assert value("accord_stream_input_rows_total", query="ingest") == 80
    assert value("accord_stream_silver_rows_total", outcome="inserted") == 60
    assert value("accord_stream_silver_rows_total", outcome="duplicate") == 8
    assert value("accord_stream_late_events_total") == 4
    assert value("accord_stream_quarantined_total", reason="unknown_schema") == 10
    assert value("accord_stream_quarantined_total", reason="rule_violation:invalid_uuid") == 2
    assert value("accord_stream_freshness_seconds", table="silver") == 2.0
    assert value("accord_stream_last_write_timestamp_seconds", table="silver") == finished.timestamp()
    # Bronze was committed 2 s before the end of the 2.5 s batch, 0.5 s after reception
    assert value("accord_stream_freshness_seconds", table="bronze") == pytest.approx(0.5)
    # restarts before this process started are not counted again
    assert value("accord_stream_query_restarts_total") == 1
    assert value("accord_stream_crash_loop") == 1
    assert value("accord_stream_ready") == 1


def test_a_taken_port_leaves_the_stream_running_without_its_endpoint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    progress = ProgressFile(tmp_path)
    first = serve_metrics(StreamingSettings(state_dir=tmp_path, stream_metrics_port=0), progress)
    try:
        assert first.port is not None
        taken = StreamingSettings(state_dir=tmp_path, stream_metrics_port=first.port)
        second = serve_metrics(taken, ProgressFile(tmp_path / "other"))
        assert second.port is None
        second.stop()
        assert any(r.getMessage() == "metrics endpoint not started" for r in caplog.records)
    finally:
        first.stop()

"""The stream service's Prometheus endpoint (`ACCORD_STREAM_METRICS_PORT`, path `/metrics`).

Fed by the facts the stream already records in its progress file (`accord.streaming.progress`),
as a subscriber, so no batch pays for a second bookkeeping:

* `accord_stream_kafka_lag_offsets{topic, partition}`: offsets behind the topic's end;
* `accord_stream_batch_duration_seconds{query}`, `accord_stream_input_rows_total{query}`:
  each micro-batch's duration and the Kafka (or Bronze) rows it read;
* `accord_stream_silver_rows_total{outcome}`: Silver rows `inserted`, `duplicate` removed;
* `accord_stream_freshness_seconds{table}`: from the newest event's reception at the gateway
  to the `bronze` / `silver` commit that holds it; `accord_stream_last_write_timestamp_seconds
  {table}`: when that commit finished (a freshness alert needs both: no batch, no new value);
* `accord_stream_quarantined_total{reason}`, `accord_stream_late_events_total`;
* `accord_stream_query_restarts_total`, `accord_stream_crash_loop`, `accord_stream_ready`.

Periodic jobs the service runs (`accord.stream_jobs`) add their own metrics to the same registry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from accord.streaming.progress import ProgressFile
from accord.streaming.settings import StreamingSettings

log = logging.getLogger(__name__)

BATCH_SECONDS_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)


class StreamMetrics:
    """The stream's metrics, in a Prometheus registry of their own; `observe` is a progress observer.

    `restarts_before`: the restart count the progress file held when this process started (it
    keeps counting across service restarts); the counter counts only this process's restarts.
    """

    def __init__(self, restarts_before: int = 0) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.kafka_lag = Gauge(
            "accord_stream_kafka_lag_offsets",
            "offsets of the topic not read yet, per partition",
            ["topic", "partition"],
            registry=registry,
        )
        self.batch_duration = Histogram(
            "accord_stream_batch_duration_seconds",
            "duration of a micro-batch",
            ["query"],
            buckets=BATCH_SECONDS_BUCKETS,
            registry=registry,
        )
        self.input_rows = Counter(
            "accord_stream_input_rows", "rows the micro-batches read", ["query"], registry=registry
        )
        self.silver_rows = Counter(
            "accord_stream_silver_rows",
            "Silver rows by outcome: inserted, or duplicate removed",
            ["outcome"],
            registry=registry,
        )
        self.freshness = Gauge(
            "accord_stream_freshness_seconds",
            "from the newest event's reception to the commit of the table holding it",
            ["table"],
            registry=registry,
        )
        self.last_write = Gauge(
            "accord_stream_last_write_timestamp_seconds",
            "when the last commit that added rows finished (unix time)",
            ["table"],
            registry=registry,
        )
        self.quarantined = Counter(
            "accord_stream_quarantined",
            "records sent to Quarantine, by reason",
            ["reason"],
            registry=registry,
        )
        self.late = Counter(
            "accord_stream_late_events", "Silver events behind the watermark", registry=registry
        )
        self.restarts = Counter(
            "accord_stream_query_restarts", "streaming queries restarted after dying", registry=registry
        )
        self.crash_loop = Gauge(
            "accord_stream_crash_loop",
            "1 while a query keeps failing right after starting",
            registry=registry,
        )
        self.ready = Gauge("accord_stream_ready", "1 while the stream's queries run", registry=registry)
        self._restarts_seen = restarts_before
        self._received_at: float | None = None

    def observe(self, query: str, facts: Mapping[str, Any]) -> None:
        """Take one progress update (see `ProgressFile.update`) into the metrics."""
        if "batch_duration_ms" in facts:
            self._query_progress(query, facts)
        if "quarantined" in facts:
            self._silver_batch(facts)
        if "bronze_ms" in facts:
            self._ingest_batch(facts)
        if "ready" in facts:
            self.ready.set(1 if facts["ready"] else 0)
        if "restarts" in facts:
            self._app_restarts(facts)

    def _query_progress(self, query: str, facts: Mapping[str, Any]) -> None:
        self.batch_duration.labels(query).observe(float(facts["batch_duration_ms"] or 0) / 1000)
        self.input_rows.labels(query).inc(int(facts.get("input_rows") or 0))
        for topic, partitions in (facts.get("kafka_lag_by_partition") or {}).items():
            for partition, lag in partitions.items():
                self.kafka_lag.labels(topic, str(partition)).set(lag)

    def _silver_batch(self, facts: Mapping[str, Any]) -> None:
        self.silver_rows.labels("inserted").inc(int(facts.get("inserted") or 0))
        self.silver_rows.labels("duplicate").inc(int(facts.get("duplicates") or 0))
        self.late.inc(int(facts.get("late") or 0))
        for reason, n in (facts.get("quarantined") or {}).items():
            self.quarantined.labels(reason).inc(int(n))
        if facts.get("finished_at") is not None:
            self.last_write.labels("silver").set(float(facts["finished_at"]))
        if facts.get("freshness_s") is not None:
            self.freshness.labels("silver").set(float(facts["freshness_s"]))
        self._received_at = facts.get("max_received_at")

    def _ingest_batch(self, facts: Mapping[str, Any]) -> None:
        if not facts.get("input_rows"):
            return
        # the ingest batch appends Bronze first, `bronze_ms` after it started, then writes Silver
        committed = float(facts["at"]) - (int(facts["batch_ms"]) - int(facts["bronze_ms"])) / 1000
        self.last_write.labels("bronze").set(committed)
        if self._received_at is not None:
            self.freshness.labels("bronze").set(max(committed - float(self._received_at), 0.0))

    def _app_restarts(self, facts: Mapping[str, Any]) -> None:
        restarts = int(facts["restarts"])
        if restarts > self._restarts_seen:
            self.restarts.inc(restarts - self._restarts_seen)
        self._restarts_seen = restarts
        if "crash_loop" in facts:
            self.crash_loop.set(1 if facts["crash_loop"] else 0)


@dataclass
class MetricsEndpoint:
    """The stream's metrics and the HTTP server that serves them (None when its port was taken)."""

    metrics: StreamMetrics
    server: WSGIServer | None
    thread: Thread | None

    @property
    def port(self) -> int | None:
        """The port it listens on (the chosen one when the setting is 0), None when not serving."""
        return None if self.server is None else int(self.server.server_port)

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def serve_metrics(settings: StreamingSettings, progress: ProgressFile) -> MetricsEndpoint:
    """Serve the stream's metrics, fed from `progress`; the bound port is recorded in the file.

    A port already taken is logged as an error and the stream runs without its endpoint: the
    metrics are for watching the stream, not a reason to stop it (`accord up` refuses a taken
    port before starting anything).
    """
    metrics = StreamMetrics(restarts_before=int(progress.read().get("app", {}).get("restarts", 0)))
    progress.subscribe(metrics.observe)
    host, port = settings.stream_metrics_host, settings.stream_metrics_port
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        log.error("metrics endpoint not started", extra={"host": host, "port": port, "error": str(exc)})
        return MetricsEndpoint(metrics, None, None)
    endpoint = MetricsEndpoint(metrics, server, thread)
    progress.update("app", {"metrics_port": endpoint.port})
    log.info("metrics endpoint listening", extra={"host": host, "port": endpoint.port})
    return endpoint

"""Per-batch progress of the streaming queries: JSON log lines and a small file `accord status` reads.

The file (`<state_dir>/stream/progress.json`) holds the last progress of each query, so
`accord status` can show Kafka lag and Silver freshness without starting a JVM. Whoever else
wants each update as it happens (the Prometheus endpoint, `accord.streaming.metrics`)
subscribes to the file rather than being called from every place that records a fact.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql.streaming.listener import QueryProgressEvent

log = logging.getLogger(__name__)

EXPERIMENT_HEALTH = "experiment_health"
"""The entry of the stream's experiment health job (`accord.gold.live_health`)."""

Observer = Callable[[str, dict[str, Any]], None]
"""Called with a query's name and the facts just recorded for it."""


class ProgressFile:
    """The last known facts of each query, updated atomically (write, then rename)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "stream" / "progress.json"
        self._lock = threading.Lock()
        self._observers: list[Observer] = []

    def subscribe(self, observer: Observer) -> None:
        """Call `observer` with every update after it is written."""
        self._observers.append(observer)

    def read(self) -> dict[str, dict[str, Any]]:
        """Every query's last facts; empty when nothing ran yet."""
        try:
            data: dict[str, dict[str, Any]] = json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return data

    def update(self, query: str, facts: dict[str, Any]) -> None:
        """Merge `facts` into the entry of `query`."""
        with self._lock:
            data = self.read()
            data.setdefault(query, {}).update(facts)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, default=str))
            os.replace(temporary, self.path)
        for observer in self._observers:
            # an observer's failure must not fail the batch that recorded the facts
            try:
                observer(query, facts)
            except Exception:
                log.exception("progress observer failed", extra={"query": query})


def kafka_lag(progress: Any) -> int | None:
    """How many offsets the most lagging partition of the Kafka source is behind the topic's end."""
    lags = [
        int(float(source.metrics["maxOffsetsBehindLatest"]))
        for source in progress.sources
        if source.metrics and "maxOffsetsBehindLatest" in source.metrics
    ]
    return max(lags) if lags else None


def kafka_lag_by_partition(progress: Any) -> dict[str, dict[str, int]]:
    """Offsets behind the topic's end, per topic and partition, from each source's offsets.

    A Kafka source reports `endOffset` (read up to) and `latestOffset` (the topic's end when
    the batch was planned) as JSON `{"topic": {"partition": offset}}`.
    """
    lags: dict[str, dict[str, int]] = {}
    for source in progress.sources:
        try:
            end, latest = json.loads(source.endOffset or "null"), json.loads(source.latestOffset or "null")
        except (TypeError, json.JSONDecodeError):
            continue
        if not isinstance(end, dict) or not isinstance(latest, dict):
            continue
        for topic, partitions in latest.items():
            read = end.get(topic, {})
            if not isinstance(partitions, dict) or not isinstance(read, dict):
                continue
            # a partition not read yet (new to the query) has no lag to report
            lags[topic] = {
                partition: max(int(offset) - int(read[partition]), 0)
                for partition, offset in partitions.items()
                if partition in read
            }
    return lags


def describe(facts: dict[str, dict[str, Any]], now: float | None = None) -> str:
    """One line for `accord status`: Kafka lag, Silver freshness, restarts of dead queries, SRM alarms."""
    now = time.time() if now is None else now
    parts = []
    silver, app = facts.get("silver", {}), facts.get("app", {})
    # the service's one query is `ingest`; `bronze` when the hops run apart
    source = facts.get("ingest", facts.get("bronze", {}))
    if source.get("kafka_lag") is not None:
        parts.append(f"kafka lag {source['kafka_lag']} offsets")
    if "finished_at" in silver:
        parts.append(f"silver batch {now - float(silver['finished_at']):.0f}s ago")
    if silver.get("freshness_s") is not None:
        parts.append(f"freshness {float(silver['freshness_s']):.1f}s")
    if app.get("restarts"):
        parts.append(f"{app['restarts']} restart(s)" + (" [crash loop]" if app.get("crash_loop") else ""))
    experiments = facts.get(EXPERIMENT_HEALTH, {}).get("experiments") or {}
    alarms = [
        f"{experiment} (p = {float(health['srm_p_value']):.2g})"
        for experiment, health in sorted(experiments.items())
        if health.get("srm_alarm")
    ]
    if alarms:
        parts.append("SRM alarm: " + ", ".join(alarms))
    return ", ".join(parts) or "no batch yet"


def make_listener(progress_file: ProgressFile) -> Any:
    """A `StreamingQueryListener` that logs every batch's progress and records it in `progress_file`."""
    from pyspark.sql.streaming.listener import StreamingQueryListener

    class ProgressLogger(StreamingQueryListener):
        def onQueryStarted(self, event: Any) -> None:  # noqa: N802 - Spark's callback name
            log.info("query started", extra={"query": event.name, "run_id": str(event.runId)})

        def onQueryProgress(self, event: QueryProgressEvent) -> None:  # noqa: N802
            progress = event.progress
            facts = {
                "batch_id": progress.batchId,
                "input_rows": progress.numInputRows,
                "input_rows_per_s": round(progress.inputRowsPerSecond or 0.0, 1),
                "processed_rows_per_s": round(progress.processedRowsPerSecond or 0.0, 1),
                "batch_duration_ms": progress.batchDuration,
                "watermark": (progress.eventTime or {}).get("watermark"),
                "kafka_lag": kafka_lag(progress),
                "kafka_lag_by_partition": kafka_lag_by_partition(progress),
                "at": time.time(),
            }
            log.info("batch progress", extra={"query": progress.name, **facts})
            progress_file.update(progress.name or "unnamed", facts)

        def onQueryIdle(self, event: Any) -> None:  # noqa: N802
            return

        def onQueryTerminated(self, event: Any) -> None:  # noqa: N802
            log.info("query terminated", extra={"run_id": str(event.runId), "error": event.exception})

    return ProgressLogger()

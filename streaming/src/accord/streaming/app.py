"""The streaming application: the streaming queries in one Spark application, supervised.

On a 2-core machine one JVM costs far less than two (one driver, one heap, one set of
scheduler threads). The service runs one query, `ingest` (Kafka → Bronze → Silver in each
micro-batch, see `accord.streaming.ingest`); `bronze` and `silver` are the same work split in
two hops, for running them apart.

A query that dies (any exception) is started again from its checkpoint after a delay that
doubles with each failure in a row; the restarts are counted in the progress file, which
`accord status` shows, and a crash loop is logged as such, never silent.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING

from accord.streaming.bronze import start_bronze
from accord.streaming.empty_tables import ensure_tables
from accord.streaming.errors import StreamFailedError
from accord.streaming.ingest import start_ingest
from accord.streaming.jobs import start_jobs
from accord.streaming.maintenance_schedule import start_maintenance
from accord.streaming.metrics import serve_metrics
from accord.streaming.progress import ProgressFile, make_listener
from accord.streaming.schema_cache import stream_catalog
from accord.streaming.session import build_session
from accord.streaming.settings import StreamingSettings
from accord.streaming.silver import start_silver
from accord.streaming.warmup import warm_up

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.streaming.query import StreamingQuery

log = logging.getLogger(__name__)

QUERIES = ("ingest",)
KNOWN_QUERIES = ("ingest", "bronze", "silver")
# a query that stayed up this long has recovered: its next failure starts the backoff again
HEALTHY_AFTER_S = 120.0
CRASH_LOOP_RESTARTS = 5


def _starter(
    name: str, spark: SparkSession, settings: StreamingSettings, progress: ProgressFile, once: bool
) -> Callable[[], StreamingQuery]:
    catalog = stream_catalog(settings)
    if name == "ingest":
        return lambda: start_ingest(spark, settings, catalog, available_now=once, progress=progress)
    if name == "bronze":
        return lambda: start_bronze(spark, settings, available_now=once)
    if name == "silver":
        return lambda: start_silver(spark, settings, catalog, available_now=once, progress=progress)
    raise StreamFailedError(f"unknown query {name!r}; known: {', '.join(KNOWN_QUERIES)}")


def run(settings: StreamingSettings, queries: Sequence[str] = QUERIES, *, once: bool = False) -> None:
    """Run the chosen queries until SIGTERM/SIGINT (or, with `once`, over what is available now)."""
    spark = build_session(settings, "accord-stream-" + "-".join(queries))
    catalog = stream_catalog(settings)
    ensure_tables(spark, settings, catalog)
    if not once:
        warm_up(spark, settings, catalog)
    progress = ProgressFile(settings.state_dir)
    spark.streams.addListener(make_listener(progress))
    metrics = None if once else serve_metrics(settings, progress)
    jobs = None if metrics is None else start_jobs(settings, progress, metrics.metrics.registry)
    starters = {name: _starter(name, spark, settings, progress, once) for name in queries}
    maintenance = start_maintenance(spark, settings, enabled=not once)
    try:
        if once:
            _run_once(starters)
        else:
            _supervise(starters, progress, settings)
    finally:
        if maintenance is not None:
            maintenance.stop()
        progress.update("app", {"ready": False})
        if jobs is not None:
            jobs.stop()
        if metrics is not None:
            metrics.stop()
        spark.stop()


def _run_once(starters: dict[str, Callable[[], StreamingQuery]]) -> None:
    # one after the other, so Silver sees everything Bronze copied in this run
    for start in starters.values():
        query = start()
        query.awaitTermination()
        failure = query.exception()
        if failure is not None:
            raise StreamFailedError(f"query {query.name} failed: {failure}") from failure


class _Backoff:
    """Delays between restarts: `initial_s`, doubling up to `max_s`, reset once a query stays up."""

    def __init__(self, initial_s: float, max_s: float) -> None:
        self.initial_s, self.max_s = initial_s, max_s
        self.failures_in_a_row = 0

    def next_delay(self, up_for_s: float) -> float:
        if up_for_s >= HEALTHY_AFTER_S:
            self.failures_in_a_row = 0
        self.failures_in_a_row += 1
        return float(min(self.max_s, self.initial_s * 2 ** (self.failures_in_a_row - 1)))


def _supervise(
    starters: dict[str, Callable[[], StreamingQuery]], progress: ProgressFile, settings: StreamingSettings
) -> None:
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping streams", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    running = {name: start() for name, start in starters.items()}
    started_at = dict.fromkeys(running, time.monotonic())
    backoff = {name: _Backoff(settings.restart_backoff_s, settings.restart_backoff_max_s) for name in running}
    restarts = progress.read().get("app", {}).get("restarts", 0)
    progress.update("app", {"queries": list(running), "ready": True, "restarts": restarts})
    try:
        while not stop.is_set():
            for name, query in list(running.items()):
                if query.isActive:
                    continue
                failure = query.exception()
                up_for = time.monotonic() - started_at[name]
                delay = backoff[name].next_delay(up_for)
                restarts += 1
                crash_loop = backoff[name].failures_in_a_row >= CRASH_LOOP_RESTARTS
                facts = {
                    "query": name,
                    "error": str(failure)[:2000] if failure is not None else "stopped by itself",
                    "up_for_s": round(up_for, 1),
                    "restart_in_s": delay,
                    "restarts": restarts,
                    "failures_in_a_row": backoff[name].failures_in_a_row,
                }
                log.error("crash loop: query keeps failing" if crash_loop else "query died", extra=facts)
                progress.update(
                    "app",
                    {
                        "restarts": restarts,
                        "last_error": facts["error"],
                        "last_restart_at": time.time(),
                        "crash_loop": crash_loop,
                    },
                )
                if stop.wait(delay):
                    break
                running[name] = starters[name]()
                started_at[name] = time.monotonic()
            stop.wait(1.0)
    finally:
        for query in running.values():
            query.stop()

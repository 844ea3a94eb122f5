"""The streaming application: Bronze and Silver queries in one Spark application.

On a 2-core machine one JVM running both queries costs far less than two (one driver, one
heap, one set of scheduler threads), and Silver reads Bronze's commits as soon as they land.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from types import FrameType

from accord.streaming.batch_schemas import BatchSchemaResolver, RegistrySchemas
from accord.streaming.bronze import start_bronze
from accord.streaming.errors import StreamFailedError
from accord.streaming.maintenance_schedule import start_maintenance
from accord.streaming.progress import ProgressFile, make_listener
from accord.streaming.session import build_session
from accord.streaming.settings import StreamingSettings
from accord.streaming.silver import start_silver

log = logging.getLogger(__name__)

QUERIES = ("bronze", "silver")


def run(settings: StreamingSettings, queries: Sequence[str] = QUERIES, *, once: bool = False) -> None:
    """Run the chosen queries until SIGTERM/SIGINT (or, with `once`, over what is available now)."""
    spark = build_session(settings, "accord-stream-" + "-".join(queries))
    progress = ProgressFile(settings.state_dir)
    spark.streams.addListener(make_listener(progress))
    started = []
    if "bronze" in queries:
        started.append(start_bronze(spark, settings, available_now=once))
        if once:
            # Silver must see everything Bronze copied in this run
            started.pop().awaitTermination()
    if "silver" in queries:
        catalog = BatchSchemaResolver(RegistrySchemas(settings.registry_url), settings.events_topic)
        started.append(start_silver(spark, settings, catalog, available_now=once, progress=progress))
    maintenance = start_maintenance(spark, settings, enabled=not once)
    progress.update("app", {"queries": list(queries), "ready": True})
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping streams", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        while started and not stop.is_set() and all(query.isActive for query in started):
            stop.wait(1.0)
        for query in started:
            failure = query.exception()
            if failure is not None:
                raise StreamFailedError(f"query {query.name} failed: {failure}") from failure
    finally:
        if maintenance is not None:
            maintenance.stop()
        for query in started:
            query.stop()
        progress.update("app", {"ready": False})
        spark.stop()

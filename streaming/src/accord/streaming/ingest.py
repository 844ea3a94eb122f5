"""Kafka → Bronze → Silver in one micro-batch: the low-latency path the stream service runs.

One query reads the `events` topic. Each micro-batch's records are cached once, appended to
Bronze (the exact raw record of every offset) and, at the same time, decoded, deduplicated and
written to Silver and Quarantine from the same cached rows. A record reaches Silver one trigger
after it reaches Kafka, instead of waiting for a second query to notice Bronze's commit.

Exactly once: Bronze's append is marked with the query id and the batch id (see
`accord.streaming.delta_io`), so a batch re-run after a crash does not append its records
twice; Silver's writes are idempotent the same way (see `accord.streaming.silver`).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from accord.streaming import delta_io
from accord.streaming.batch_schemas import BatchSchemaResolver
from accord.streaming.bronze import BRONZE_PARTITIONS, ensure_bronze_table, kafka_reader, to_bronze
from accord.streaming.errors import StreamFailedError
from accord.streaming.lake import Lake
from accord.streaming.ops import BatchCounts
from accord.streaming.poison import PoisonGuard
from accord.streaming.progress import ProgressFile
from accord.streaming.settings import StreamingSettings
from accord.streaming.silver import SilverBatch
from accord.streaming.together import run_together
from accord.streaming.triggers import with_trigger

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.streaming.query import StreamingQuery

log = logging.getLogger(__name__)

INGEST_QUERY = "ingest"
BRONZE_APP_ID = "accord-bronze"
JOB_GROUP_PROPERTIES = ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel")


class IngestBatch:
    """Bronze, then Silver and Quarantine, from one batch of Kafka rows; callable as a `foreachBatch`."""

    def __init__(
        self, settings: StreamingSettings, catalog: BatchSchemaResolver, progress: ProgressFile | None = None
    ) -> None:
        self.lake = Lake.from_settings(settings)
        self.silver = SilverBatch(settings, catalog, progress=progress)
        self.guard = PoisonGuard(self.silver)
        self.progress = progress
        self.app_id: str | None = None
        self._bound = threading.Event()

    def bind(self, query_id: str) -> None:
        """Name the idempotent writes after the streaming query (its id lives in the checkpoint)."""
        self.app_id = f"{BRONZE_APP_ID}-{query_id}"
        self.silver.bind(query_id)
        self._bound.set()

    def __call__(self, kafka: DataFrame, batch_id: int) -> None:
        # the first batch may start before `start()` has returned the query's id to `bind`
        if not self._bound.wait(timeout=60) or self.app_id is None:
            raise StreamFailedError("the ingest processor was never bound to its streaming query")
        spark = kafka.sparkSession
        context = spark.sparkContext
        group = f"{INGEST_QUERY}-{self.app_id}-{batch_id}"
        # the callback runs on the stream's own thread, whose job group (the run id) Spark uses to
        # cancel the query's jobs: it is put back after the batch
        previous = {key: context.getLocalProperty(key) for key in JOB_GROUP_PROPERTIES}
        context.setJobGroup(group, f"ingest batch {batch_id}")
        started = time.monotonic()
        # as many tasks as cores: a trigger's records are few, and each task of a stage costs
        # scheduling and, in Bronze, a file
        bronze = to_bronze(kafka.coalesce(context.defaultParallelism)).persist()
        bronze_ms = 0
        processed: list[BatchCounts] = []
        txn = delta_io.Txn(self.app_id, batch_id)

        def write_bronze() -> None:
            nonlocal bronze_ms
            # a task per cached partition, a file per ingest date each, without the shuffle an
            # optimized write would add: the batch's size is not known before its first job,
            # and a task that read every partition would compute the whole cache alone
            delta_io.append(
                bronze,
                self.lake.bronze,
                partition_by=BRONZE_PARTITIONS,
                txn=txn,
                reader=self.silver.reader,
                optimize_write=False,
            )
            bronze_ms = int((time.monotonic() - started) * 1000)

        try:
            # Silver does not wait for Bronze's commit: both appends carry the batch's marker, so
            # a batch re-run after one of them committed completes the other only
            run_together(lambda: processed.append(self.guard.process(bronze, batch_id)), write_bronze)
        finally:
            bronze.unpersist()
            for key, value in previous.items():
                context.setLocalProperty(key, value)  # type: ignore[arg-type]
        counts = processed[0]
        jobs = len(context.statusTracker().getJobIdsForGroup(group))
        facts = {
            "batch_id": batch_id,
            "input_rows": counts.input_rows,
            "spark_jobs": jobs,
            "bronze_ms": bronze_ms,
            "batch_ms": int((time.monotonic() - started) * 1000),
            "at": time.time(),
        }
        log.info("ingest batch", extra=facts)
        if self.progress is not None:
            self.progress.update(INGEST_QUERY, facts)


def start_ingest(
    spark: SparkSession,
    settings: StreamingSettings,
    catalog: BatchSchemaResolver,
    *,
    available_now: bool = False,
    progress: ProgressFile | None = None,
) -> StreamingQuery:
    """Start the Kafka → Bronze → Silver query (continuous micro-batches, or once over what is there)."""
    lake = Lake.from_settings(settings)
    ensure_bronze_table(spark, lake.bronze)
    # a micro-batch is small: adaptive execution only re-plans it after each shuffle, one more
    # Spark job a time, which made a batch about a fifth slower
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    # a micro-batch's cached rows live for one batch: compressing them costs more CPU than the
    # memory it saves (Gold's jobs, in sessions of their own, keep compressing what they cache)
    spark.conf.set("spark.sql.inMemoryColumnarStorage.compressed", "false")
    processor = IngestBatch(settings, catalog, progress)
    writer = (
        kafka_reader(spark, settings)
        .writeStream.queryName(INGEST_QUERY)
        .foreachBatch(processor)
        .option("checkpointLocation", lake.checkpoint(INGEST_QUERY))
    )
    writer = with_trigger(writer, settings, available_now=available_now)
    query = writer.start()
    processor.bind(str(query.id))
    log.info("ingest stream started", extra={"bronze": lake.bronze, "silver": lake.silver})
    return query

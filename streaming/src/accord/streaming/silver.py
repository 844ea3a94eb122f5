"""Silver: Bronze decoded, validated, deduplicated on event_id, with experiment assignments.

Each micro-batch of the Bronze stream (or each range of a backfill) goes through `SilverBatch`:
decode per writer schema, apply the rules, classify duplicates, then write, in this order,
assignments, the event-id index and Silver (a stream's batch writes these two at once),
Quarantine and the batch's counts. Every write is idempotent, so a batch
re-run after a crash leaves the same tables as one clean run.

Late events: the watermark is the latest corrected event time of earlier batches minus
`watermark_delay`. An event older than it, or received more than `watermark_delay` after it
happened, is still inserted (deduplication is against the table, not against bounded
streaming state) and flagged `is_late`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from functools import reduce
from typing import TYPE_CHECKING, Any

from accord.streaming import checkpoints, dedup, delta_io, id_index, quarantine
from accord.streaming.batch_schemas import BatchSchemaResolver, BatchSchemas, ResolvedWriter
from accord.streaming.bronze import BRONZE_SCHEMA, ensure_bronze_table
from accord.streaming.decode import CONFLICTING_DUPLICATE, Decoded, decode
from accord.streaming.errors import SchemaLookupError, StreamFailedError
from accord.streaming.experiments import EXPOSURE_TYPE, attach_experiments, record_exposures
from accord.streaming.inspect.tables import LakeReader
from accord.streaming.lake import Lake
from accord.streaming.ops import BatchCounts, last_max_event_time, record_batch
from accord.streaming.progress import ProgressFile
from accord.streaming.settings import StreamingSettings
from accord.streaming.together import run_together
from accord.streaming.triggers import with_trigger

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Row, SparkSession
    from pyspark.sql.streaming.query import StreamingQuery

log = logging.getLogger(__name__)

SILVER_QUERY = "silver"
SILVER_APP_ID = "accord-silver"
# by date only: a partition per event type and day multiplies small files; readers filter on
# event_type through file statistics (maintenance clusters files on it)
PARTITION_COLUMNS = ("event_date",)
LEADING_COLUMNS = (
    "event_id",
    "event_type",
    "subject",
    "schema_id",
    "event_time",
    "sent_at",
    "received_at",
    "event_time_corrected",
    "user_id",
    "anonymous_id",
    "session_id",
    "context",
)
TRAILING_COLUMNS = (
    "rescued_data",
    "experiments",
    "is_late",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "kafka_timestamp",
    "payload_sha256",
    "silver_batch_id",
    "processed_at",
    "event_date",
)

WORKING_COLUMNS = ("dedup_status", "kept_partition", "kept_offset", "key", "value", id_index.BUCKET_COLUMN)


def silver_columns(columns: list[str]) -> list[str]:
    """Silver's column order: envelope first, one struct per event type, then lineage."""
    own = sorted(c for c in columns if c not in LEADING_COLUMNS and c not in TRAILING_COLUMNS)
    return [*LEADING_COLUMNS, *own, *TRAILING_COLUMNS]


class SilverBatch:
    """Turns batches of Bronze rows into Silver and Quarantine rows; callable as a `foreachBatch`.

    As a stream's `foreachBatch`, it is bound to the query's id (`bind`), which names the
    sequence of batch ids for Delta's idempotent writes: a new checkpoint gets a new query id,
    so its batch ids, which start again at 0, are never mistaken for ones already written. A
    backfill is not bound; its writes are idempotent through their keys alone. With
    `overlap_writes`, a bound batch writes the event-id index and Silver at the same time.
    """

    def __init__(
        self,
        settings: StreamingSettings,
        catalog: BatchSchemaResolver,
        *,
        source: str = "stream",
        progress: ProgressFile | None = None,
        overlap_writes: bool = True,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.source = source
        self.progress = progress
        self.overlap_writes = overlap_writes
        self.lake = Lake.from_settings(settings)
        # the driver's own view of the tables (delta-rs): index lookups and commit markers
        self.reader = LakeReader.from_settings(settings)
        self.app_id: str | None = None
        self._bound = threading.Event()
        self._max_event_time: datetime | None = None
        self._loaded = False
        self._cached: list[DataFrame] = []
        self._expected_ids: set[int] = set()

    def bind(self, query_id: str) -> None:
        """Name the idempotent writes after the streaming query that runs this processor."""
        self.app_id = f"{SILVER_APP_ID}-{query_id}"
        self._bound.set()

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        # the first batch may start before `start()` has returned the query's id to `bind`
        if not self._bound.wait(timeout=60):
            raise StreamFailedError("the Silver processor was never bound to its streaming query")
        self.process(batch, batch_id)

    def _cache(self, frame: DataFrame) -> DataFrame:
        self._cached.append(frame.persist())
        return frame

    def _uncache(self, frame: DataFrame) -> None:
        frame.unpersist()
        self._cached.remove(frame)

    def _release(self) -> None:
        # newest first: a frame released while a cached frame built on it is still cached makes
        # Spark plan that one again
        for frame in reversed(self._cached):
            frame.unpersist()
        self._cached.clear()

    def wrote_silver(self, spark: SparkSession, batch_id: int) -> bool:
        """True when the stream's batch `batch_id` has committed its Silver append."""
        if self.app_id is None:
            return False
        txn = delta_io.Txn(self.app_id, batch_id)
        return delta_io.is_committed(spark, self.reader, self.lake.silver, txn)

    def watermark(self) -> datetime | None:
        """The current watermark: latest corrected event time seen minus the delay."""
        if self._max_event_time is None:
            return None
        return self._max_event_time - self.settings.watermark_delay

    def process(self, batch: DataFrame, batch_id: int) -> BatchCounts:
        """Process one batch of Bronze rows and return what became of them."""
        spark = batch.sparkSession
        started = time.monotonic()
        if not self._loaded:
            self._max_event_time = last_max_event_time(spark, self.lake.silver_batches)
            id_index.ensure(spark, self.lake.event_ids, self.lake.silver)
            self._loaded = True
        try:
            # a batch the caller cached (the ingest query's, which Bronze reads at the same time)
            # stays the caller's to release
            counts = self._process(batch if batch.is_cached else self._cache(batch), batch_id)
        finally:
            self._release()
        self._max_event_time = _later(self._max_event_time, counts.max_event_time)
        counts.duration_ms = int((time.monotonic() - started) * 1000)
        counts.finished_at = datetime.now(UTC)
        if counts.input_rows:
            record_batch(spark, self.lake.silver_batches, counts, self.app_id, self.reader)
            if self.progress is not None:
                self.progress.update(SILVER_QUERY, counts.progress_facts())
        log.info("silver batch", extra=counts.as_log())
        return counts

    def _process(self, batch: DataFrame, batch_id: int) -> BatchCounts:
        from pyspark.sql import functions as sf

        decoded, events, summary = self._decoded(batch)
        counts = BatchCounts(batch_id=batch_id, source=self.source, input_rows=sum(row.n for row in summary))
        counts.watermark = self.watermark()
        quarantined: Counter[str] = Counter()
        # the index spans of the valid events: their lowest and highest id per bucket
        spans: dict[str, tuple[str, str]] = {}
        for row in summary:
            if row.reason is not None:
                quarantined[row.reason] += row.n
                continue
            bucket = row[id_index.BUCKET_COLUMN]
            low, high = spans.get(bucket, (row.low, row.high))
            spans[bucket] = (min(low, row.low), max(high, row.high))
        rejects = [decoded.rejects]
        if events is not None:
            rejects.append(events.filter(sf.col("reason").isNotNull()))
            if spans:
                valid = events.filter(sf.col("reason").isNull()).drop("reason", "detail")
                classified = self._classify(valid, [(bucket, *span) for bucket, span in spans.items()])
                rejects.append(_conflicts(classified, decoded.rejects.columns))
                new_rows, exposures = self._count_classified(counts, classified)
                if counts.conflicting:
                    quarantined[CONFLICTING_DUPLICATE] += counts.conflicting
                if new_rows:
                    inserts = classified.filter(sf.col("dedup_status") == dedup.INSERT)
                    self._write_silver(inserts, batch_id, exposures=exposures, rows=counts.inserted)
        counts.quarantined = dict(quarantined)
        if counts.quarantined:
            quarantine.write(rejects, self.lake.quarantine)
        return counts

    def _decoded(self, batch: DataFrame) -> tuple[Decoded, DataFrame | None, list[Row]]:
        """The batch decoded with exactly the schema ids it holds, its events cached, and its summary.

        The batch is first decoded with the ids of the batch before, so that in a steady stream
        one job both reads it and summarises it. Its columns must be those of the ids it holds
        (a contract it does not carry must not add a column, or a clash, to its write): a batch
        that holds other ids is decoded again with its own, and summarised again only when it
        holds ids that were not tried. A first batch, or a batch whose guess fails to plan,
        is summarised undecoded first, which costs the same job.
        """
        from pyspark.errors import AnalysisException

        guess = sorted(self._expected_ids)
        cached = len(self._cached)
        try:
            decoded, events, summary = self._summarised(batch, guess)
        except AnalysisException:
            if not guess:
                raise
            for frame in self._cached[cached:]:
                self._uncache(frame)
            guess = []
            decoded, events, summary = self._summarised(batch, guess)
        present = sorted({row.schema_id for row in summary if row.schema_id is not None})
        if present != guess:
            if events is not None:
                self._uncache(events)
            if set(present) <= set(guess):
                decoded, events = self._decode(batch, present)
            else:
                decoded, events, summary = self._summarised(batch, present)
        self._expected_ids = set(present)
        return decoded, events, summary

    def _summarised(self, batch: DataFrame, ids: list[int]) -> tuple[Decoded, DataFrame | None, list[Row]]:
        decoded, events = self._decode(batch, ids)
        return decoded, events, _summary(events, decoded.rejects)

    def _decode(self, batch: DataFrame, ids: list[int]) -> tuple[Decoded, DataFrame | None]:
        """The batch decoded with the writers of `ids`, and its events (bucketed, cached; None: none)."""
        settings = self.settings
        decoded = decode(batch, self._schemas(ids), settings.event_time_horizon, settings.event_time_skew)
        if decoded.events is None:
            return decoded, None
        return decoded, self._cache(decoded.events.withColumn(id_index.BUCKET_COLUMN, id_index.bucket()))

    def _schemas(self, ids: list[int]) -> BatchSchemas:
        """The batch's schemas, waiting for the registry while it cannot be reached.

        The batch is held, not failed: its records must not be quarantined as unknown because
        the registry is down. After `registry_wait_s` the batch fails and the query is restarted.
        """
        deadline = time.monotonic() + self.settings.registry_wait_s
        delay = 1.0
        while True:
            try:
                return self.catalog.for_batch(ids)
            except SchemaLookupError as exc:
                if time.monotonic() + delay > deadline:
                    raise
                facts = {"error": str(exc), "retry_in_s": delay}
                log.warning("registry unreachable, batch waits", extra=facts)
                time.sleep(delay)
                delay = min(delay * 2, 30.0)

    def _classify(self, valid: DataFrame, spans: list[tuple[str, str, str]]) -> DataFrame:
        from pyspark.sql import functions as sf

        # Late means behind the stream's watermark or, before any batch has set one (the first
        # batch, a backfill from scratch), behind its own arrival by more than the watermark delay.
        delay_s = int(self.settings.watermark_delay.total_seconds())
        late = sf.col("event_time_corrected") < sf.col("received_at") - sf.expr(f"INTERVAL {delay_s} SECONDS")
        watermark = self.watermark()
        if watermark is not None:
            late = late | (sf.col("event_time_corrected") < sf.lit(watermark))
        candidates = valid.withColumns(
            {
                "payload_sha256": sf.sha2(sf.col("value"), 256),
                "event_date": sf.to_date("event_time_corrected"),
            }
        )
        kept = self._kept_copies(candidates, spans)
        return self._cache(dedup.classify(candidates, kept).withColumn("is_late", late))

    def _kept_copies(self, candidates: DataFrame, spans: list[tuple[str, str, str]]) -> DataFrame | None:
        """The copies Silver keeps of the candidates' ids, as `dedup.KEPT_SCHEMA` rows (None: none).

        An index row whose coordinates are a candidate's own was written by an earlier attempt
        of this very batch (or by the stream, for a backfill). The index is written before
        Silver, so such a row counts only when Silver holds it too; otherwise the attempt died
        in between and the record is inserted now.
        """
        dataset = id_index.dataset_for(self.reader, self.lake.event_ids, spans)
        if dataset is None:
            return None
        # some index file can hold one of the ids: the batch's ids come to the driver to ask it
        batch = candidates.select("event_id", *dedup.COORDINATES).toArrow()
        own: dict[str, set[tuple[str, int, int]]] = {}
        for row in batch.to_pylist():
            own.setdefault(row["event_id"], set()).add(_coordinates(row))
        rows = id_index.rows_for(dataset, spans, batch.column("event_id"))
        matches = {tuple(row[c] for c in id_index.COLUMNS): row for row in rows.to_pylist()}
        if not matches:
            return None
        spark = candidates.sparkSession
        own_rows = [row for row in matches.values() if _coordinates(row) in own.get(row["event_id"], set())]
        in_silver = self._in_silver(spark, own_rows) if own_rows else set()
        kept: dict[str, tuple[str, str, str, int, int]] = {}
        for row in matches.values():
            coordinates = _coordinates(row)
            if coordinates in own.get(row["event_id"], set()) and coordinates not in in_silver:
                continue
            kept.setdefault(row["event_id"], (row["event_id"], row["payload_sha256"], *coordinates))
        if not kept:
            return None
        return spark.createDataFrame(list(kept.values()), dedup.KEPT_SCHEMA)

    def _in_silver(self, spark: SparkSession, rows: list[dict[str, Any]]) -> set[tuple[str, int, int]]:
        """The Kafka coordinates of `rows` (index rows) that Silver holds, read from their dates only."""
        from pyspark.sql import functions as sf

        silver = delta_io.load_if_exists(spark, self.lake.silver)
        if silver is None:
            return set()
        dates = sorted({row["event_date"] for row in rows})
        wanted = spark.createDataFrame(
            [_coordinates(row) for row in rows],
            "kafka_topic string, kafka_partition int, kafka_offset long",
        )
        found = (
            silver.filter(sf.col("event_date").isin(dates))
            .select(*dedup.COORDINATES)
            .join(sf.broadcast(wanted), list(dedup.COORDINATES))
            .collect()
        )
        return {(r.kafka_topic, r.kafka_partition, r.kafka_offset) for r in found}

    def _count_classified(self, counts: BatchCounts, classified: DataFrame) -> tuple[bool, bool]:
        """Fill `counts` from the classified rows; say whether there are new rows, and new exposures."""
        from pyspark.sql import functions as sf

        summary = classified.groupBy("dedup_status").agg(
            sf.max((sf.col("event_type") == EXPOSURE_TYPE).cast("int")).alias("exposures"),
            sf.count("*").alias("n"),
            sf.sum(sf.col("is_late").cast("long")).alias("late"),
            sf.max("event_time_corrected").alias("max_time"),
            sf.max("received_at").alias("max_received"),
        )
        exposures = new_rows = False
        for row in summary.collect():
            if row.dedup_status in (dedup.INSERT, dedup.KEPT):
                counts.inserted += row.n
                counts.late += int(row.late or 0)
            elif row.dedup_status == dedup.DUPLICATE:
                counts.duplicates = row.n
            else:
                counts.conflicting = row.n
            counts.max_event_time = _later(counts.max_event_time, row.max_time)
            if row.dedup_status == dedup.INSERT:
                counts.max_received_at = row.max_received
                exposures, new_rows = bool(row.exposures), True
        return new_rows, exposures

    def empty_rows(self, spark: SparkSession) -> DataFrame | None:
        """Silver's rows of an empty batch under the contracts registered now (None: no contract).

        An empty Bronze frame goes through the same steps as a batch, so a table created from
        it has exactly the columns and types the stream's first write brings.
        """
        from pyspark.errors import AnalysisException
        from pyspark.sql import functions as sf

        settings = self.settings
        bronze = spark.createDataFrame([], BRONZE_SCHEMA)

        def decoded(by_subject: dict[str, list[ResolvedWriter]]) -> DataFrame | None:
            schemas = BatchSchemas(by_subject=by_subject, unknown={})
            return decode(bronze, schemas, settings.event_time_horizon, settings.event_time_skew).events

        typed = {}
        for subject, writers in self.catalog.registered_events().by_subject.items():
            # a contract Spark cannot decode (an envelope without Accord's fields) fails the
            # batches that carry it; it is no column of the table created here
            try:
                decoded({subject: writers})
            except AnalysisException as exc:
                facts = {"subject": subject, "error": str(exc)}
                log.warning("contract left out of the empty silver", extra=facts)
                continue
            typed[subject] = writers
        events = decoded(typed) if typed else None
        if events is None:
            return None
        valid = (
            events.withColumn(id_index.BUCKET_COLUMN, id_index.bucket())
            .filter(sf.col("reason").isNull())
            .drop("reason", "detail")
        )
        try:
            classified = self._classify(valid, spans=[])
        finally:
            self._release()
        inserts = _stamped(classified.filter(sf.col("dedup_status") == dedup.INSERT), batch_id=0)
        return self._silver_rows(inserts, any_assignment=False)

    def _silver_rows(self, inserts: DataFrame, *, any_assignment: bool) -> DataFrame:
        """Stamped inserts as Silver rows: experiments attached, Silver's columns in its order."""
        rows = attach_experiments(
            inserts.sparkSession, self.lake.assignments, inserts, any_assignment=any_assignment
        ).drop(*WORKING_COLUMNS)
        return rows.select(*silver_columns(rows.columns))

    def _write_silver(self, inserts: DataFrame, batch_id: int, *, exposures: bool, rows: int) -> None:
        inserts = _stamped(inserts, batch_id)
        if exposures:
            record_exposures(inserts.sparkSession, self.lake.assignments, inserts)
        assignments = self.reader.latest(self.lake.assignments)
        # a file count from the driver's view of the log, so a lake without experiments joins nothing
        any_assignment = assignments is not None and bool(assignments.file_uris())
        silver_rows = self._silver_rows(inserts, any_assignment=any_assignment)
        txn = delta_io.Txn(self.app_id, batch_id) if self.app_id else None
        tasks = delta_io.write_tasks(inserts.sparkSession, rows, self.settings.write_task_rows)

        def index() -> None:
            id_index.add(inserts, self.lake.event_ids, txn=txn, reader=self.reader, tasks=tasks)

        def append() -> None:
            # classification already checked every row against the index, so a plain append
            # suffices; the stream's txn makes a re-run of a committed batch a no-op. A stream
            # batch is written without a shuffle, a file per date and task; a backfill's range
            # can be large, and an optimized write spreads it over the cores
            delta_io.append(
                silver_rows.coalesce(tasks) if txn is not None else silver_rows,
                self.lake.silver,
                partition_by=PARTITION_COLUMNS,
                txn=txn,
                reader=self.reader,
                optimize_write=txn is None,
            )

        if txn is not None and self.overlap_writes:
            # a stream's batch writes both at once: index rows without Silver's are recognised
            # as below, and a Silver commit without the index's is found by its marker, so the
            # re-run appends the index only
            run_together(append, index)
        else:
            # a backfill's Silver append has no marker, and a part of a split batch may be split
            # again under identities of its own: the index goes first, so a failure between the
            # two leaves index rows that Silver lacks, which the next attempt recognises as its
            # own (see `_kept_copies`) and writes to Silver then
            index()
            append()


def ensure_silver(spark: SparkSession, settings: StreamingSettings, catalog: BatchSchemaResolver) -> None:
    """Create Silver and its event-id index empty when the lake has no Silver yet.

    Silver gets a column per event type registered now; a type registered later is added by
    its first write, as schema evolution adds any; so is a contract Spark cannot decode. With
    no contract registered, the registry unreachable or contracts that clash in one column,
    Silver is left to its first write, and the start goes on.
    """
    from pyspark.errors import AnalysisException

    lake = Lake.from_settings(settings)
    if not delta_io.table_exists(spark, lake.silver):
        try:
            rows = SilverBatch(settings, catalog).empty_rows(spark)
        except SchemaLookupError as exc:
            log.warning("silver left to its first write: registry unreachable", extra={"error": str(exc)})
        except AnalysisException as exc:
            # contracts whose columns clash fail the batches that carry them, never the start
            log.warning("silver left to its first write: contracts clash", extra={"error": str(exc)})
        else:
            if rows is None:
                log.info("silver left to its first write: no event contract is registered")
            else:
                properties = checkpoints.creation_properties(settings, lake.silver)
                delta_io.append(rows, lake.silver, partition_by=PARTITION_COLUMNS, properties=properties)
                log.info("empty table created", extra={"table": lake.silver})
    id_index.ensure(
        spark, lake.event_ids, lake.silver, checkpoints.creation_properties(settings, lake.event_ids)
    )


def _stamped(inserts: DataFrame, batch_id: int) -> DataFrame:
    """The rows to insert with the batch that wrote them and when."""
    from pyspark.sql import functions as sf

    return inserts.withColumns(
        {"silver_batch_id": sf.lit(batch_id).cast("long"), "processed_at": sf.current_timestamp()}
    )


def _coordinates(index_row: dict[str, Any]) -> tuple[str, int, int]:
    return (index_row["kafka_topic"], index_row["kafka_partition"], index_row["kafka_offset"])


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _summary(events: DataFrame | None, rejects: DataFrame) -> list[Row]:
    """One job's account of a decoded batch: rows per reason and schema id, with the events' id spans.

    Valid and broken events are grouped by reason, schema id and index bucket (`low`/`high`:
    their lowest and highest event id); rejects by reason and schema id, with null spans.
    """
    from pyspark.sql import functions as sf

    spanless = {
        id_index.BUCKET_COLUMN: sf.lit(None).cast("string"),
        "low": sf.lit(None).cast("string"),
        "high": sf.lit(None).cast("string"),
    }
    parts = [rejects.groupBy("reason", "schema_id").agg(sf.count("*").alias("n")).withColumns(spanless)]
    if events is not None:
        parts.append(
            events.groupBy("reason", "schema_id", id_index.BUCKET_COLUMN).agg(
                sf.min("event_id").alias("low"), sf.max("event_id").alias("high"), sf.count("*").alias("n")
            )
        )
    return reduce(lambda a, b: a.unionByName(b), parts).collect()


def _conflicts(classified: DataFrame, raw_columns: list[str]) -> DataFrame:
    """Conflicting duplicates as Quarantine rows, naming the record that holds the kept copy."""
    from pyspark.sql import functions as sf

    return classified.filter(sf.col("dedup_status") == dedup.CONFLICTING).select(
        *[c for c in raw_columns if c not in ("reason", "detail", "event_id")],
        sf.lit(CONFLICTING_DUPLICATE).alias("reason"),
        sf.format_string(
            "event_id %s is already kept (partition %s, offset %s) with a different payload",
            sf.col("event_id"),
            sf.col("kept_partition"),
            sf.col("kept_offset"),
        ).alias("detail"),
        "event_id",
    )


def start_silver(
    spark: SparkSession,
    settings: StreamingSettings,
    catalog: BatchSchemaResolver,
    *,
    available_now: bool = False,
    progress: ProgressFile | None = None,
) -> StreamingQuery:
    """Start the Bronze → Silver query: `SilverBatch` over each micro-batch of new Bronze rows."""
    lake = Lake.from_settings(settings)
    ensure_bronze_table(spark, lake.bronze)
    reader = spark.readStream.format("delta")
    if settings.max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", str(settings.max_files_per_trigger))
    processor = SilverBatch(settings, catalog, progress=progress)
    writer = (
        reader.load(lake.bronze)
        .writeStream.queryName(SILVER_QUERY)
        .foreachBatch(processor)
        .option("checkpointLocation", lake.checkpoint(SILVER_QUERY))
    )
    writer = with_trigger(writer, settings, available_now=available_now)
    query = writer.start()
    processor.bind(str(query.id))
    log.info("silver stream started", extra={"table": lake.silver, "source": lake.bronze})
    return query

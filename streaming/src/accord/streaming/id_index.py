"""The event-id index: one small row per event kept in Silver, laid out so a lookup costs the batch.

Deduplication asks, for each id of a micro-batch, whether an earlier record holds it. Asking
Silver itself reads every file of the table; the index answers from a few files instead:

- it is partitioned by `id_bucket`. A UUIDv7 id carries its creation time in its first 48
  bits, so its bucket is the UTC day of that time (`v7-2026-12-01`). Any other id (a client may
  make its own v4 ids) goes to one of 256 buckets named after its first byte (`hex-3f`), so such
  ids never spread over the time buckets;
- a lookup is filtered, per bucket the batch touches, to that bucket and to the range
  [smallest id, largest id] of the batch's ids in it. Partition pruning drops every other
  bucket; within a v7 bucket, Delta's per-file statistics on `event_id` drop the files written
  at other times of the day, because v7 ids sort by time. An event resent days later reads only
  its own day's bucket, near its own time. The lookup runs in the driver with delta-rs (see
  `dataset_for`), so its cost follows the files a batch can hit, not the table.

Each row also names the Silver row it stands for (Kafka coordinates and `event_date`), so a
match that is the very record being processed can be checked against Silver cheaply (see
`accord.streaming.silver`).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from functools import reduce
from typing import TYPE_CHECKING

from accord.streaming import delta_io

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    from pyspark.sql import Column, DataFrame, SparkSession

    from accord.streaming.inspect.tables import LakeReader

BUCKET_COLUMN = "id_bucket"
COLUMNS = (
    "event_id",
    "payload_sha256",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "event_date",
    BUCKET_COLUMN,
)
KEYS = ("kafka_topic", "kafka_partition", "kafka_offset")
MS_PER_DAY = 86_400_000


def bucket(event_id: str = "event_id") -> Column:
    """The index bucket of an id: the UTC day of a UUIDv7's timestamp, else `hex-` + its first byte."""
    from pyspark.sql import functions as sf

    lowered = sf.lower(sf.col(event_id))
    is_v7 = (sf.substring(lowered, 15, 1) == sf.lit("7")) & sf.substring(lowered, 20, 1).isin(
        "8", "9", "a", "b"
    )
    # 48 bits of milliseconds fit a long (at most year 10889), so neither conv nor the division can overflow
    millis = sf.conv(sf.concat(sf.substring(lowered, 1, 8), sf.substring(lowered, 10, 4)), 16, 10).cast(
        "long"
    )
    day = sf.date_from_unix_date(sf.floor(millis / sf.lit(MS_PER_DAY)).cast("int"))
    return (
        sf.when(is_v7, sf.concat(sf.lit("v7-"), sf.date_format(day, "yyyy-MM-dd")))
        .otherwise(sf.concat(sf.lit("hex-"), sf.substring(lowered, 1, 2)))
        .alias(BUCKET_COLUMN)
    )


def dataset_for(reader: LakeReader, path: str, spans: list[tuple[str, str, str]]) -> ds.Dataset | None:
    """The index as a dataset, when one of its files can hold an id of the spans; else None.

    `spans` are (bucket, smallest id, largest id) of a batch's ids, one per bucket they touch.
    The index is read by delta-rs in the driver: its log is followed commit by commit, and each
    file's partition and `event_id` range decide whether it is read at all, without a Spark job.
    A batch of new UUIDv7 ids usually finds no file, since every indexed id is older.
    """
    table = reader.latest(path)
    if table is None or not spans:
        return None
    dataset = table.to_pyarrow_dataset()
    if next(iter(dataset.get_fragments(filter=_span_filter(spans))), None) is None:
        return None
    return dataset


def rows_for(dataset: ds.Dataset, spans: list[tuple[str, str, str]], ids: pa.Array) -> pa.Table:
    """The index rows (`COLUMNS`) of `ids`, read only from the files of the spans."""
    import pyarrow.dataset as pads

    wanted = _span_filter(spans) & pads.field("event_id").isin(ids)
    return dataset.to_table(columns=list(COLUMNS), filter=wanted)


def _span_filter(spans: list[tuple[str, str, str]]) -> ds.Expression:
    import pyarrow.dataset as pads

    event_id, bucket_of = pads.field("event_id"), pads.field(BUCKET_COLUMN)
    conditions = [(bucket_of == name) & (event_id >= low) & (event_id <= high) for name, low, high in spans]
    return reduce(operator.or_, conditions)


def add(rows: DataFrame, path: str, *, txn: delta_io.Txn | None, reader: LakeReader, tasks: int = 1) -> None:
    """Index Silver rows just written (`rows` has the `COLUMNS`), once per `txn`, in `tasks` tasks.

    Without a `txn` (a backfill) rows whose Kafka coordinates are indexed already are skipped.
    """
    frame = rows.select(*COLUMNS)
    if txn is None:
        delta_io.insert_new(frame, path, KEYS, partition_by=(BUCKET_COLUMN,))
    else:
        # a file per bucket and task, without an optimized write's shuffle
        delta_io.append(
            frame.coalesce(tasks),
            path,
            partition_by=(BUCKET_COLUMN,),
            txn=txn,
            reader=reader,
            optimize_write=False,
        )


def ensure(
    spark: SparkSession, path: str, silver_path: str, properties: Mapping[str, str] | None = None
) -> None:
    """Build the index (a table with `properties`) from Silver when a lake written before has none."""
    if delta_io.table_exists(spark, path):
        return
    silver = delta_io.load_if_exists(spark, silver_path)
    if silver is not None:
        rows = silver.withColumn(BUCKET_COLUMN, bucket()).select(*COLUMNS)
        delta_io.append(rows, path, partition_by=(BUCKET_COLUMN,), properties=properties)

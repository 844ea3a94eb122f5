"""In which micro-batch each of the stream's tables writes its Delta checkpoint.

Delta writes a table's checkpoint inside the commit whose version is a multiple of the table's
`delta.checkpointInterval`, after rebuilding the table's state: the slowest commits of all. The
stream commits to Bronze, Silver, the event-id index and the batch counts once per micro-batch,
so tables created together keep equal versions, and with one interval all four checkpointed in
the same batch, seconds slower than its neighbours. Each gets an interval of its own instead:
`ACCORD_LAKE_CHECKPOINT_INTERVAL`, then steps of a tenth of it, so their checkpoints fall in
different batches.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from accord.streaming.inspect.tables import LakeReader
from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

INTERVAL_PROPERTY = "delta.checkpointInterval"


def stream_intervals(settings: StreamingSettings) -> dict[str, int]:
    """The checkpoint interval of each table the stream appends to in every batch, by path."""
    lake = Lake.from_settings(settings)
    base = settings.lake_checkpoint_interval
    step = max(1, base // 10)
    tables = (lake.bronze, lake.silver, lake.event_ids, lake.silver_batches)
    return {path: base + rank * step for rank, path in enumerate(tables)}


def creation_properties(settings: StreamingSettings, path: str) -> dict[str, str]:
    """The table properties the table at `path` is created with."""
    interval = stream_intervals(settings).get(path, settings.lake_checkpoint_interval)
    return {INTERVAL_PROPERTY: str(interval)}


def keep_intervals(spark: SparkSession, settings: StreamingSettings) -> None:
    """Give each existing stream table its interval where it has another one.

    A lake written before, or a changed `ACCORD_LAKE_CHECKPOINT_INTERVAL`, gets the intervals at
    the stream's start, before its queries write: a property change is a metadata commit, which
    fails the appends committed beside it.
    """
    # the table's properties from its log, read by delta-rs: no Spark job at each start
    reader = LakeReader.from_settings(settings)
    for path, interval in stream_intervals(settings).items():
        table = reader.table(path)
        if table is None:
            continue
        current = table.metadata().configuration.get(INTERVAL_PROPERTY)
        if current == str(interval):
            continue
        spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ('{INTERVAL_PROPERTY}' = '{interval}')")
        log.info("checkpoint interval set", extra={"table": path, "interval": interval, "was": current})

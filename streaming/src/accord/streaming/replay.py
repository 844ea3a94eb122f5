"""Replay: Kafka records from chosen offsets into Bronze, adding only the offsets Bronze lacks.

Idempotent: Bronze is keyed by (topic, partition, offset), so a second replay of the same range
adds nothing. The Silver stream picks up whatever a replay added, like any new Bronze row.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from accord.streaming import delta_io
from accord.streaming.bronze import ensure_bronze_table, kafka_options, to_bronze
from accord.streaming.errors import InvalidRangeError
from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

BRONZE_KEYS = ("topic", "partition", "offset")


def offsets_option(topic: str, offsets: str, *, ending: bool) -> str:
    """`earliest`/`latest`, or a `{"<partition>": <offset>}` JSON object, as the Kafka source wants it."""
    if offsets in ("earliest", "latest"):
        if ending and offsets == "earliest":
            raise InvalidRangeError("a replay cannot end at `earliest`")
        return offsets
    try:
        by_partition = {str(int(p)): int(o) for p, o in json.loads(offsets).items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise InvalidRangeError(
            f"offsets must be `earliest`, `latest` or a JSON object such as '{{\"0\": 42}}', not {offsets!r}"
        ) from exc
    return json.dumps({topic: by_partition})


def replay(
    spark: SparkSession, settings: StreamingSettings, start: str = "earliest", end: str = "latest"
) -> int:
    """Copy the topic's records in [start, end) into Bronze when missing; returns how many were added."""
    from delta.tables import DeltaTable

    lake = Lake.from_settings(settings)
    ensure_bronze_table(spark, lake.bronze)
    topic = settings.events_topic
    records = (
        spark.read.format("kafka")
        .options(**kafka_options(settings))
        .option("startingOffsets", offsets_option(topic, start, ending=False))
        .option("endingOffsets", offsets_option(topic, end, ending=True))
        .load()
    )
    table = DeltaTable.forPath(spark, lake.bronze)
    before = table.history(1).collect()[0]["version"]
    delta_io.insert_new(to_bronze(records), lake.bronze, BRONZE_KEYS, partition_by=("ingest_date",))
    last = table.history(1).collect()[0]
    # a MERGE that inserts nothing commits nothing
    added = (
        int((last["operationMetrics"] or {}).get("numTargetRowsInserted", 0))
        if last["version"] > before
        else 0
    )
    log.info("replay done", extra={"start": start, "end": end, "added": added})
    return added

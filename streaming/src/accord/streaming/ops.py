"""Counts per Silver batch, in the small Delta table `_ops/silver_batches`.

They feed the progress logs, `accord status` and the ledger that reconciles
Bronze = Silver + Quarantine + duplicates removed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from accord.streaming import delta_io

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from accord.streaming.inspect.tables import LakeReader

SCHEMA = (
    "batch_id long, source string, input_rows long, inserted long, duplicates long, conflicting long, "
    "late long, quarantined map<string,long>, watermark timestamp, max_event_time timestamp, "
    "max_received_at timestamp, "
    "duration_ms long, finished_at timestamp"
)


@dataclass
class BatchCounts:
    """What one Silver batch did with its Bronze rows.

    `input_rows` = `inserted` + `duplicates` + sum of `quarantined` (which includes `conflicting`).
    """

    batch_id: int
    source: str
    input_rows: int = 0
    inserted: int = 0
    duplicates: int = 0
    conflicting: int = 0
    late: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    watermark: datetime | None = None
    max_event_time: datetime | None = None
    max_received_at: datetime | None = None
    duration_ms: int = 0
    finished_at: datetime | None = None

    def as_log(self) -> dict[str, Any]:
        """The counts as `extra` fields of a log record."""
        fields = asdict(self)
        fields["freshness_s"] = self.freshness_s()
        fields["rows_per_s"] = (
            round(self.input_rows / (self.duration_ms / 1000), 1) if self.duration_ms else None
        )
        return fields

    def progress_facts(self) -> dict[str, Any]:
        """What the progress file (and so `accord status` and the metrics endpoint) records of it."""
        return {
            "finished_at": self.finished_at.timestamp() if self.finished_at else None,
            "freshness_s": self.freshness_s(),
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "late": self.late,
            "quarantined": dict(self.quarantined),
            "max_received_at": _utc(self.max_received_at).timestamp() if self.max_received_at else None,
        }

    def freshness_s(self) -> float | None:
        """Seconds from the newest event's reception to the end of the batch that wrote it."""
        if self.max_received_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - _utc(self.max_received_at)).total_seconds(), 3)


def _utc(moment: datetime) -> datetime:
    """Spark hands timestamps back naive, in the session's time zone, which is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def last_max_event_time(spark: SparkSession, path: str) -> datetime | None:
    """The latest corrected event time any recorded batch saw (the watermark's base), or None."""
    batches = delta_io.load_if_exists(spark, path)
    if batches is None:
        return None
    row = batches.agg({"max_event_time": "max"}).first()
    return None if row is None else row[0]


def record_batch(
    spark: SparkSession, path: str, counts: BatchCounts, app_id: str | None, reader: LakeReader
) -> None:
    """Append the counts of a batch, once per (app_id, batch_id) when `app_id` is given."""
    row = asdict(counts)
    frame = spark.createDataFrame([tuple(row[name.split()[0]] for name in SCHEMA.split(", "))], SCHEMA)
    txn = delta_io.Txn(app_id, counts.batch_id) if app_id else None
    # one row makes one file without the shuffle of an optimized write, a Spark job per batch
    delta_io.append(frame, path, txn=txn, reader=reader, optimize_write=False)

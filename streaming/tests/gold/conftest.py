"""Silver-shaped Delta tables for the Gold tests, written with the real Spark session."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SILVER_DDL = (
    "event_id string, event_type string, subject string, schema_id int, event_time timestamp, "
    "sent_at timestamp, received_at timestamp, event_time_corrected timestamp, user_id string, "
    "anonymous_id string, session_id string, "
    "experiment_exposure struct<experiment_id: string, variant: string>, "
    "purchase struct<order_id: string, amount: decimal(12,2), currency: string>, "
    "conversion struct<name: string, value: decimal(12,2)>, "
    "experiments map<string,string>, is_late boolean, kafka_topic string, kafka_partition int, "
    "kafka_offset long, processed_at timestamp, event_date date"
)

T0 = datetime(2026, 3, 2, 9, 0, 0)
_offsets = itertools.count()


def silver_event(
    event_type: str,
    user: str,
    at: datetime,
    *,
    variant: str | None = None,
    experiment: str = "new_checkout",
    amount: str | None = None,
    name: str | None = None,
    late: bool = False,
    anonymous: bool = False,
) -> dict[str, Any]:
    """One Silver row as the Silver job writes it (only the columns Gold reads are filled)."""
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "subject": f"events-accord.events.{event_type}",
        "schema_id": 1,
        "event_time": at,
        "sent_at": at,
        "received_at": at + (timedelta(hours=30) if late else timedelta(seconds=1)),
        "event_time_corrected": at,
        "user_id": None if anonymous else user,
        "anonymous_id": user if anonymous else None,
        "session_id": None,
        "experiment_exposure": {"experiment_id": experiment, "variant": variant} if variant else None,
        "purchase": {"order_id": str(uuid.uuid4()), "amount": Decimal(amount), "currency": "EUR"}
        if event_type == "purchase" and amount
        else None,
        "conversion": {"name": name, "value": Decimal(amount) if amount else None} if name else None,
        "experiments": {},
        "is_late": late,
        "kafka_topic": "events",
        "kafka_partition": 0,
        "kafka_offset": next(_offsets),
        "processed_at": at,
        "event_date": at.date(),
    }


SilverWriter = Callable[..., None]


@pytest.fixture
def lake(spark_settings: StreamingSettings, tmp_path: Path) -> Lake:
    """A fresh, empty lake for one test."""
    return Lake.from_settings(spark_settings.model_copy(update={"lake_uri": str(tmp_path / "lake")}))


@pytest.fixture
def write_silver(spark: SparkSession, lake: Lake) -> SilverWriter:
    """Append rows to the test lake's Silver table, partitioned as the Silver job partitions it."""

    def write(rows: Iterable[dict[str, Any]], without: tuple[str, ...] = ()) -> None:
        """`without`: event-type columns Silver does not have yet (no such event arrived)."""
        frame = spark.createDataFrame(list(rows), SILVER_DDL).drop(*without)
        frame.write.format("delta").mode("append").partitionBy("event_date", "event_type").save(lake.silver)

    return write

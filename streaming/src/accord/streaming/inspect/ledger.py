"""The counts ledger: per hour of receipt, what every stage holds, and whether the counts reconcile.

Each Bronze record is classified by its Kafka coordinates: the Silver row written from it, a
Quarantine row, or a duplicate (its `accord.event_id` header names an event Silver kept from
another record). A record that is none of these is *unexplained*, which the ledger reports
instead of assuming it away. An hour reconciles when

    accepted (gateway) = Bronze = Silver + Quarantine + duplicates removed, unexplained = 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from accord.streaming.delta_io import load_if_exists, read_table
from accord.streaming.framing import header_text
from accord.streaming.inspect.gateway_stats import GatewayHour
from accord.streaming.lake import Lake
from accord.wire.headers import EVENT_ID as EVENT_ID_HEADER

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass
class LedgerHour:
    """The counts of one hour of receipt (gateway clock, UTC; None for records without that header)."""

    hour: datetime | None
    bronze: int = 0
    silver: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    duplicates_removed: int = 0
    unexplained: int = 0
    late: int = 0
    accepted: int | None = None
    gateway_duplicates: int | None = None
    rejected: int | None = None
    kafka: int | None = None

    @property
    def quarantine(self) -> int:
        """Quarantined records, every reason together."""
        return sum(self.quarantined.values())

    @property
    def reconciles(self) -> bool:
        """accepted = Bronze = Silver + Quarantine + duplicates removed, nothing unexplained."""
        stages_agree = self.bronze == self.silver + self.quarantine + self.duplicates_removed
        gateway_agrees = self.accepted is None or self.accepted == self.bronze
        return stages_agree and gateway_agrees and self.unexplained == 0


@dataclass
class Ledger:
    """Every hour of the ledger, oldest first, and their total."""

    hours: list[LedgerHour]

    @property
    def total(self) -> LedgerHour:
        """The sum of every hour (gateway and Kafka columns only when every hour has them)."""
        total = LedgerHour(hour=None)
        quarantined: dict[str, int] = defaultdict(int)
        for hour in self.hours:
            total.bronze += hour.bronze
            total.silver += hour.silver
            total.duplicates_removed += hour.duplicates_removed
            total.unexplained += hour.unexplained
            total.late += hour.late
            for reason, n in hour.quarantined.items():
                quarantined[reason] += n
        total.quarantined = dict(quarantined)
        for column in ("accepted", "gateway_duplicates", "rejected", "kafka"):
            values = [getattr(hour, column) for hour in self.hours]
            if values and all(v is not None for v in values):
                setattr(total, column, sum(values))
        return total

    @property
    def reconciles(self) -> bool:
        """True when every hour reconciles."""
        return all(hour.reconciles for hour in self.hours)


def _hour(column: str) -> str:
    return f"date_trunc('HOUR', {column})"


def _classified_bronze(bronze: DataFrame, silver: DataFrame, quarantine: DataFrame | None) -> DataFrame:
    """Bronze records with their hour and what became of them: silver, quarantine, duplicate or none."""
    from pyspark.sql import functions as sf

    records = bronze.select(
        sf.col("topic"),
        sf.col("partition"),
        sf.col("offset"),
        sf.expr(_hour("received_at")).alias("hour"),
        header_text(EVENT_ID_HEADER).alias("event_id"),
    )
    in_silver = silver.select(
        sf.col("kafka_topic").alias("topic"),
        sf.col("kafka_partition").alias("partition"),
        sf.col("kafka_offset").alias("offset"),
        sf.lit(True).alias("in_silver"),
    ).dropDuplicates(["topic", "partition", "offset"])
    classified = records.join(in_silver, ["topic", "partition", "offset"], "left")
    if quarantine is not None:
        in_quarantine = quarantine.select(
            sf.col("kafka_topic").alias("topic"),
            sf.col("kafka_partition").alias("partition"),
            sf.col("kafka_offset").alias("offset"),
            sf.lit(True).alias("in_quarantine"),
        ).dropDuplicates(["topic", "partition", "offset"])
        classified = classified.join(in_quarantine, ["topic", "partition", "offset"], "left")
    else:
        classified = classified.withColumn("in_quarantine", sf.lit(None).cast("boolean"))
    kept_ids = silver.select("event_id", sf.lit(True).alias("id_kept")).dropDuplicates(["event_id"])
    classified = classified.join(kept_ids, "event_id", "left")
    return classified.select(
        "hour",
        sf.when(sf.col("in_silver") & sf.col("in_quarantine"), "both")
        .when(sf.col("in_silver"), "silver")
        .when(sf.col("in_quarantine"), "quarantine")
        .when(sf.col("id_kept"), "duplicate")
        .otherwise("unexplained")
        .alias("fate"),
    )


def compute_ledger(
    spark: SparkSession,
    lake: Lake,
    gateway: Mapping[datetime, GatewayHour] | None = None,
    kafka: Mapping[datetime, int] | None = None,
) -> Ledger:
    """The ledger of the lake, with the gateway's and Kafka's counts per hour when given.

    Raises:
        TableNotFoundError: Bronze or Silver does not exist yet.
    """
    from pyspark.sql import functions as sf

    bronze = read_table(spark, lake.bronze)
    silver = read_table(spark, lake.silver)
    quarantine = load_if_exists(spark, lake.quarantine)

    hours: dict[datetime | None, LedgerHour] = {}

    def at(hour: datetime | None) -> LedgerHour:
        return hours.setdefault(hour, LedgerHour(hour=hour))

    for row in _classified_bronze(bronze, silver, quarantine).groupBy("hour", "fate").count().collect():
        entry = at(row["hour"])
        entry.bronze += row["count"]
        if row["fate"] == "duplicate":
            entry.duplicates_removed += row["count"]
        elif row["fate"] in ("unexplained", "both"):
            entry.unexplained += row["count"]
    # Silver and Quarantine are counted directly, so a record written twice shows as a mismatch
    silver_hours = silver.groupBy(sf.expr(_hour("received_at")).alias("hour")).agg(
        sf.count("*").alias("rows"), sf.sum(sf.col("is_late").cast("long")).alias("late")
    )
    for row in silver_hours.collect():
        entry = at(row["hour"])
        entry.silver, entry.late = row["rows"], row["late"] or 0
    if quarantine is not None:
        per_reason = quarantine.groupBy(sf.expr(_hour("received_at")).alias("hour"), "reason").count()
        for row in per_reason.collect():
            at(row["hour"]).quarantined[row["reason"]] = row["count"]
    for hour, counts in (gateway or {}).items():
        entry = at(hour)
        entry.accepted, entry.gateway_duplicates, entry.rejected = (
            counts.accepted,
            counts.duplicates,
            counts.rejected,
        )
    if gateway is not None:
        for entry in hours.values():
            if entry.accepted is None:
                entry.accepted, entry.gateway_duplicates, entry.rejected = 0, 0, 0
    for hour, n in (kafka or {}).items():
        at(hour).kafka = n
    return Ledger(hours=[hours[h] for h in sorted(hours, key=lambda h: (h is None, h or datetime.min))])

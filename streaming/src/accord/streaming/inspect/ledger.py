"""The counts ledger: per hour of receipt, what every stage holds, and whether the counts reconcile.

Each Bronze record is classified by its Kafka coordinates: the Silver row written from it, a
Quarantine row, or a duplicate (its `accord.event_id` header names an event Silver kept from
another record). A record that is none of these is *unexplained*, which the ledger reports
instead of assuming it away. A record without the gateway's
receipt header was produced *directly* to Kafka (say by a Confluent serializer): its hour is
its Kafka timestamp's, and the gateway never counted it. An hour reconciles when

    accepted (gateway) = Bronze - direct, Bronze = Silver + Quarantine + duplicates removed,
    unexplained = 0.

The tables are read with delta-rs (`accord.streaming.inspect.tables`), only the columns the
counts need, and counted with pyarrow: no JVM starts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from accord.streaming.inspect.gateway_stats import GatewayHour
from accord.streaming.inspect.tables import LakeReader, header_values
from accord.wire.headers import EVENT_ID as EVENT_ID_HEADER

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class LedgerHour:
    """The counts of one hour of receipt (gateway clock, UTC; None for records without that header)."""

    hour: datetime | None
    bronze: int = 0
    silver: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    duplicates_removed: int = 0
    unexplained: int = 0
    direct: int = 0
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
        """accepted = Bronze - direct, Bronze = Silver + Quarantine + duplicates removed, nothing
        unexplained."""
        stages_agree = self.bronze == self.silver + self.quarantine + self.duplicates_removed
        gateway_agrees = self.accepted is None or self.accepted == self.bronze - self.direct
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
            total.direct += hour.direct
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


def hour_of(times: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """The UTC hour each timestamp falls in, naive (as the gateway's hours are)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.floor_temporal(times, unit="hour").cast(pa.timestamp("us"))


def _marked(rows: pa.Table, coordinates: tuple[str, str, str], flag: str) -> pa.Table:
    """The distinct Kafka coordinates of `rows`, named as Bronze names them, with `flag` true."""
    import pyarrow as pa

    names = ["topic", "partition", "offset"]
    distinct = rows.select(list(coordinates)).rename_columns(names).group_by(names).aggregate([])
    return distinct.append_column(flag, pa.repeat(True, distinct.num_rows))


def _classified_bronze(bronze: pa.Table, silver: pa.Table, quarantine: pa.Table | None) -> pa.Table:
    """Per Bronze record: its hour, whether it came directly, and what became of it (its fate)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    coordinates = ("kafka_topic", "kafka_partition", "kafka_offset")
    received = pc.coalesce(bronze["received_at"], bronze["kafka_timestamp"])
    records = pa.table(
        {
            "row": pa.array(range(bronze.num_rows), pa.int64()),
            "topic": bronze["topic"],
            "partition": bronze["partition"],
            "offset": bronze["offset"],
            "hour": hour_of(received),
            "direct": pc.is_null(bronze["received_at"]),
        }
    )
    ids = header_values(bronze["headers"], EVENT_ID_HEADER).rename_columns({"value": "event_id"})
    records = records.join(ids, "row", join_type="left outer")
    records = records.join(_marked(silver, coordinates, "in_silver"), ["topic", "partition", "offset"])
    if quarantine is not None:
        marked = _marked(quarantine, coordinates, "in_quarantine")
        records = records.join(marked, ["topic", "partition", "offset"])
    kept = silver.select(["event_id"]).group_by("event_id").aggregate([])
    kept = pa.table(
        {"event_id": kept["event_id"].cast(pa.binary()), "id_kept": pa.repeat(True, kept.num_rows)}
    )
    records = records.join(kept, "event_id")

    def flag(name: str) -> pa.ChunkedArray:
        if name not in records.column_names:
            return pa.chunked_array([pa.repeat(False, records.num_rows)])
        return pc.fill_null(records[name], False)

    in_silver, in_quarantine = flag("in_silver"), flag("in_quarantine")
    conditions = pc.make_struct(
        pc.and_(in_silver, in_quarantine), in_silver, in_quarantine, flag("id_kept"),
        field_names=["both", "silver", "quarantine", "duplicate"],
    )  # fmt: skip
    fate = pc.case_when(conditions, "both", "silver", "quarantine", "duplicate", "unexplained")
    return pa.table({"hour": records["hour"], "direct": records["direct"], "fate": fate})


def compute_ledger(
    reader: LakeReader,
    gateway: Mapping[datetime, GatewayHour] | None = None,
    kafka: Mapping[datetime, int] | None = None,
) -> Ledger:
    """The ledger of the lake, with the gateway's and Kafka's counts per hour when given.

    Raises:
        TableNotFoundError: Bronze or Silver does not exist yet.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    lake = reader.lake
    bronze = reader.require(
        lake.bronze, ["topic", "partition", "offset", "received_at", "kafka_timestamp", "headers"]
    )
    silver = reader.require(
        lake.silver, ["event_id", "received_at", "is_late", "kafka_topic", "kafka_partition", "kafka_offset"]
    )
    quarantine = reader.read(
        lake.quarantine, ["reason", "received_at", "kafka_topic", "kafka_partition", "kafka_offset"]
    )

    hours: dict[datetime | None, LedgerHour] = {}

    def at(hour: datetime | None) -> LedgerHour:
        return hours.setdefault(hour, LedgerHour(hour=hour))

    classified = _classified_bronze(bronze, silver, quarantine)
    fates = classified.group_by(["hour", "direct", "fate"]).aggregate([([], "count_all")])
    for row in fates.to_pylist():
        entry, count = at(row["hour"]), row["count_all"]
        entry.bronze += count
        if row["direct"]:
            entry.direct += count
        if row["fate"] == "duplicate":
            entry.duplicates_removed += count
        elif row["fate"] in ("unexplained", "both"):
            entry.unexplained += count
    # Silver and Quarantine are counted directly, so a record written twice shows as a mismatch
    per_hour = (
        pa.table({"hour": hour_of(silver["received_at"]), "late": pc.cast(silver["is_late"], pa.int64())})
        .group_by("hour")
        .aggregate([([], "count_all"), ("late", "sum")])
    )
    for row in per_hour.to_pylist():
        entry = at(row["hour"])
        entry.silver, entry.late = row["count_all"], row["late_sum"] or 0
    if quarantine is not None:
        per_reason = (
            pa.table({"hour": hour_of(quarantine["received_at"]), "reason": quarantine["reason"]})
            .group_by(["hour", "reason"])
            .aggregate([([], "count_all")])
        )
        for row in per_reason.to_pylist():
            at(row["hour"]).quarantined[row["reason"]] = row["count_all"]
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

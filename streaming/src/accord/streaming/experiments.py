"""Experiment assignments: the first exposure of each user to each experiment.

Kept in their own small Delta table, updated from every batch's `experiment_exposure` events
before Silver is written, so each Silver row carries the variants its user had been exposed to
by the event's (corrected) time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

EXPOSURE_TYPE = "experiment_exposure"
ASSIGNMENTS_SCHEMA = (
    "user_key string, experiment_id string, variant string, first_exposed_at timestamp, event_id string"
)


def user_key() -> Column:
    """The user an event belongs to: `user_id`, else `anonymous_id` (the Kafka key's rule)."""
    from pyspark.sql import functions as sf

    return sf.coalesce(sf.col("user_id"), sf.col("anonymous_id"))


def record_exposures(spark: SparkSession, path: str, inserts: DataFrame) -> None:
    """Add the batch's exposures; an earlier exposure replaces a later one already recorded."""
    from delta.tables import DeltaTable
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    if EXPOSURE_TYPE not in inserts.columns:
        return
    first = Window.partitionBy("user_key", "experiment_id").orderBy("first_exposed_at", "event_id")
    exposures = (
        inserts.filter(sf.col("event_type") == EXPOSURE_TYPE)
        .select(
            user_key().alias("user_key"),
            sf.col(f"{EXPOSURE_TYPE}.experiment_id").alias("experiment_id"),
            sf.col(f"{EXPOSURE_TYPE}.variant").alias("variant"),
            sf.col("event_time_corrected").alias("first_exposed_at"),
            "event_id",
        )
        .withColumn("_rank", sf.row_number().over(first))
        .filter("_rank = 1")
        .drop("_rank")
    )
    if not DeltaTable.isDeltaTable(spark, path):
        exposures.write.format("delta").mode("append").save(path)
        return
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(exposures.alias("s"), "t.user_key = s.user_key AND t.experiment_id = s.experiment_id")
        .whenMatchedUpdateAll(condition="s.first_exposed_at < t.first_exposed_at")
        .whenNotMatchedInsertAll()
        .execute()
    )


def attach_experiments(
    spark: SparkSession, path: str, events: DataFrame, *, any_assignment: bool
) -> DataFrame:
    """`events` with `experiments`: experiment_id → variant for every exposure up to the event's time.

    `any_assignment` says whether the assignments table holds a row at all; when it does not,
    the join is skipped (the stream creates the table empty at its start).
    """
    from pyspark.sql import functions as sf

    empty = sf.create_map().cast("map<string,string>")
    if not any_assignment:
        return events.withColumn("experiments", empty)
    assignments = (
        spark.read.format("delta")
        .load(path)
        .select("user_key", "experiment_id", "variant", "first_exposed_at")
    )
    keyed = events.withColumn("_user_key", user_key())
    matched = (
        keyed.select("event_id", "_user_key", "event_time_corrected")
        .join(assignments, sf.col("_user_key") == sf.col("user_key"))
        .filter(sf.col("first_exposed_at") <= sf.col("event_time_corrected"))
        .groupBy("event_id")
        .agg(sf.map_from_entries(sf.collect_list(sf.struct("experiment_id", "variant"))).alias("experiments"))
    )
    return (
        keyed.join(matched, "event_id", "left")
        .withColumn("experiments", sf.coalesce(sf.col("experiments"), empty))
        .drop("_user_key")
    )

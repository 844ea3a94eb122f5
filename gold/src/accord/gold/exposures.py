"""Per-user exposure and conversion facts of each experiment, computed from Silver with Spark.

A user is identified as the Kafka key is (`user_id`, else `anonymous_id`). Time is the
skew-corrected event time. A user's exposure is their first one; users seen in several variants
are kept apart (the analysis excludes and counts them). A conversion counts when it happens at
or after the first exposure and within the experiment's window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from accord.gold.experiments_config import ExperimentConfig
from accord.streaming.experiments import user_key

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

MULTIPLE_VARIANTS = "__multiple__"
"""The variant a user seen in several variants is given (GrowthBook's name for it)."""


def event_timestamp() -> Column:
    """When the event happened, corrected for the device's clock skew where Silver could."""
    from pyspark.sql import functions as sf

    return sf.coalesce(sf.col("event_time_corrected"), sf.col("event_time"))


def struct_field(silver: DataFrame, struct: str, field: str, spark_type: str) -> Column:
    """`struct.field` of Silver, or a typed null when no event of that type has reached Silver yet.

    Silver adds an event type's struct column with the first event of that type.
    """
    from pyspark.sql import functions as sf

    if struct in silver.columns:
        return sf.col(f"{struct}.{field}")
    return sf.lit(None).cast(spark_type)


def _config_frame(spark: SparkSession, experiments: Sequence[ExperimentConfig]) -> DataFrame:
    return spark.createDataFrame(
        [(e.experiment_id, e.conversion_event, float(e.window_hours)) for e in experiments],
        "experiment_id string, conversion_event string, window_hours double",
    )


def first_exposures(silver: DataFrame) -> DataFrame:
    """One row per (experiment, user): variant (or `__multiple__`), first exposure, late exposures."""
    from pyspark.sql import functions as sf

    exposures = silver.where(sf.col("event_type") == "experiment_exposure").select(
        struct_field(silver, "experiment_exposure", "experiment_id", "string").alias("experiment_id"),
        struct_field(silver, "experiment_exposure", "variant", "string").alias("variant"),
        user_key().alias("user"),
        event_timestamp().alias("ts"),
        sf.col("is_late"),
    )
    return (
        exposures.where(sf.col("user").isNotNull())
        .groupBy("experiment_id", "user")
        .agg(
            sf.countDistinct("variant").alias("variants_seen"),
            sf.min("variant").alias("only_variant"),
            sf.min("ts").alias("first_exposure"),
            sf.sum(sf.col("is_late").cast("long")).alias("late_exposures"),
        )
        .select(
            "experiment_id",
            "user",
            sf.when(sf.col("variants_seen") > 1, sf.lit(MULTIPLE_VARIANTS))
            .otherwise(sf.col("only_variant"))
            .alias("variant"),
            "first_exposure",
            "late_exposures",
        )
    )


def conversion_events(silver: DataFrame) -> DataFrame:
    """Every event that can be a conversion: its name (event type or conversion name) and value."""
    from pyspark.sql import functions as sf

    is_named_conversion = sf.col("event_type") == "conversion"
    return silver.where(user_key().isNotNull()).select(
        user_key().alias("user"),
        event_timestamp().alias("ts"),
        sf.when(is_named_conversion, struct_field(silver, "conversion", "name", "string"))
        .otherwise(sf.col("event_type"))
        .alias("name"),
        sf.when(sf.col("event_type") == "purchase", struct_field(silver, "purchase", "amount", "double"))
        .when(is_named_conversion, struct_field(silver, "conversion", "value", "double"))
        .cast("double")
        .alias("value"),
        sf.col("is_late"),
    )


def user_outcomes(
    spark: SparkSession, silver: DataFrame, experiments: Sequence[ExperimentConfig]
) -> DataFrame:
    """One row per (experiment, exposed user): variant, converted (0/1), revenue, late events used."""
    from pyspark.sql import functions as sf

    exposed = first_exposures(silver).join(sf.broadcast(_config_frame(spark, experiments)), "experiment_id")
    conversions = conversion_events(silver).alias("c")
    window = sf.make_dt_interval(secs=sf.col("e.window_hours") * 3600)
    in_window = (
        (sf.col("c.user") == sf.col("e.user"))
        & (sf.col("c.name") == sf.col("e.conversion_event"))
        & (sf.col("c.ts") >= sf.col("e.first_exposure"))
        & (sf.col("c.ts") <= sf.col("e.first_exposure") + window)
    )
    joined = exposed.alias("e").join(conversions, in_window, "left")
    return joined.groupBy("e.experiment_id", "e.user", "e.variant", "e.late_exposures").agg(
        sf.max(sf.when(sf.col("c.ts").isNotNull(), 1).otherwise(0)).alias("converted"),
        sf.coalesce(sf.sum("c.value"), sf.lit(0.0)).alias("revenue"),
        sf.coalesce(sf.sum(sf.col("c.is_late").cast("long")), sf.lit(0)).alias("late_conversions"),
    )


def variant_sums(outcomes: DataFrame) -> DataFrame:
    """Sufficient statistics per (experiment, variant): users, sums and sums of squares, late events."""
    from pyspark.sql import functions as sf

    return outcomes.groupBy("experiment_id", "variant").agg(
        sf.count("*").alias("users"),
        sf.sum("converted").cast("double").alias("conversion_sum"),
        sf.sum("revenue").alias("revenue_sum"),
        sf.sum(sf.col("revenue") * sf.col("revenue")).alias("revenue_sum_squares"),
        (sf.sum("late_exposures") + sf.sum("late_conversions")).alias("late_events"),
    )

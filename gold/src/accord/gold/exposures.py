"""Each experiment's exposed users, computed from Silver with Spark.

A user is identified as the Kafka key is (`user_id`, else `anonymous_id`). Time is the
skew-corrected event time. A user's exposure is their first one; users seen in several variants
are kept apart (the analysis excludes and counts them). The metrics' per-user values are
`accord.gold.metric_values`'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from accord.streaming.experiments import user_key

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

MULTIPLE_VARIANTS = "__multiple__"
"""The variant a user seen in several variants is given (GrowthBook's name for it)."""

UNKNOWN = "unknown"
"""A dimension's value when the first exposure's context did not have it."""


def event_timestamp() -> Column:
    """When the event happened, corrected for the device's clock skew where Silver could."""
    from pyspark.sql import functions as sf

    return sf.coalesce(sf.col("event_time_corrected"), sf.col("event_time"))


def struct_field(silver: DataFrame, struct: str, field: str, spark_type: str) -> Column:
    """`struct.field` of Silver, or a typed null when Silver has no such struct or field yet.

    Silver adds an event type's struct column with the first event of that type.
    """
    from pyspark.sql import functions as sf
    from pyspark.sql.types import StructType

    if struct in silver.columns:
        struct_type = silver.schema[struct].dataType
        if isinstance(struct_type, StructType) and field in struct_type.fieldNames():
            return sf.col(f"{struct}.{field}")
    return sf.lit(None).cast(spark_type)


def first_exposures(silver: DataFrame, dimensions: Sequence[str] = ()) -> DataFrame:
    """One row per (experiment, user): variant (or `__multiple__`), first exposure, late exposures.

    Each of `dimensions` (a field of the events' context) is a column holding its value at the
    user's first exposure, `unknown` when the event did not say.
    """
    from pyspark.sql import functions as sf

    exposures = silver.where(sf.col("event_type") == "experiment_exposure").select(
        struct_field(silver, "experiment_exposure", "experiment_id", "string").alias("experiment_id"),
        struct_field(silver, "experiment_exposure", "variant", "string").alias("variant"),
        user_key().alias("user"),
        event_timestamp().alias("ts"),
        sf.col("is_late"),
        *[
            sf.coalesce(struct_field(silver, "context", d, "string").cast("string"), sf.lit(UNKNOWN)).alias(d)
            for d in dimensions
        ],
    )
    return (
        exposures.where(sf.col("user").isNotNull())
        .groupBy("experiment_id", "user")
        .agg(
            sf.countDistinct("variant").alias("variants_seen"),
            sf.min("variant").alias("only_variant"),
            sf.min("ts").alias("first_exposure"),
            sf.sum(sf.col("is_late").cast("long")).alias("late_exposures"),
            *[sf.min_by(d, "ts").alias(d) for d in dimensions],
        )
        .select(
            "experiment_id",
            "user",
            sf.when(sf.col("variants_seen") > 1, sf.lit(MULTIPLE_VARIANTS))
            .otherwise(sf.col("only_variant"))
            .alias("variant"),
            "first_exposure",
            "late_exposures",
            *dimensions,
        )
    )

"""Each exposed user's metric values, and their sums per variant and dimension, with Spark.

Per (experiment, user, metric): `main` (the binomial 0/1, the count or the sum), `denominator`
(a ratio's), `covariate` (the same metric over the CUPED lookback before exposure), each from
the events in the metric's window after the user's first exposure. Summed per variant and slice
(every user, then each value of each dimension) into GrowthBook's sufficient-statistics columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accord.gold.experiments_config import Aggregate, ExperimentConfig
from accord.gold.exposures import event_timestamp, first_exposures, struct_field
from accord.streaming.experiments import user_key

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

OVERALL = ""
"""The `dimension` of the slice holding every user."""
ALL_USERS = "All"
"""Its `dimension_value` (GrowthBook's name)."""

SUM_COLUMNS = (
    "users", "main_sum", "main_sum_squares", "denominator_sum", "denominator_sum_squares",
    "main_denominator_sum_product", "covariate_sum", "covariate_sum_squares", "main_covariate_sum_product",
)  # fmt: skip


@dataclass(frozen=True)
class SliceSums:
    """GrowthBook's sufficient statistics of one metric for one variant in one slice."""

    metric: str
    variant: str
    dimension: str
    dimension_value: str
    users: int
    main_sum: float
    main_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    main_denominator_sum_product: float
    covariate_sum: float
    covariate_sum_squares: float
    main_covariate_sum_product: float
    late_events: int


def _key(aggregate: Aggregate) -> str:
    return aggregate.model_dump_json()


def _matches(silver: DataFrame, event: str) -> Column:
    """Rows of `event`: of that event type, or `conversion` events of that name."""
    from pyspark.sql import functions as sf

    by_type = sf.col("event_type") == event
    by_name = (sf.col("event_type") == "conversion") & (
        struct_field(silver, "conversion", "name", "string") == event
    )
    return by_type | by_name


def _field(silver: DataFrame, event: str, field: str, spark_type: str) -> Column:
    """A field of the event: in its type's struct, or in `conversion`'s for a named conversion."""
    from pyspark.sql import functions as sf

    return sf.when(sf.col("event_type") == event, struct_field(silver, event, field, spark_type)).otherwise(
        struct_field(silver, "conversion", field, spark_type)
    )


def _aggregate_events(silver: DataFrame, aggregate: Aggregate) -> DataFrame:
    """The events one aggregate counts: user, time, the value each adds, whether it came late."""
    from pyspark.sql import functions as sf

    keep = _matches(silver, aggregate.event)
    for field, wanted in aggregate.filters.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        keep = keep & _field(silver, aggregate.event, field, "string").cast("string").isin(
            [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
        )
    value = (
        _field(silver, aggregate.event, aggregate.field, "double").cast("double")
        if aggregate.field
        else sf.lit(1.0)
    )
    return silver.where(keep & user_key().isNotNull()).select(
        user_key().alias("user"),
        event_timestamp().alias("ts"),
        sf.lit(_key(aggregate)).alias("aggregate"),
        sf.coalesce(value, sf.lit(0.0)).alias("value"),
        sf.col("is_late"),
    )


def _components(experiment: ExperimentConfig) -> Iterator[tuple[str, str, str, float, bool]]:
    """(metric, component, aggregate key, window hours, binomial) for each value a metric needs."""
    for metric in experiment.analysed_metrics():
        window = experiment.window_of(metric)
        for component, aggregate in zip(("main", "denominator"), metric.aggregates(), strict=False):
            yield metric.name, component, _key(aggregate), window, metric.kind == "binomial"


def user_metric_values(spark: SparkSession, silver: DataFrame, experiment: ExperimentConfig) -> DataFrame:
    """One row per exposed user and metric: variant, dimensions, main, denominator, covariate, late."""
    from pyspark.sql import functions as sf

    exposed = first_exposures(silver, experiment.dimensions).where(
        sf.col("experiment_id") == experiment.experiment_id
    )
    components = spark.createDataFrame(
        list(_components(experiment)),
        "metric string, component string, aggregate string, window_hours double, binomial boolean",
    )
    aggregates = {_key(a): a for metric in experiment.analysed_metrics() for a in metric.aggregates()}
    events = None
    for aggregate in aggregates.values():
        frame = _aggregate_events(silver, aggregate)
        events = frame if events is None else events.unionByName(frame)
    assert events is not None  # an experiment always has metrics
    lookback = experiment.cuped_lookback_hours * 3600 if experiment.cuped else 0.0
    col = sf.col
    in_window = (
        (col("m.user") == col("e.user"))
        & (col("m.aggregate") == col("e.aggregate"))
        & (col("m.ts") >= col("e.first_exposure") - sf.make_dt_interval(secs=sf.lit(lookback)))
        & (col("m.ts") <= col("e.first_exposure") + sf.make_dt_interval(secs=col("e.window_hours") * 3600))
    )
    after = col("m.ts") >= col("e.first_exposure")
    before = col("m.ts") < col("e.first_exposure")
    per_component = (
        exposed.crossJoin(sf.broadcast(components))
        .alias("e")
        .join(events.alias("m"), in_window, "left")
        .groupBy(
            "e.user",
            "e.variant",
            "e.late_exposures",
            "e.metric",
            "e.component",
            "e.binomial",
            *[f"e.{d}" for d in experiment.dimensions],
        )
        .agg(
            sf.sum(sf.when(after, col("m.value")).otherwise(0.0)).alias("post"),
            sf.sum(sf.when(before, col("m.value")).otherwise(0.0)).alias("pre"),
            sf.max(sf.when(after, 1.0).otherwise(0.0)).alias("post_any"),
            sf.max(sf.when(before, 1.0).otherwise(0.0)).alias("pre_any"),
            sf.sum(sf.when(after & col("m.is_late"), 1).otherwise(0)).alias("late"),
        )
    )
    value = sf.when(sf.col("binomial"), sf.col("post_any")).otherwise(sf.col("post"))
    covariate = sf.when(sf.col("binomial"), sf.col("pre_any")).otherwise(sf.col("pre"))
    is_main = sf.col("component") == "main"
    return per_component.groupBy("user", "variant", "metric", *experiment.dimensions).agg(
        sf.sum(sf.when(is_main, value).otherwise(0.0)).alias("main"),
        sf.sum(sf.when(~is_main, value).otherwise(0.0)).alias("denominator"),
        sf.sum(sf.when(is_main, covariate).otherwise(0.0)).alias("covariate"),
        (sf.sum("late") + sf.max(sf.when(is_main, sf.col("late_exposures")).otherwise(0))).alias(
            "late_events"
        ),
    )


def _sums(values: DataFrame, dimension: str | None) -> DataFrame:
    from pyspark.sql import functions as sf

    main, den, cov = sf.col("main"), sf.col("denominator"), sf.col("covariate")
    slice_value = sf.col(dimension) if dimension else sf.lit(ALL_USERS)
    return values.groupBy(
        "metric",
        "variant",
        sf.lit(dimension or OVERALL).alias("dimension"),
        slice_value.alias("dimension_value"),
    ).agg(
        sf.count("*").alias("users"),
        sf.sum(main).alias("main_sum"),
        sf.sum(main * main).alias("main_sum_squares"),
        sf.sum(den).alias("denominator_sum"),
        sf.sum(den * den).alias("denominator_sum_squares"),
        sf.sum(main * den).alias("main_denominator_sum_product"),
        sf.sum(cov).alias("covariate_sum"),
        sf.sum(cov * cov).alias("covariate_sum_squares"),
        sf.sum(main * cov).alias("main_covariate_sum_product"),
        sf.sum("late_events").cast("long").alias("late_events"),
    )


def slice_sums(spark: SparkSession, silver: DataFrame, experiment: ExperimentConfig) -> list[SliceSums]:
    """Sufficient statistics per metric, variant and slice: every user, then each dimension's values."""
    values = user_metric_values(spark, silver, experiment).cache()
    try:
        frame = _sums(values, None)
        for dimension in experiment.dimensions:
            frame = frame.unionByName(_sums(values, dimension))
        rows: list[dict[str, Any]] = [row.asDict() for row in frame.collect()]
    finally:
        values.unpersist()
    return [SliceSums(**row) for row in rows]

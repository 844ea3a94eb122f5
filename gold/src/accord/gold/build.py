"""Recompute every Gold table from one pinned snapshot of Silver.

Gold is a pure function of Silver: each run overwrites the Gold tables with what that Silver
version implies, so running it twice changes nothing and late events only ever move the answer
towards the complete one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from accord.gold.daily import daily_active_users, daily_events
from accord.gold.experiments_config import ExperimentConfig
from accord.gold.exposures import event_timestamp, first_exposures
from accord.gold.metric_values import slice_sums
from accord.gold.results import RESULT_SCHEMA, Completeness, ResultRow, analyse_experiment
from accord.gold.tables import daily_active_users_path, daily_events_path, experiment_results_path
from accord.streaming.delta_io import latest_version, read_table
from accord.streaming.lake import Lake

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GoldRun:
    """What one recomputation produced."""

    silver_version: int
    results: list[ResultRow]


def _completeness(silver: DataFrame, version: int, watermark_delay: timedelta) -> Completeness:
    from pyspark.sql import functions as sf

    row = silver.agg(sf.max(event_timestamp()).alias("max_ts")).first()
    max_ts = row["max_ts"] if row else None
    return Completeness(
        complete_up_to=None if max_ts is None else max_ts - watermark_delay,
        max_event_time=max_ts,
        silver_version=version,
        computed_at=datetime.now(UTC).replace(tzinfo=None),
    )


def _started(silver: DataFrame) -> dict[str, datetime]:
    """Each experiment's first exposure."""
    from pyspark.sql import functions as sf

    rows = (
        first_exposures(silver).groupBy("experiment_id").agg(sf.min("first_exposure").alias("at")).collect()
    )
    return {row["experiment_id"]: row["at"] for row in rows}


def _overwrite(frame: DataFrame, path: str) -> None:
    frame.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)


def build_gold(
    spark: SparkSession,
    lake: Lake,
    experiments: Sequence[ExperimentConfig],
    watermark_delay: timedelta,
) -> GoldRun:
    """Recompute the experiment results and daily metrics from the newest Silver version.

    `watermark_delay` is Silver's: event times more than this behind the newest one are
    complete, so each result row states `complete_up_to` = newest event time - delay.

    Raises:
        TableNotFoundError: Silver does not exist yet.
    """
    version = latest_version(spark, lake.silver)
    silver = read_table(spark, lake.silver, version).cache()
    try:
        completeness = _completeness(silver, version, watermark_delay)
        started = _started(silver)
        results = [
            row
            for experiment in experiments
            for row in analyse_experiment(
                experiment,
                slice_sums(spark, silver, experiment),
                completeness,
                started.get(experiment.experiment_id),
            )
        ]
        result_frame = spark.createDataFrame([asdict(r) for r in results], RESULT_SCHEMA)
        _overwrite(result_frame, experiment_results_path(lake))
        _overwrite(daily_events(silver), daily_events_path(lake))
        _overwrite(daily_active_users(silver), daily_active_users_path(lake))
    finally:
        silver.unpersist()
    log.info("gold rebuilt", extra={"silver_version": version, "result_rows": len(results)})
    return GoldRun(silver_version=version, results=results)

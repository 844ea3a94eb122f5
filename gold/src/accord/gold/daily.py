"""Daily metrics: events and users per day and event type, and daily active users."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.streaming.experiments import user_key

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def daily_events(silver: DataFrame) -> DataFrame:
    """Events and distinct users per event date (UTC) and event type."""
    from pyspark.sql import functions as sf

    return silver.groupBy("event_date", "event_type").agg(
        sf.count("*").alias("events"), sf.countDistinct(user_key()).alias("users")
    )


def daily_active_users(silver: DataFrame) -> DataFrame:
    """Distinct users with at least one event per event date (UTC)."""
    from pyspark.sql import functions as sf

    return silver.groupBy("event_date").agg(sf.countDistinct(user_key()).alias("active_users"))

"""Where the Gold tables live in the lake, and how Gold reads a pinned snapshot of a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.streaming.delta_io import load_if_exists
from accord.streaming.gold.errors import TableNotFoundError
from accord.streaming.lake import Lake

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def experiment_results_path(lake: Lake) -> str:
    """One row per experiment, variant and metric."""
    return f"{lake.root}/gold/experiment_results"


def daily_events_path(lake: Lake) -> str:
    """Events and distinct users per day and event type."""
    return f"{lake.root}/gold/daily_events"


def daily_active_users_path(lake: Lake) -> str:
    """Distinct users per day, all event types together."""
    return f"{lake.root}/gold/daily_active_users"


def read_table(spark: SparkSession, path: str, version: int | None = None) -> DataFrame:
    """The Delta table at `path`, as of `version` when given (so several reads see one snapshot).

    Raises:
        TableNotFoundError: there is no Delta table at `path`.
    """
    frame = load_if_exists(spark, path, version)
    if frame is None:
        raise TableNotFoundError(path)
    return frame


def latest_version(spark: SparkSession, path: str) -> int:
    """The newest version of the Delta table at `path`.

    Raises:
        TableNotFoundError: there is no Delta table at `path`.
    """
    from delta.tables import DeltaTable

    read_table(spark, path)
    newest = DeltaTable.forPath(spark, path).history(1).select("version").first()
    if newest is None:
        raise TableNotFoundError(path)
    version: int = newest[0]
    return version

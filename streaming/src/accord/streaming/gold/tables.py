"""Where the Gold tables live in the lake, and how Gold reads a pinned snapshot of a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.streaming.gold.errors import TableNotFoundError
from accord.streaming.lake import Lake

_MISSING_TABLE_CONDITIONS = frozenset(
    {"PATH_NOT_FOUND", "DELTA_MISSING_DELTA_TABLE", "DELTA_TABLE_NOT_FOUND"}
)

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


def load_if_exists(spark: SparkSession, path: str, version: int | None = None) -> DataFrame | None:
    """The Delta table at `path` (as of `version` when given), or None when there is none.

    The table is loaded rather than asked about: Delta caches the answer of
    `DeltaTable.isDeltaTable` per session, so a table created after a first negative answer
    would stay invisible to a long-running session such as the demo's.
    """
    from pyspark.errors import AnalysisException

    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    try:
        return reader.load(path)
    except AnalysisException as exc:
        if exc.getCondition() in _MISSING_TABLE_CONDITIONS:
            return None
        raise


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

"""Periodic table maintenance inside the stream's Spark application.

A daemon thread compacts the tables the stream only appends to every
`lake_optimize_interval_minutes` and vacuums every table every `lake_vacuum_interval_minutes`.
Its Spark jobs run in the scheduler pool `maintenance`, beside the stream's batches. A failed
run is logged and the next one is tried at its time: maintenance never stops the stream.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from accord.streaming.lake import Lake
from accord.streaming.maintenance import (
    LakeTable,
    MaintenancePolicy,
    MaintenanceResult,
    lake_tables,
    optimize_lake,
    vacuum_lake,
)
from accord.streaming.settings import StreamingSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

POOL = "maintenance"
JOB_GROUP = "accord-lake-maintenance"


@dataclass(frozen=True)
class Schedule:
    """How often each operation runs; None: never."""

    optimize_every: timedelta | None
    vacuum_every: timedelta | None

    @classmethod
    def from_settings(cls, settings: StreamingSettings) -> Schedule:
        """The intervals of `settings` (0 minutes disables an operation)."""
        optimize, vacuum = settings.lake_optimize_interval_minutes, settings.lake_vacuum_interval_minutes
        return cls(
            optimize_every=timedelta(minutes=optimize) if optimize else None,
            vacuum_every=timedelta(minutes=vacuum) if vacuum else None,
        )


class MaintenanceThread(threading.Thread):
    """Runs OPTIMIZE and VACUUM on the lake's tables on a schedule until `stop()`."""

    def __init__(
        self,
        spark: SparkSession,
        tables: list[LakeTable],
        policy: MaintenancePolicy,
        schedule: Schedule,
    ) -> None:
        super().__init__(name="accord-lake-maintenance", daemon=True)
        self.spark = spark
        self.tables = tables
        self.policy = policy
        self.schedule = schedule
        self.runs: list[MaintenanceResult] = []
        self.failures = 0
        self._stop_requested = threading.Event()

    def run(self) -> None:
        """The schedule's loop: each operation when its interval has passed since its last run."""
        context = self.spark.sparkContext
        context.setLocalProperty("spark.scheduler.pool", POOL)
        context.setJobGroup(JOB_GROUP, "lake maintenance", interruptOnCancel=True)
        started = time.monotonic()
        due = {
            "optimize": self._first(started, self.schedule.optimize_every),
            "vacuum": self._first(started, self.schedule.vacuum_every),
        }
        while not self._stop_requested.is_set():
            now = time.monotonic()
            if due["optimize"] is not None and now >= due["optimize"]:
                self._guarded("optimize", self._optimize)
                due["optimize"] = time.monotonic() + self._seconds(self.schedule.optimize_every)
            if due["vacuum"] is not None and now >= due["vacuum"]:
                self._guarded("vacuum", self._vacuum)
                due["vacuum"] = time.monotonic() + self._seconds(self.schedule.vacuum_every)
            pending = [at for at in due.values() if at is not None]
            if not pending:
                return
            self._stop_requested.wait(max(0.0, min(pending) - time.monotonic()))

    @staticmethod
    def _seconds(every: timedelta | None) -> float:
        assert every is not None
        return every.total_seconds()

    @staticmethod
    def _first(started: float, every: timedelta | None) -> float | None:
        # the first run waits one interval: the application's start is busy enough
        return None if every is None else started + every.total_seconds()

    def _optimize(self) -> list[MaintenanceResult]:
        return optimize_lake(self.spark, [t for t in self.tables if t.appends_only], self.policy)

    def _vacuum(self) -> list[MaintenanceResult]:
        return vacuum_lake(self.spark, self.tables, self.policy.vacuum_retention)

    def _guarded(self, operation: str, run: Callable[[], list[MaintenanceResult]]) -> None:
        started = time.monotonic()
        try:
            results = run()
        except Exception as exc:
            if self._stop_requested.is_set():
                return
            self.failures += 1
            # logged and left to the next run: the stream's batches must not depend on maintenance
            log.exception(
                "lake maintenance failed",
                extra={"operation": operation, "error": type(exc).__name__, "failures": self.failures},
            )
            return
        self.runs.extend(results)
        log.info(
            "lake maintenance run",
            extra={
                "operation": operation,
                "tables": len(results),
                "files_removed": sum(r.files_removed for r in results),
                "files_added": sum(r.files_added for r in results),
                "deleted": sum(r.deleted for r in results),
                "duration_s": round(time.monotonic() - started, 3),
            },
        )

    def stop(self, timeout_s: float = 60) -> None:
        """Stop after the operation under way; its Spark jobs are cancelled (nothing is committed)."""
        self._stop_requested.set()
        if self.is_alive():
            self.spark.sparkContext.cancelJobGroup(JOB_GROUP)
            self.join(timeout_s)


def start_maintenance(
    spark: SparkSession, settings: StreamingSettings, *, enabled: bool = True
) -> MaintenanceThread | None:
    """Start periodic maintenance of the lake of `settings`; None when disabled or nothing is scheduled."""
    schedule = Schedule.from_settings(settings)
    if not enabled or (schedule.optimize_every is None and schedule.vacuum_every is None):
        return None
    thread = MaintenanceThread(
        spark, lake_tables(Lake.from_settings(settings)), MaintenancePolicy.from_settings(settings), schedule
    )
    thread.start()
    log.info(
        "lake maintenance scheduled",
        extra={
            "optimize_every_s": schedule.optimize_every.total_seconds() if schedule.optimize_every else None,
            "vacuum_every_s": schedule.vacuum_every.total_seconds() if schedule.vacuum_every else None,
        },
    )
    return thread

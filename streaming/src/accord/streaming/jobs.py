"""Periodic jobs the stream service runs beside its queries (`accord.stream_jobs` entry points).

A component that watches what the stream writes (Gold's experiment health) registers a factory
in that group, so the service runs it without streaming importing the component. A factory
takes the stream's settings, its progress file and the Prometheus registry of its metrics
endpoint, and returns a job, or None when the job is disabled by its own settings. Each job runs
on one background thread, every `interval_s`; a failing run is logged and tried again at its
next turn, never stopping the stream.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Protocol

from prometheus_client import CollectorRegistry

from accord.streaming.progress import ProgressFile
from accord.streaming.settings import StreamingSettings

log = logging.getLogger(__name__)

JOBS_GROUP = "accord.stream_jobs"


class PeriodicJob(Protocol):
    """Work done every `interval_s` seconds while the stream runs."""

    @property
    def name(self) -> str:
        """Names the job in logs."""
        ...

    @property
    def interval_s(self) -> float:
        """Seconds between the start of one run and the next."""
        ...

    def run(self) -> None:
        """Do one run."""
        ...


JobFactory = Callable[[StreamingSettings, ProgressFile, CollectorRegistry], PeriodicJob | None]


class JobRunner:
    """Runs jobs on one daemon thread until `stop`."""

    def __init__(self, jobs: list[PeriodicJob]) -> None:
        self.jobs = jobs
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="accord-stream-jobs", daemon=True)

    def start(self) -> JobRunner:
        """Start the thread (a runner without jobs starts none)."""
        if self.jobs:
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop after the run in progress, if any."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    def _loop(self) -> None:
        due = dict.fromkeys(range(len(self.jobs)), time.monotonic())
        while not self._stop.is_set():
            now = time.monotonic()
            for index, job in enumerate(self.jobs):
                if due[index] > now:
                    continue
                due[index] = now + job.interval_s
                started = time.monotonic()
                try:
                    job.run()
                except Exception:
                    log.exception("stream job failed", extra={"job": job.name})
                else:
                    log.debug(
                        "stream job ran",
                        extra={"job": job.name, "seconds": round(time.monotonic() - started, 3)},
                    )
            self._stop.wait(max(0.1, min(due.values()) - time.monotonic()))


def start_jobs(settings: StreamingSettings, progress: ProgressFile, registry: CollectorRegistry) -> JobRunner:
    """Load every `accord.stream_jobs` factory and run the jobs they return."""
    jobs: list[PeriodicJob] = []
    for entry in entry_points(group=JOBS_GROUP):
        try:
            factory: JobFactory = entry.load()
            job = factory(settings, progress, registry)
        except Exception:
            # a job that cannot start (say, an invalid experiments file) must not keep the stream down
            log.exception("stream job not started", extra={"job": entry.name})
            continue
        if job is not None:
            jobs.append(job)
            log.info("stream job scheduled", extra={"job": job.name, "interval_s": job.interval_s})
    return JobRunner(jobs).start()

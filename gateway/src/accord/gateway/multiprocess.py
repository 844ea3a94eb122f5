"""Counting across the gateway processes that serve one port (prometheus_client's multiprocess mode).

With `ACCORD_GATEWAY_WORKERS` above 1, `accord gateway serve` creates a directory for the run
and names it in `PROMETHEUS_MULTIPROC_DIR` before the workers start: every worker then keeps
its counters, histograms and gauges in memory-mapped files there, and whichever worker answers
`/metrics` or `/v1/stats` reads the files of all of them. The files of a worker that died stay,
so what it counted before dying is still counted; its live gauges (requests in flight) are
dropped. With one process nothing is shared and the process's own registries answer.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")


def shared_directory() -> Path | None:
    """The run's directory of shared metric files, or None when this process counts alone."""
    value = os.environ.get(DIRECTORY_VARIABLE)
    return Path(value) if value else None


def collect(own: CollectorRegistry) -> Iterable[Metric]:
    """The metric families of every process serving the port (`own` when there is only this one)."""
    directory = shared_directory()
    if directory is None:
        return own.collect()
    _forget_dead_processes(directory)
    # prometheus_client's multiprocess module has no annotations
    families: Iterable[Metric] = MultiProcessCollector(None, str(directory)).collect()  # type: ignore[no-untyped-call]
    return families


def _forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of worker processes that are gone (killed, or replaced by a new one)."""
    pids = {int(match.group(1)) for f in directory.iterdir() if (match := _LIVE_GAUGE_FILE.fullmatch(f.name))}
    for pid in pids:
        if not _alive(pid):
            mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def shared_counting() -> Iterator[Path]:
    """A fresh directory for the run's metric files, named in the environment the workers inherit.

    Set before any worker starts (prometheus_client chooses file-backed values at import), and
    removed when the run ends: counts are since the gateway started, as with one process.
    """
    directory = Path(tempfile.mkdtemp(prefix="accord-gateway-metrics-"))
    os.environ[DIRECTORY_VARIABLE] = str(directory)
    try:
        yield directory
    finally:
        del os.environ[DIRECTORY_VARIABLE]
        shutil.rmtree(directory, ignore_errors=True)

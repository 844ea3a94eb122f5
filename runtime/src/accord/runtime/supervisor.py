"""Start, watch and stop the platform's server processes.

Each service runs detached in its own session (so it outlives the `accord up` that started it)
and is remembered by a small JSON record in the state folder: pid, process start time (so a
recycled pid is never mistaken for the service), ports and log file.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import psutil

from accord.runtime.errors import PortInUseError, ServiceStartError
from accord.runtime.ports import port_is_free, port_owner
from accord.runtime.waiting import WaitTimeoutError, wait_until

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one server: its command, ports, readiness check and start order.

    `prepare` runs synchronously before the process starts (resolve jars, format storage, …);
    `started` (default `ready`) is polled until it returns True or `start_timeout_s` passes;
    `ready` is what `status` reports. They differ for a server that answers only once others
    run (a broker of a new cluster answers once a majority of its controller quorum runs).
    `stranded`, polled while the service stops, is True when it can no longer finish stopping by
    itself (a broker whose controller quorum has stopped would wait minutes for a shutdown grant).
    """

    name: str
    order: int
    command: Callable[[], Sequence[str]]
    ports: Sequence[int]
    ready: Callable[[], bool]
    started: Callable[[], bool] | None = None
    host: str = "127.0.0.1"
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    prepare: Callable[[], None] | None = None
    after_start: Callable[[], None] | None = None
    start_timeout_s: float = 90.0
    describe: Callable[[], str] | None = None
    stranded: Callable[[], bool] | None = None


class State(StrEnum):
    """What `status` reports for a service."""

    RUNNING = "running"
    STARTING = "not ready"
    CRASHED = "down"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ServiceStatus:
    """One service's state as seen from its process record and its readiness check."""

    name: str
    state: State
    pid: int | None
    ports: Sequence[int]
    log_file: Path
    log_tail: list[str]
    detail: str = ""


STRANDED_GRACE_S = 2.0
"""How long a stopping service must stay stranded before it is killed: a quorum seen gone once
may be one peer's port between two states."""


def _wait_stopping(
    name: str, group: list[psutil.Process], timeout_s: float, stranded: Callable[[], bool] | None
) -> list[psutil.Process]:
    """Wait for `group` to exit; return the processes still alive when it is time to use force."""
    deadline = time.monotonic() + timeout_s
    stranded_since: float | None = None
    alive = group
    while True:
        now = time.monotonic()
        _, alive = psutil.wait_procs(alive, timeout=max(0.0, min(deadline - now, 0.5)))
        if not alive:
            return []
        now = time.monotonic()
        if stranded is not None and stranded():
            stranded_since = now if stranded_since is None else stranded_since
            if now - stranded_since >= STRANDED_GRACE_S:
                log.warning("service cannot finish stopping on its own, killing", extra={"service": name})
                return alive
        else:
            stranded_since = None
        if now >= deadline:
            log.warning("service did not stop in time, killing", extra={"service": name})
            return alive


def tail(path: Path, lines: int = 10) -> list[str]:
    """The last `lines` lines of a text file, or nothing when it does not exist."""
    if not path.exists():
        return []
    with path.open(errors="replace") as handle:
        return [line.rstrip("\n") for line in deque(handle, maxlen=lines)]


class Supervisor:
    """Keeps process records of services under `state_dir/<name>/`."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    def log_file(self, name: str) -> Path:
        """Where the service's stdout and stderr go."""
        return self.state_dir / name / f"{name}.log"

    def _record_file(self, name: str) -> Path:
        return self.state_dir / name / "process.json"

    def _process(self, name: str) -> psutil.Process | None:
        """The live process of the service, or None when it is not running."""
        record = self._record_file(name)
        if not record.exists():
            return None
        data = json.loads(record.read_text())
        try:
            proc = psutil.Process(data["pid"])
            if abs(proc.create_time() - data["create_time"]) > 1.0 or proc.status() == psutil.STATUS_ZOMBIE:
                return None
        except psutil.NoSuchProcess:
            return None
        return proc

    def process(self, name: str) -> psutil.Process | None:
        """The live process of the service (the parent of any it started), or None."""
        return self._process(name)

    def is_running(self, name: str) -> bool:
        """True when the recorded process of `name` is alive."""
        return self._process(name) is not None

    def check_ports(self, spec: ServiceSpec) -> None:
        """Raise `PortInUseError` when a port of `spec` is taken by some other process."""
        for port in spec.ports:
            if not port_is_free(spec.host, port):
                raise PortInUseError(spec.name, port, port_owner(port))

    def start(self, spec: ServiceSpec) -> psutil.Process:
        """Start `spec` unless it already runs, and wait until it is ready."""
        running = self._process(spec.name)
        if running is not None:
            return running
        self.check_ports(spec)
        if spec.prepare is not None:
            spec.prepare()
        log_path = self.log_file(spec.name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as out:
            command = list(spec.command())
            popen = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=spec.cwd,
                env={**os.environ, **spec.env},
                start_new_session=True,
            )
        proc = psutil.Process(popen.pid)
        self._record_file(spec.name).write_text(
            json.dumps(
                {
                    "pid": popen.pid,
                    "create_time": proc.create_time(),
                    "ports": list(spec.ports),
                    "command": command,
                    "log": str(log_path),
                    "started_at": time.time(),
                }
            )
        )
        log.info("service starting", extra={"service": spec.name, "pid": popen.pid})

        def ready() -> bool:
            if popen.poll() is not None:
                raise ServiceStartError(
                    spec.name, f"process exited with code {popen.returncode}", tail(log_path)
                )
            return (spec.started or spec.ready)()

        try:
            wait_until(ready, timeout_s=spec.start_timeout_s, interval_s=0.25, describe=f"{spec.name} ready")
        except WaitTimeoutError:
            self.stop(spec.name)
            raise ServiceStartError(
                spec.name, f"not ready after {spec.start_timeout_s:.0f}s", tail(log_path)
            ) from None
        if spec.after_start is not None:
            spec.after_start()
        return proc

    def stop(self, name: str, timeout_s: float = 20.0, stranded: Callable[[], bool] | None = None) -> bool:
        """Stop the service gracefully (SIGTERM to its process group), then by force.

        Force comes after `timeout_s`, or as soon as `stranded` has held for `STRANDED_GRACE_S`.
        Returns True when a running process was stopped.
        """
        proc = self._process(name)
        record = self._record_file(name)
        if proc is None:
            record.unlink(missing_ok=True)
            return False
        group = [proc, *proc.children(recursive=True)]
        self._signal_group(proc.pid, signal.SIGTERM)
        alive = _wait_stopping(name, group, timeout_s, stranded)
        if alive:
            self._signal_group(proc.pid, signal.SIGKILL)
            for straggler in alive:
                try:
                    straggler.kill()
                except psutil.NoSuchProcess:
                    continue
            psutil.wait_procs(alive, timeout=5)
        record.unlink(missing_ok=True)
        return True

    def stop_together(self, specs: Sequence[ServiceSpec], timeout_s: float = 20.0) -> list[str]:
        """Stop several services at once (each as `stop` does); returns the names of those that ran.

        The brokers of a cluster stop together: one stopped after the others would wait in vain
        for a controller quorum to grant its shutdown.
        """
        with ThreadPoolExecutor(max_workers=max(len(specs), 1)) as pool:
            stopped = list(pool.map(lambda spec: self.stop(spec.name, timeout_s, spec.stranded), specs))
        return [spec.name for spec, was_running in zip(specs, stopped, strict=True) if was_running]

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return

    def kill(self, name: str) -> None:
        """SIGKILL the service's process group at once, leaving its record (as a crash would)."""
        proc = self._process(name)
        if proc is not None:
            self._signal_group(proc.pid, signal.SIGKILL)
            psutil.wait_procs([proc], timeout=10)

    def status(self, spec: ServiceSpec) -> ServiceStatus:
        """The service's state: running, not ready, down (record but no process) or stopped."""
        log_path = self.log_file(spec.name)
        proc = self._process(spec.name)
        if proc is None:
            crashed = self._record_file(spec.name).exists()
            return ServiceStatus(
                name=spec.name,
                state=State.CRASHED if crashed else State.STOPPED,
                pid=None,
                ports=spec.ports,
                log_file=log_path,
                log_tail=tail(log_path) if crashed else [],
            )
        ready = spec.ready()
        return ServiceStatus(
            name=spec.name,
            state=State.RUNNING if ready else State.STARTING,
            pid=proc.pid,
            ports=spec.ports,
            log_file=log_path,
            log_tail=[] if ready else tail(log_path),
            detail=spec.describe() if (ready and spec.describe) else "",
        )

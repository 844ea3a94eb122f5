"""A Spark standalone cluster (one master, N workers) on this machine, from the pyspark installation.

The master and each worker are supervised services (`accord.runtime.supervisor`), so they are
started, watched, killed and stopped like the broker. The jobs reach the cluster through
`ACCORD_SPARK_MASTER=<StandaloneCluster.master_url>`; the same commands submit to any other
standalone, YARN or Kubernetes master (RUNBOOK, "Running the jobs on a Spark cluster").
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.runtime.ports import free_port, port_answers
from accord.runtime.supervisor import ServiceSpec, Supervisor

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
HOST = "127.0.0.1"


def spark_class() -> Path:
    """The `spark-class` launcher of the installed pyspark (it runs Spark's daemons)."""
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


@dataclass(frozen=True)
class WorkerSpec:
    """One worker's ports, resources and scratch folder."""

    index: int
    port: int
    webui_port: int
    cores: int
    memory: str

    @property
    def name(self) -> str:
        """Service name of the worker."""
        return f"spark-worker-{self.index}"


@dataclass
class StandaloneCluster:
    """A master and `workers` workers on loopback, each worker offering `cores` cores and `memory`.

    `daemon_memory` is the heap of the master and worker daemons themselves; the executors a
    worker launches get the application's `spark.executor.memory`, within `memory`.
    """

    state_dir: Path
    workers: int = 2
    cores: int = 1
    memory: str = "1g"
    daemon_memory: str = "256m"
    start_timeout_s: float = 120.0
    port: int = field(default_factory=free_port)
    webui_port: int = field(default_factory=free_port)
    worker_specs: list[WorkerSpec] = field(init=False)

    def __post_init__(self) -> None:
        self.worker_specs = [
            WorkerSpec(i, free_port(), free_port(), self.cores, self.memory) for i in range(self.workers)
        ]
        self.supervisor = Supervisor(self.state_dir)

    @property
    def master_url(self) -> str:
        """What `spark.master` (`ACCORD_SPARK_MASTER`) is set to for applications on this cluster."""
        return f"spark://{HOST}:{self.port}"

    def _env(self) -> dict[str, str]:
        return {"SPARK_LOCAL_IP": HOST, "SPARK_DAEMON_MEMORY": self.daemon_memory}

    def master_spec(self) -> ServiceSpec:
        """The master as a supervised service, ready once its status page answers."""
        command = [
            str(spark_class()),
            MASTER_CLASS,
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--webui-port",
            str(self.webui_port),
        ]
        return ServiceSpec(
            name="spark-master",
            order=0,
            command=lambda: command,
            ports=(self.port, self.webui_port),
            ready=lambda: port_answers(HOST, self.port) and self.status() is not None,
            env=self._env(),
            start_timeout_s=self.start_timeout_s,
            describe=lambda: self.master_url,
        )

    def worker_spec(self, worker: WorkerSpec) -> ServiceSpec:
        """A worker as a supervised service, ready once the master lists it alive."""
        work_dir = self.state_dir / worker.name / "work"
        command = [
            str(spark_class()),
            WORKER_CLASS,
            "--host",
            HOST,
            "--port",
            str(worker.port),
            "--webui-port",
            str(worker.webui_port),
            "--cores",
            str(worker.cores),
            "--memory",
            worker.memory,
            "--work-dir",
            str(work_dir),
            self.master_url,
        ]
        return ServiceSpec(
            name=worker.name,
            order=1,
            command=lambda: command,
            ports=(worker.port, worker.webui_port),
            ready=lambda: self.worker_alive(worker),
            env=self._env(),
            prepare=lambda: work_dir.mkdir(parents=True, exist_ok=True),
            start_timeout_s=self.start_timeout_s,
            describe=lambda: f"{worker.cores} core(s), {worker.memory}",
        )

    def status(self) -> dict[str, Any] | None:
        """The master's JSON status (workers, applications), or None while it does not answer."""
        try:
            with urllib.request.urlopen(f"http://{HOST}:{self.webui_port}/json/", timeout=2) as answer:
                status: dict[str, Any] = json.load(answer)
        except (urllib.error.URLError, OSError, ValueError):
            return None
        return status

    def worker_alive(self, worker: WorkerSpec) -> bool:
        """True when the master lists `worker` as ALIVE."""
        status = self.status() or {}
        return any(
            w.get("port") == worker.port and w.get("state") == "ALIVE" for w in status.get("workers", [])
        )

    def alive_workers(self) -> int:
        """How many workers the master lists as ALIVE."""
        status = self.status() or {}
        return sum(1 for w in status.get("workers", []) if w.get("state") == "ALIVE")

    def start(self) -> None:
        """Start the master, then every worker, each waited for until it is ready."""
        self.supervisor.start(self.master_spec())
        for worker in self.worker_specs:
            self.supervisor.start(self.worker_spec(worker))

    def start_worker(self, index: int) -> None:
        """(Re)start one worker and wait until the master lists it alive."""
        self.supervisor.start(self.worker_spec(self.worker_specs[index]))

    def kill_worker(self, index: int) -> None:
        """SIGKILL one worker and the executors it launched, as a machine crash would."""
        self.supervisor.kill(self.worker_specs[index].name)

    def stop(self) -> None:
        """Stop the workers, then the master (gracefully, then by force)."""
        for worker in self.worker_specs:
            self.supervisor.stop(worker.name)
        self.supervisor.stop("spark-master")

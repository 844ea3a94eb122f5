"""pytest fixtures that run a real registry (a subprocess on a free port) against the test broker.

`registry_server` is one registry for the whole session, on topic `_schemas` of `kafka_broker`;
`registry_factory` starts private instances (own topic, follower, auth) that a test may stop,
kill or restart; every instance is stopped at the end.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from accord.registry.service import registry_ready
from accord.runtime.errors import PortInUseError, ServiceStartError
from accord.runtime.ports import free_port, port_is_free
from accord.runtime.services import accord_executable
from accord.runtime.supervisor import ServiceSpec, Supervisor
from accord.runtime.testing import BrokerHandle


@dataclass
class RegistryHandle:
    """A registry process started for tests."""

    bootstrap: str
    topic: str
    state_dir: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    writer_url: str | None = None
    users: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    name: str = "registry"

    @property
    def url(self) -> str:
        """Base URL of the registry's REST API."""
        return f"http://{self.host}:{self.port}"

    @property
    def supervisor(self) -> Supervisor:
        """The supervisor keeping this instance's process record."""
        return Supervisor(self.state_dir)

    @property
    def log_file(self) -> Path:
        """Where the instance's JSON logs go."""
        return self.supervisor.log_file(self.name)

    def spec(self) -> ServiceSpec:
        """The instance as a supervised service."""
        command = [
            accord_executable(),
            "registry",
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--bootstrap",
            self.bootstrap,
            "--topic",
            self.topic,
        ]
        if self.writer_url:
            command += ["--writer-url", self.writer_url]
        env = {
            "ACCORD_LOG_LEVEL": "INFO",
            "ACCORD_REGISTRY_USERS": json.dumps(dict(self.users)),
            **self.extra_env,
        }
        return ServiceSpec(
            name=self.name,
            order=10,
            command=lambda: command,
            ports=(self.port,),
            host=self.host,
            ready=lambda: registry_ready(self.url),
            env=env,
            start_timeout_s=60,
        )

    def start(self, attempts: int = 3) -> None:
        """Start (or restart) the instance and wait until it has read its topic.

        Other processes on the machine may take the chosen port between the choice and the
        bind; a start that fails that way is retried on a new port.
        """
        for attempt in range(attempts):
            try:
                self.supervisor.start(self.spec())
                return
            except (PortInUseError, ServiceStartError) as exc:
                if attempt == attempts - 1 or not _port_problem(exc, self.port):
                    raise
                self.port = free_port()

    def stop(self) -> None:
        """Stop the instance gracefully."""
        self.supervisor.stop(self.name)

    def kill(self) -> None:
        """SIGKILL the instance, as a crash would."""
        self.supervisor.kill(self.name)


def _port_problem(exc: Exception, port: int) -> bool:
    if isinstance(exc, PortInUseError):
        return True
    return "address already in use" in str(exc).lower() or not port_is_free("127.0.0.1", port)


@pytest.fixture(scope="session")
def registry_server(
    kafka_broker: BrokerHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryHandle]:
    """One real registry for the whole test session, storing schemas in `_schemas` of `kafka_broker`."""
    handle = RegistryHandle(kafka_broker.bootstrap, "_schemas", tmp_path_factory.mktemp("registry-session"))
    handle.start()
    yield handle
    handle.stop()


RegistryFactory = Callable[..., RegistryHandle]


@pytest.fixture
def registry_factory(
    kafka_broker: BrokerHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryFactory]:
    """Start private registries: `registry_factory(topic=…, writer_url=…, users=…, start=True)`.

    Without `topic`, each instance gets a topic of its own (so starts from an empty registry).
    """
    handles: list[RegistryHandle] = []

    def start(
        topic: str | None = None,
        *,
        writer_url: str | None = None,
        users: Mapping[str, Mapping[str, object]] | None = None,
        bootstrap: str | None = None,
        start: bool = True,
    ) -> RegistryHandle:
        handle = RegistryHandle(
            bootstrap or kafka_broker.bootstrap,
            topic or f"_schemas-{uuid.uuid4().hex[:12]}",
            tmp_path_factory.mktemp("registry-private"),
            writer_url=writer_url,
            users=users or {},
        )
        handles.append(handle)
        if start:
            handle.start()
        return handle

    yield start
    for handle in handles:
        handle.stop()

"""pytest fixtures that run real servers on free ports, apart from any stack a developer runs.

Loaded for the whole repository through `-p accord.runtime.testing` in the root pytest config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from accord.runtime.kafka import KafkaBroker
from accord.runtime.ports import free_port
from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import Supervisor


@dataclass
class BrokerHandle:
    """A broker started for tests, with the means to stop, kill and restart it."""

    settings: RuntimeSettings
    supervisor: Supervisor

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers of this broker."""
        return self.settings.kafka_bootstrap

    @property
    def broker(self) -> KafkaBroker:
        """The broker's files and commands."""
        return KafkaBroker(self.settings)

    def start(self) -> None:
        """Start (or restart) the broker and wait until it answers."""
        self.supervisor.start(self.broker.spec())

    def stop(self) -> None:
        """Stop the broker gracefully."""
        self.supervisor.stop(self.broker.name, self.settings.stop_timeout_s)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would."""
        self.supervisor.kill(self.broker.name)


def _cache_dir(config: pytest.Config) -> Path:
    return Path(config.rootpath) / ".cache"


def make_test_settings(state_dir: Path, cache_dir: Path) -> RuntimeSettings:
    """Runtime settings on free ports under `state_dir`, sharing the repository's jar cache."""
    return RuntimeSettings(
        state_dir=state_dir,
        cache_dir=cache_dir,
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        kafka_heap="-Xms128m -Xmx512m",
    )


@pytest.fixture(scope="session")
def kafka_broker(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[BrokerHandle]:
    """One real Kafka broker for the whole test session (topics `events` and its dead letters exist)."""
    settings = make_test_settings(tmp_path_factory.mktemp("kafka-session"), _cache_dir(pytestconfig))
    handle = BrokerHandle(settings, Supervisor(settings.state_dir))
    handle.start()
    yield handle
    handle.stop()


@pytest.fixture
def broker_factory(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[Callable[[], BrokerHandle]]:
    """Start private brokers for tests that stop, kill or restart them; all are stopped afterwards."""
    handles: list[BrokerHandle] = []

    def start() -> BrokerHandle:
        settings = make_test_settings(tmp_path_factory.mktemp("kafka-private"), _cache_dir(pytestconfig))
        handle = BrokerHandle(settings, Supervisor(settings.state_dir))
        handle.start()
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        handle.stop()

"""pytest fixtures that run real servers on free ports, apart from any stack a developer runs.

Loaded for the whole repository through `-p accord.runtime.testing` in the root pytest config.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
from confluent_kafka import Consumer, TopicPartition

from accord.runtime.addresses import KAFKA_PORT_STRIDE, bootstrap_list
from accord.runtime.kafka import KafkaBroker, cluster_nodes
from accord.runtime.kafka import service as kafka_service
from accord.runtime.ports import free_port, free_port_block
from accord.runtime.settings import RuntimeSettings
from accord.runtime.supervisor import Supervisor
from accord.runtime.waiting import wait_until

SPARK_TIMEOUT_S = 600
"""Per-test timeout of a test marked `spark` (the root config's default is for everything else)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give Spark tests `SPARK_TIMEOUT_S` unless they set their own `timeout` mark.

    A Spark test pays for a JVM, the session's first jar resolution and several micro-batches
    on two cores; the short default would fail it on a busy machine without catching a hang
    any sooner than the Spark suite's own waits do.
    """
    for item in items:
        if item.get_closest_marker("spark") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SPARK_TIMEOUT_S))


@dataclass
class BrokerHandle:
    """A broker started for tests (alone, or node `node_id` of a cluster), with the means to stop,
    kill and restart it."""

    settings: RuntimeSettings
    supervisor: Supervisor
    node_id: int = 1

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers of this broker (a single broker's are the cluster's)."""
        return bootstrap_list(self.settings.kafka_host, [self.broker.node.port])

    @property
    def broker(self) -> KafkaBroker:
        """The broker's files and commands."""
        return KafkaBroker(self.settings, cluster_nodes(self.settings)[self.node_id - 1])

    def start(self) -> None:
        """Start (or restart) the broker and wait until it answers, listed in the cluster's metadata."""
        broker = self.broker
        self.supervisor.start(broker.spec(last=self.settings.kafka_brokers == 1))
        wait_until(broker.ready, timeout_s=self.settings.start_timeout_s, describe=f"{broker.name} answers")

    def stop(self) -> None:
        """Stop the broker gracefully."""
        broker = self.broker
        self.supervisor.stop(broker.name, self.settings.stop_timeout_s, broker.stranded)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would."""
        self.supervisor.kill(self.broker.name)


@dataclass
class ClusterHandle:
    """A local Kafka cluster started for tests (`settings.kafka_brokers` brokers, topics created)."""

    settings: RuntimeSettings
    supervisor: Supervisor

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers of every broker."""
        return self.settings.local_bootstrap

    @property
    def brokers(self) -> list[BrokerHandle]:
        """One handle per broker, by node id from 1."""
        nodes = cluster_nodes(self.settings)
        return [BrokerHandle(self.settings, self.supervisor, node.node_id) for node in nodes]

    def start(self) -> None:
        """Start every broker, wait until all are registered and create the platform's topics."""
        for spec in kafka_service(self.settings):
            self.supervisor.start(spec)

    def stop(self) -> None:
        """Stop every broker gracefully, all at once."""
        self.supervisor.stop_together(kafka_service(self.settings), self.settings.stop_timeout_s)


def _cache_dir(config: pytest.Config) -> Path:
    return Path(config.rootpath) / ".cache"


def make_test_settings(state_dir: Path, cache_dir: Path, brokers: int = 1) -> RuntimeSettings:
    """Runtime settings on free ports under `state_dir`, sharing the repository's jar cache.

    With `brokers` > 1, a cluster on a block of consecutive free ports (broker and controller
    ports interleave, as `KAFKA_PORT_STRIDE` lays them out).
    """
    if brokers == 1:
        port, controller_port = free_port(), free_port()
    else:
        port = free_port_block(KAFKA_PORT_STRIDE * brokers)
        controller_port = port + 1
    return RuntimeSettings(
        state_dir=state_dir,
        cache_dir=cache_dir,
        kafka_port=port,
        kafka_controller_port=controller_port,
        kafka_brokers=brokers,
        kafka_bootstrap_servers=None,
        kafka_heap="-Xms128m -Xmx512m" if brokers == 1 else "-Xms128m -Xmx384m",
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


@pytest.fixture
def cluster_factory(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[Callable[[int], ClusterHandle]]:
    """Start private Kafka clusters (`cluster_factory(3)`) on loopback; all are stopped afterwards."""
    handles: list[ClusterHandle] = []

    def start(brokers: int) -> ClusterHandle:
        settings = make_test_settings(
            tmp_path_factory.mktemp("kafka-cluster"), _cache_dir(pytestconfig), brokers=brokers
        )
        handle = ClusterHandle(settings, Supervisor(settings.state_dir))
        handles.append(handle)
        handle.start()
        return handle

    yield start
    for handle in handles:
        handle.stop()


@dataclass(frozen=True)
class KafkaRecord:
    """A record read back from Kafka, its header values decoded as UTF-8."""

    key: bytes | None
    value: bytes
    headers: dict[str, str]


class TopicReader:
    """Reads what was produced to a topic after this reader was created (or all of it: `from_start`)."""

    def __init__(self, bootstrap: str, topic: str, *, from_start: bool = False) -> None:
        self.topic = topic
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"accord-tests-{uuid.uuid4()}",
                "enable.auto.commit": False,
            }
        )
        partitions = self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self._start = []
        for partition in partitions:
            low, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            self._start.append(TopicPartition(topic, partition, low if from_start else high))

    def read(self, expected: int, timeout_s: float = 15.0) -> list[KafkaRecord]:
        """Everything produced since the start offsets, waiting for at least `expected` records."""
        return self.read_until(lambda records: len(records) >= expected, timeout_s=timeout_s)

    def read_until(
        self, done: Callable[[list[KafkaRecord]], bool], *, timeout_s: float = 15.0, quiet_s: float = 0.2
    ) -> list[KafkaRecord]:
        """Every record since the start offsets, once `done(records)` holds and the topic has been
        quiet for `quiet_s` (so that a duplicate would still show); what was read by `timeout_s`
        otherwise, for the caller's assertion to judge.
        """
        self._consumer.assign(self._start)
        records: list[KafkaRecord] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = self._consumer.poll(quiet_s)
            if message is None:
                if done(records):
                    break
            elif not message.error():
                raw_headers = cast("list[tuple[str, bytes | None]]", message.headers() or [])
                headers = {name: (value or b"").decode() for name, value in raw_headers}
                records.append(KafkaRecord(message.key(), message.value() or b"", headers))
        return records

    def close(self) -> None:
        """Leave the topic."""
        self._consumer.close()

    def __enter__(self) -> TopicReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

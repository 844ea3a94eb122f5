"""`ACCORD_KAFKA_BROKERS=3 accord up --only kafka`: three brokers, replicated topics, one `down`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from accord.runtime.addresses import KAFKA_PORT_STRIDE
from accord.runtime.ports import free_port_block
from accord.runtime.waiting import wait_until

# three broker JVMs started one after the other on a shared machine
pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

ACCORD = str(Path(sys.executable).with_name("accord"))


def accord(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ACCORD, *args], env=env, capture_output=True, text=True, check=False, timeout=300)


@pytest.fixture
def cluster(tmp_path: Path, pytestconfig: pytest.Config) -> tuple[dict[str, str], str]:
    """`accord`'s environment for a 3-broker cluster on a free port block, and its bootstrap list."""
    first = free_port_block(KAFKA_PORT_STRIDE * 3)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ACCORD_KAFKA_")}
    env.update(
        {
            "ACCORD_STATE_DIR": str(tmp_path),
            "ACCORD_CACHE_DIR": str(Path(pytestconfig.rootpath) / ".cache"),
            "ACCORD_KAFKA_BROKERS": "3",
            "ACCORD_KAFKA_PORT": str(first),
            "ACCORD_KAFKA_CONTROLLER_PORT": str(first + 1),
            "ACCORD_KAFKA_HEAP": "-Xms128m -Xmx384m",
            "COLUMNS": "200",
        }
    )
    return env, ",".join(f"127.0.0.1:{first + KAFKA_PORT_STRIDE * i}" for i in range(3))


def replicas_of_platform_topics(bootstrap: str) -> set[int]:
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    return {
        len(partition.replicas)
        for topic in ("events", "events.deadletter")
        for partition in metadata.topics[topic].partitions.values()
    }


def wait_for_three_replicas(bootstrap: str) -> None:
    """Every platform topic partition lists 3 replicas (a broker's metadata can lag a moment)."""
    wait_until(
        lambda: replicas_of_platform_topics(bootstrap),
        until=lambda found: found == {3},
        timeout_s=60,
        describe="every platform topic partition with 3 replicas in the metadata",
    )


def test_up_runs_a_three_broker_cluster_and_down_stops_it(
    cluster: tuple[dict[str, str], str],
) -> None:
    env, bootstrap = cluster
    try:
        up = accord(env, "up", "--only", "kafka")
        assert up.returncode == 0, up.stdout + up.stderr
        assert all(f"kafka-{node} started" in up.stdout for node in (1, 2, 3)), up.stdout
        assert accord(env, "status", "--only", "kafka").returncode == 0
        metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
        assert sorted(metadata.brokers) == [1, 2, 3]
        wait_for_three_replicas(bootstrap)
    finally:
        down = accord(env, "down", "--only", "kafka")
    assert down.returncode == 0, down.stderr
    assert all(f"kafka-{node} stopped" in down.stdout for node in (1, 2, 3)), down.stdout
    # stopped together, none waits out the stop timeout for a quorum that is gone
    assert "did not stop in time" not in down.stdout + down.stderr
    assert accord(env, "status", "--only", "kafka").returncode == 1


def test_a_broker_left_without_its_quorum_is_stopped_at_once_and_restarts(
    cluster: tuple[dict[str, str], str],
) -> None:
    env, bootstrap = cluster
    try:
        assert accord(env, "up", "--only", "kafka").returncode == 0
        # two of the three controllers go first: the last broker's shutdown can never be granted
        assert accord(env, "down", "--only", "kafka-1", "--only", "kafka-2").returncode == 0
        last = accord(env, "down", "--only", "kafka-3")
        assert last.returncode == 0, last.stderr
        assert "kafka-3 stopped" in last.stdout
        output = last.stdout + last.stderr
        assert "cannot finish stopping on its own" in output, output
        assert "did not stop in time" not in output, output

        # the broker stopped by force recovers its logs and rejoins with every replica
        again = accord(env, "up", "--only", "kafka")
        assert again.returncode == 0, again.stdout + again.stderr
        wait_for_three_replicas(bootstrap)
    finally:
        accord(env, "down", "--only", "kafka")
    assert accord(env, "status", "--only", "kafka").returncode == 1

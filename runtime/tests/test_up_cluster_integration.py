"""`ACCORD_KAFKA_BROKERS=3 accord up --only kafka`: three brokers, replicated topics, one `down`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from accord.runtime.addresses import KAFKA_PORT_STRIDE
from accord.runtime.ports import free_port_block

# three broker JVMs started one after the other on a shared machine
pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

ACCORD = str(Path(sys.executable).with_name("accord"))


def accord(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ACCORD, *args], env=env, capture_output=True, text=True, check=False, timeout=300)


def test_up_runs_a_three_broker_cluster_and_down_stops_it(
    tmp_path: Path, pytestconfig: pytest.Config
) -> None:
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
    try:
        up = accord(env, "up", "--only", "kafka")
        assert up.returncode == 0, up.stdout + up.stderr
        assert all(f"kafka-{node} started" in up.stdout for node in (1, 2, 3)), up.stdout
        assert accord(env, "status", "--only", "kafka").returncode == 0

        bootstrap = ",".join(f"127.0.0.1:{first + KAFKA_PORT_STRIDE * i}" for i in range(3))
        metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
        assert sorted(metadata.brokers) == [1, 2, 3]
        for topic in ("events", "events.deadletter"):
            assert {len(p.replicas) for p in metadata.topics[topic].partitions.values()} == {3}
    finally:
        started = time.monotonic()
        down = accord(env, "down", "--only", "kafka")
        stopping_s = time.monotonic() - started
    assert down.returncode == 0, down.stderr
    assert all(f"kafka-{node} stopped" in down.stdout for node in (1, 2, 3)), down.stdout
    # stopped together, none waits out the stop timeout for a quorum that is gone
    assert "did not stop in time" not in down.stdout + down.stderr, f"down took {stopping_s:.0f}s"
    assert accord(env, "status", "--only", "kafka").returncode == 1

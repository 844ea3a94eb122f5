"""`accord up` as a user runs it off the default ports: only the port variables are set, the
contracts are registered once, and traffic through the gateway reaches Kafka at once."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.runtime.ports import free_port
from accord.runtime.testing import KafkaRecord, TopicReader
from accord.sdk import Client
from accord.sdk.events import Envelope, PageView
from accord.wire.headers import EVENT_ID

# the module's stack is `accord up` of three servers, allowed 300 s of its own
pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

ACCORD = str(Path(sys.executable).with_name("accord"))
SERVICES = ("--only", "kafka", "--only", "registry", "--only", "gateway")
CLIENT_ADDRESSES = ("ACCORD_KAFKA_BOOTSTRAP", "ACCORD_REGISTRY_URL", "ACCORD_GATEWAY_URL")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[dict[str, str]]:
    """A private stack started by `accord up` with nothing but its ports (and state folder) set."""
    env = {key: value for key, value in os.environ.items() if key not in CLIENT_ADDRESSES}
    env.update(
        {
            "ACCORD_STATE_DIR": str(tmp_path_factory.mktemp("stack")),
            "ACCORD_CACHE_DIR": str(Path(pytestconfig.rootpath) / ".cache"),
            "ACCORD_KAFKA_PORT": str(free_port()),
            "ACCORD_KAFKA_CONTROLLER_PORT": str(free_port()),
            "ACCORD_REGISTRY_PORT": str(free_port()),
            "ACCORD_GATEWAY_PORT": str(free_port()),
            "ACCORD_KAFKA_HEAP": "-Xms128m -Xmx512m",
            "COLUMNS": "200",
        }
    )
    first = accord(env, "up", *SERVICES)
    assert first.returncode == 0, first.stdout + first.stderr
    env["FIRST_UP"] = first.stdout
    yield env
    accord(env, "down")


def accord(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ACCORD, *args], env=env, capture_output=True, text=True, check=False, timeout=300)


def registrations(output: str) -> tuple[int, int]:
    """(new, already registered) from the `contracts:` line `up` prints."""
    found = re.search(r"contracts: (\d+) schema\(s\) registered, (\d+) already registered", output)
    assert found, output
    return int(found[1]), int(found[2])


def test_up_registers_the_contracts_once(stack: dict[str, str]) -> None:
    new, known = registrations(stack["FIRST_UP"])
    assert new > 0
    assert known == 0
    again = accord(stack, "up", *SERVICES)
    assert again.returncode == 0, again.stderr
    assert registrations(again.stdout) == (0, new)


def test_events_sent_right_after_up_reach_kafka(stack: dict[str, str]) -> None:
    event = PageView(envelope=Envelope(user_id="u-up"), url="https://example.com/pricing")
    gateway = f"http://127.0.0.1:{stack['ACCORD_GATEWAY_PORT']}"
    with Client(gateway, "dev-write-key") as client:
        client.track(event)
        assert client.flush(30)
        assert (client.counters.sent, client.counters.rejected) == (1, 0)

    def arrived(records: list[KafkaRecord]) -> bool:
        return str(event.envelope.event_id) in {r.headers.get(EVENT_ID) for r in records}

    with TopicReader(f"127.0.0.1:{stack['ACCORD_KAFKA_PORT']}", "events", from_start=True) as reader:
        assert arrived(reader.read_until(arrived, timeout_s=30))


def test_simulate_right_after_up_is_accepted(stack: dict[str, str], tmp_path: Path) -> None:
    truth = tmp_path / "truth.json"
    gateway = f"http://127.0.0.1:{stack['ACCORD_GATEWAY_PORT']}"
    done = accord(stack, "simulate", "--gateway-url", gateway, "--users", "20", "--truth", str(truth))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(truth.read_text())["sent"]["unique_valid"] > 0


def test_status_exits_1_while_a_service_is_stopped(stack: dict[str, str]) -> None:
    assert accord(stack, "status", *SERVICES).returncode == 0
    everything = accord(stack, "status")
    assert everything.returncode == 1
    assert "stream is stopped" in everything.stdout

"""`accord up`, `status` and `down` as a user runs them, against a real broker on free ports."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from accord.runtime.ports import free_port

pytestmark = pytest.mark.integration

ACCORD = str(Path(sys.executable).with_name("accord"))


@pytest.fixture
def stack_env(tmp_path: Path, pytestconfig: pytest.Config) -> Iterator[dict[str, str]]:
    """Environment of a private stack: its own state folder and ports, the shared jar cache."""
    env = {
        **os.environ,
        "ACCORD_STATE_DIR": str(tmp_path / "state"),
        "ACCORD_CACHE_DIR": str(Path(pytestconfig.rootpath) / ".cache"),
        "ACCORD_KAFKA_PORT": str(free_port()),
        "ACCORD_KAFKA_CONTROLLER_PORT": str(free_port()),
        "ACCORD_KAFKA_HEAP": "-Xms128m -Xmx512m",
        "COLUMNS": "200",
    }
    yield env
    subprocess.run([ACCORD, "down"], env=env, capture_output=True, check=False, timeout=120)


def accord(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ACCORD, *args], env=env, capture_output=True, text=True, check=False, timeout=180)


def jvms_of(state_dir: str) -> list[psutil.Process]:
    """Java processes whose command line points into `state_dir`."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "java" in (proc.info["name"] or "") and state_dir in cmdline:
            found.append(proc)
    return found


def test_up_is_idempotent_and_down_leaves_no_jvm(stack_env: dict[str, str]) -> None:
    first = accord(stack_env, "up", "--only", "kafka")
    assert first.returncode == 0, first.stderr
    assert stack_env["ACCORD_KAFKA_PORT"] in first.stdout
    [jvm] = jvms_of(stack_env["ACCORD_STATE_DIR"])

    second = accord(stack_env, "up", "--only", "kafka")
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    assert [p.pid for p in jvms_of(stack_env["ACCORD_STATE_DIR"])] == [jvm.pid]

    status = accord(stack_env, "status")
    assert "running" in status.stdout
    assert str(jvm.pid) in status.stdout

    down = accord(stack_env, "down")
    assert down.returncode == 0, down.stderr
    assert "kafka stopped" in down.stdout
    assert jvms_of(stack_env["ACCORD_STATE_DIR"]) == []
    stopped = accord(stack_env, "status", "--only", "kafka")
    assert stopped.returncode == 1  # a stopped service is down
    assert "kafka is stopped" in stopped.stdout


def test_status_shows_a_dead_broker_with_its_log(stack_env: dict[str, str]) -> None:
    assert accord(stack_env, "up", "--only", "kafka").returncode == 0
    [jvm] = jvms_of(stack_env["ACCORD_STATE_DIR"])
    jvm.send_signal(signal.SIGKILL)
    jvm.wait(10)

    status = accord(stack_env, "status")
    assert status.returncode == 1
    assert "kafka is down" in status.stdout
    log_file = Path(stack_env["ACCORD_STATE_DIR"]) / "kafka" / "kafka.log"
    last_line = log_file.read_text().splitlines()[-1]
    assert last_line.strip() in status.stdout  # the tail of the broker's own log

    restarted = accord(stack_env, "up", "--only", "kafka")
    assert restarted.returncode == 0, restarted.stderr
    assert accord(stack_env, "status", "--only", "kafka").returncode == 0


def test_port_taken_names_port_and_process_and_starts_nothing(stack_env: dict[str, str]) -> None:
    port = int(stack_env["ACCORD_KAFKA_PORT"])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        result = accord(stack_env, "up", "--only", "kafka")
    assert result.returncode == 1
    assert f"port {port} is already in use by pid {os.getpid()}" in result.stderr
    assert jvms_of(stack_env["ACCORD_STATE_DIR"]) == []


def _path_without(tmp_path: Path, *missing: str) -> str:
    """A PATH holding links to python and the given tools except `missing`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("java", "mvn"):
        found = shutil.which(tool)
        if tool not in missing and found:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_missing_java_is_named_with_a_hint(stack_env: dict[str, str], tmp_path: Path) -> None:
    stack_env["PATH"] = _path_without(tmp_path, "java")
    result = accord(stack_env, "up", "--only", "kafka")
    assert result.returncode == 1
    assert "java is not installed" in result.stderr
    assert "apt-get install openjdk-17-jre-headless" in result.stderr


def test_missing_maven_is_named_when_jars_must_be_resolved(stack_env: dict[str, str], tmp_path: Path) -> None:
    stack_env["PATH"] = _path_without(tmp_path, "mvn")
    stack_env["ACCORD_CACHE_DIR"] = str(tmp_path / "empty-cache")
    result = accord(stack_env, "up", "--only", "kafka")
    assert result.returncode == 1
    assert "mvn is not installed" in result.stderr
    assert "apt-get install maven" in result.stderr

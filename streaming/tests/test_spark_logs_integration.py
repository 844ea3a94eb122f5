"""The Spark driver logs JSON lines: `accord stream bronze --once` against the real broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accord.runtime.testing import BrokerHandle

pytestmark = [pytest.mark.integration, pytest.mark.spark]

ACCORD = str(Path(sys.executable).with_name("accord"))
# printed by the java launcher itself (Spark loads the vector incubator module), before any logger exists
JDK_LAUNCHER_NOTICE = "WARNING: Using incubator modules: jdk.incubator.vector"


def test_a_stream_run_logs_only_json_lines(
    kafka_broker: BrokerHandle, tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    env = {
        **os.environ,
        "ACCORD_KAFKA_BOOTSTRAP": kafka_broker.bootstrap,
        "ACCORD_LAKE_URI": str(tmp_path / "lake"),
        "ACCORD_STATE_DIR": str(tmp_path / "state"),
        "ACCORD_CACHE_DIR": str(Path(pytestconfig.rootpath) / ".cache"),
    }
    done = subprocess.run(
        [ACCORD, "--log-level", "INFO", "stream", "bronze", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line != JDK_LAUNCHER_NOTICE]
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"not a JSON line: {line[:200]}")
    assert any(entry["msg"] == "spark session started" for entry in entries)
    assert not [entry for entry in entries if entry["logger"].startswith("py4j")]

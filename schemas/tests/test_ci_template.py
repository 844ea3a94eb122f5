"""The adopters' CI template runs lint, check --against and codegen --check, and they pass without a JVM."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

# runs the real `accord` commands as subprocesses (tens of seconds): not part of the fast subset
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "ci"
WORKFLOW = TEMPLATE / ".github" / "workflows" / "accord-contracts.yml"
PRE_COMMIT = TEMPLATE / ".pre-commit-config.yaml"
CONTRACT_COMMANDS = (
    "accord schemas lint",
    "accord schemas check --against",
    "accord schemas codegen --check",
)


def _workflow() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return document


def workflow_commands() -> list[str]:
    """The `accord` commands of the workflow's steps, in order."""
    steps = _workflow()["jobs"]["contracts"]["steps"]
    return [step["run"] for step in steps if str(step.get("run", "")).startswith("accord ")]


def _prefixes(commands: list[str]) -> list[str]:
    return [next(p for p in CONTRACT_COMMANDS if command.startswith(p)) for command in commands]


def test_workflow_and_hooks_run_the_three_contract_commands() -> None:
    assert _prefixes(workflow_commands()) == list(CONTRACT_COMMANDS)
    hooks = yaml.safe_load(PRE_COMMIT.read_text())["repos"][0]["hooks"]
    assert _prefixes([hook["entry"] for hook in hooks]) == list(CONTRACT_COMMANDS)
    assert all(hook["pass_filenames"] is False for hook in hooks)


def _java_trap(tmp_path: Path) -> tuple[Path, Path]:
    """A `java` that records being run: first on PATH and as JAVA_HOME's, the places a JVM is found."""
    marker = tmp_path / "java-was-started"
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    java = home / "bin" / "java"
    java.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    java.chmod(java.stat().st_mode | stat.S_IXUSR)
    return home, marker


def _run_watching_for_java(command: str, env: dict[str, str], log: Path) -> tuple[int, str, list[str]]:
    """Run `command` like a CI step; return its exit code, output and any java process it started."""
    javas: list[str] = []
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, stdout=out, stderr=out)
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                names = [child.name() for child in watched.children(recursive=True)]
                javas += [name for name in names if "java" in name]
            time.sleep(0.05)
    return proc.returncode, log.read_text(), javas


def test_the_workflow_commands_pass_on_this_repository_without_a_jvm(tmp_path: Path) -> None:
    java_home, marker = _java_trap(tmp_path)
    expressions = re.compile(r"\$\{\{.*?\}\}")
    env = {
        **os.environ,
        **{key: expressions.sub("", str(value)) for key, value in _workflow()["env"].items()},
    }
    env["ACCORD_BASE_REF"] = "HEAD"  # what the base branch is in CI; here the last commit
    env["JAVA_HOME"] = str(java_home)
    env["PATH"] = os.pathsep.join([str(java_home / "bin"), str(Path(sys.executable).parent), env["PATH"]])
    timings = []
    for command in workflow_commands():
        started = time.monotonic()
        code, output, javas = _run_watching_for_java(command, env, tmp_path / "step.log")
        timings.append((command, time.monotonic() - started))
        assert code == 0, f"`{command}` failed:\n{output}"
        assert javas == [], f"`{command}` started {javas}"
    assert not marker.exists(), "a command ran java"
    load = os.getloadavg()[0]
    print(f"\n{'command':<60} {'seconds':>8}   (load average {load:.2f})")
    for command, seconds in timings:
        print(f"{command:<60} {seconds:>8.1f}")

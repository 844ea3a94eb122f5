"""The gbstats oracle: GrowthBook's stats engine in its own uv environment, called with JSON.

gbstats 0.8.0 pins numpy<2 and pandas<2, so it cannot live in the platform's environment; the
fixture creates `gold/oracle/.venv` from its lock file (once, then `uv sync` is a no-op).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ORACLE = Path(__file__).resolve().parents[1] / "oracle"

Oracle = Callable[[list[dict[str, Any]]], list[Any]]


def _uv() -> str:
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        pytest.fail("uv is needed to create the gbstats oracle's environment")
    return found


@pytest.fixture(scope="session")
def gbstats_oracle() -> Oracle:
    """A function sending cases to gbstats and returning its answers, one per case."""
    environment = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    subprocess.run(
        [_uv(), "sync", "--project", str(ORACLE), "--frozen", "--quiet"], check=True, env=environment
    )
    python = ORACLE / ".venv" / "bin" / "python"

    def ask(cases: list[dict[str, Any]]) -> list[Any]:
        answer = subprocess.run(
            [str(python), str(ORACLE / "gbstats_oracle.py")],
            input=json.dumps({"cases": cases}),
            capture_output=True,
            text=True,
            check=True,
        )
        results: list[Any] = json.loads(answer.stdout)["results"]
        return results

    return ask

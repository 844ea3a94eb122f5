"""Fixtures of the TypeScript SDK's tests: the npm package installed from its lock file and built."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1]


def npm(*args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `npm ARGS` in the package folder; fails the test with npm's output when npm fails."""
    done = subprocess.run(
        ["npm", *args], cwd=PACKAGE, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"`npm {' '.join(args)}` exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="session")
def sdk_ts() -> Path:
    """The sdk-ts package folder, its dependencies installed (`npm ci`) and `dist/` built."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the TypeScript SDK (sdk-ts/) cannot be built or tested")
    npm("ci", "--no-audit", "--no-fund", "--prefer-offline")
    npm("run", "build")
    return PACKAGE

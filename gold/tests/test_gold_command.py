"""`accord gold` on a lake Silver has not written yet: one clear message, before any JVM starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.runtime.cli import cli

pytestmark = pytest.mark.unit


def test_gold_without_silver_says_nothing_was_written_yet(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    result = CliRunner().invoke(
        cli, ["gold", "--report", str(tmp_path / "r.html")], env={"ACCORD_LAKE_URI": str(lake)}
    )
    assert result.exit_code == 1
    assert f"no Delta table at {lake / 'silver' / 'events'}" in result.output
    assert "has the pipeline written anything yet?" in result.output
    assert "starting Spark" not in result.output

"""`accord gold` on a lake Silver has not written to yet: one clear message, before any JVM starts."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner
from deltalake import DeltaTable

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


def test_gold_on_the_empty_silver_of_a_fresh_start_says_no_event_arrived_yet(tmp_path: Path) -> None:
    silver = tmp_path / "lake" / "silver" / "events"
    # the stream creates Silver empty when it starts
    DeltaTable.create(str(silver), pa.schema([("event_id", pa.string()), ("event_date", pa.date32())]))
    result = CliRunner().invoke(
        cli, ["gold", "--report", str(tmp_path / "r.html")], env={"ACCORD_LAKE_URI": str(tmp_path / "lake")}
    )
    assert result.exit_code == 1
    assert f"the Delta table at {silver} holds no row yet" in result.output
    assert "starting Spark" not in result.output

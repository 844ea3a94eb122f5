"""Which tables maintenance touches, its schedule and policy from settings, and its command line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.streaming.lake import Lake
from accord.streaming.maintenance import MIB, MaintenancePolicy, UnknownTableError, select_tables
from accord.streaming.maintenance_cli import lake
from accord.streaming.maintenance_schedule import Schedule, start_maintenance
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.unit


def test_by_default_only_tables_the_stream_appends_to_are_compacted(tmp_path: Path) -> None:
    paths = Lake(root=str(tmp_path), checkpoints=str(tmp_path / "_checkpoints"))

    assert [t.name for t in select_tables(paths)] == ["bronze", "silver", "event_ids", "silver_batches"]
    assert [t.name for t in select_tables(paths, include_merged=True)][-2:] == ["quarantine", "assignments"]
    assert [t.name for t in select_tables(paths, ["quarantine", "silver", "quarantine"])] == [
        "quarantine",
        "silver",
    ]
    with pytest.raises(UnknownTableError, match=r"golden.*the lake's tables: bronze"):
        select_tables(paths, ["golden"])


def test_schedule_and_policy_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_LAKE_OPTIMIZE_INTERVAL_MINUTES", "5")
    monkeypatch.setenv("ACCORD_LAKE_VACUUM_INTERVAL_MINUTES", "0")
    monkeypatch.setenv("ACCORD_LAKE_VACUUM_RETENTION_HOURS", "336")
    monkeypatch.setenv("ACCORD_LAKE_TARGET_FILE_MB", "128")
    settings = StreamingSettings()

    expected = Schedule(optimize_every=timedelta(minutes=5), vacuum_every=None)
    assert Schedule.from_settings(settings) == expected
    policy = MaintenancePolicy.from_settings(settings)
    assert policy.vacuum_retention == timedelta(days=14)
    assert (policy.min_file_bytes, policy.target_file_bytes) == (64 * MIB, 128 * MIB)
    assert policy.closed_after == settings.watermark_delay


def test_defaults_keep_a_week_of_time_travel_vacuum_daily_and_compact_every_quarter_hour() -> None:
    settings = StreamingSettings()

    assert MaintenancePolicy.from_settings(settings).vacuum_retention == timedelta(hours=168)
    schedule = Schedule.from_settings(settings)
    assert schedule.optimize_every == timedelta(minutes=15)
    assert schedule.vacuum_every == timedelta(days=1)


def test_maintenance_switched_off_starts_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_LAKE_OPTIMIZE_INTERVAL_MINUTES", "0")
    monkeypatch.setenv("ACCORD_LAKE_VACUUM_INTERVAL_MINUTES", "0")

    # no Spark session is needed to decide that nothing runs
    assert start_maintenance(None, StreamingSettings()) is None  # type: ignore[arg-type]
    assert start_maintenance(None, StreamingSettings(), enabled=False) is None  # type: ignore[arg-type]


def test_an_unknown_table_is_refused_before_spark_starts() -> None:
    result = CliRunner().invoke(lake, ["optimize", "--table", "nope"])

    assert isinstance(result.exception, UnknownTableError)
    assert "nope" in str(result.exception)


def test_a_negative_retention_is_refused_by_the_command_line() -> None:
    result = CliRunner().invoke(lake, ["vacuum", "--retention-hours", "-1"])

    assert result.exit_code == 2
    assert "retention-hours" in result.output

"""Ranges of replays and backfills, settings, lake layout and the status line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from accord.streaming.backfill import days
from accord.streaming.errors import InvalidRangeError
from accord.streaming.lake import Lake
from accord.streaming.ops import BatchCounts
from accord.streaming.progress import ProgressFile, describe
from accord.streaming.replay import offsets_option
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.unit


def test_replay_offsets_accept_keywords_and_per_partition_json() -> None:
    assert offsets_option("events", "earliest", ending=False) == "earliest"
    assert offsets_option("events", "latest", ending=True) == "latest"
    assert json.loads(offsets_option("events", '{"0": 5, "2": 7}', ending=False)) == {
        "events": {"0": 5, "2": 7}
    }


@pytest.mark.parametrize("offsets", ["yesterday", '{"zero": 1}', "[1, 2]"])
def test_replay_offsets_that_make_no_sense_are_refused_with_the_expected_form(offsets: str) -> None:
    with pytest.raises(InvalidRangeError, match="JSON object"):
        offsets_option("events", offsets, ending=False)


def test_a_replay_cannot_end_at_earliest() -> None:
    with pytest.raises(InvalidRangeError, match="cannot end"):
        offsets_option("events", "earliest", ending=True)


def test_backfill_days_include_both_ends_and_refuse_a_reversed_range() -> None:
    assert days(date(2026, 2, 27), date(2026, 3, 1)) == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
    ]
    with pytest.raises(InvalidRangeError, match="before it starts"):
        days(date(2026, 3, 2), date(2026, 3, 1))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_LAKE_URI", "s3a://bucket/lake")
    monkeypatch.setenv("ACCORD_WATERMARK_DELAY", "PT30M")
    settings = StreamingSettings()
    assert settings.uses_s3
    assert settings.watermark_delay == timedelta(minutes=30)
    lake = Lake.from_settings(settings)
    assert lake.silver == "s3a://bucket/lake/silver/events"
    assert lake.checkpoint("silver") == "s3a://bucket/lake/_checkpoints/silver"


def test_a_local_lake_is_absolute_and_checkpoints_may_live_elsewhere(tmp_path: Path) -> None:
    lake = Lake.from_settings(StreamingSettings(lake_uri="lake", checkpoint_uri=str(tmp_path)))
    assert Path(lake.bronze).is_absolute()
    assert lake.bronze.endswith("lake/bronze/events")
    assert lake.checkpoint("bronze") == f"{tmp_path}/bronze"


def test_status_line_shows_lag_and_silver_freshness(tmp_path: Path) -> None:
    progress = ProgressFile(tmp_path)
    assert describe(progress.read()) == "no batch yet"
    progress.update("ingest", {"kafka_lag": 12})
    progress.update("silver", {"finished_at": 1000.0, "freshness_s": 2.5})
    assert (
        describe(progress.read(), now=1004.0) == "kafka lag 12 offsets, silver batch 4s ago, freshness 2.5s"
    )
    progress.update("app", {"restarts": 2, "crash_loop": False})
    assert describe(progress.read(), now=1004.0).endswith("freshness 2.5s, 2 restart(s)")


def test_freshness_is_the_time_from_reception_to_the_end_of_the_batch() -> None:
    counts = BatchCounts(batch_id=1, source="stream")
    assert counts.freshness_s() is None
    counts.max_received_at = datetime(2026, 1, 1, 12, 0, 0)
    counts.finished_at = datetime(2026, 1, 1, 12, 0, 3, 500_000, tzinfo=UTC)
    assert counts.freshness_s() == 3.5

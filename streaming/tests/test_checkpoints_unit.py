"""The stream's tables checkpoint in different batches."""

from __future__ import annotations

from collections import Counter

import pytest

from accord.streaming.checkpoints import creation_properties, stream_intervals
from accord.streaming.lake import Lake
from accord.streaming.settings import StreamingSettings


@pytest.mark.parametrize("base", [10, 50, 200])
def test_no_two_stream_tables_checkpoint_at_one_version_for_the_first_five_intervals(base: int) -> None:
    intervals = stream_intervals(StreamingSettings(lake_uri="/lake", lake_checkpoint_interval=base))
    assert len(intervals) == 4
    checkpointing = Counter(
        version for interval in intervals.values() for version in range(interval, 5 * base + 1, interval)
    )
    assert max(checkpointing.values()) == 1


def test_other_tables_are_created_with_the_configured_interval() -> None:
    settings = StreamingSettings(lake_uri="/lake", lake_checkpoint_interval=30)
    lake = Lake.from_settings(settings)
    assert creation_properties(settings, lake.quarantine) == {"delta.checkpointInterval": "30"}
    assert creation_properties(settings, lake.silver_batches) == {"delta.checkpointInterval": "39"}

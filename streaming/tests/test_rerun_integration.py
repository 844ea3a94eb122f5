"""A micro-batch run again after its attempt died half-way writes every table exactly once."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from accord.streaming import delta_io
from accord.streaming.bronze import kafka_options
from accord.streaming.errors import StreamingError
from accord.streaming.ingest import IngestBatch
from accord.streaming.testing import Pipeline, envelope, post_events

pytestmark = [pytest.mark.integration, pytest.mark.spark]


class DriverKilledError(StreamingError):
    """Stands for the driver dying between two writes of a batch.

    A platform error, not a record's: the poison guard neither retries nor splits the batch for it,
    as it could not for a driver that is gone.
    """


def test_a_batch_rerun_after_dying_between_its_writes_keeps_every_event_once(
    pipeline: Pipeline, gateway_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = int(time.time() * 1000)
    ids = [str(uuid.uuid4()) for _ in range(5)]
    events = [
        {
            "schema": "accord.events.PageView",
            "payload": {"envelope": envelope(i, event_time_ms=now), "url": f"https://x/{n}"},
        }
        for n, i in enumerate(ids)
    ]
    assert post_events(gateway_server.url, gateway_server.write_key, events, now)["accepted"] == 5
    kafka = (
        pipeline.spark.read.format("kafka")
        .options(**kafka_options(pipeline.settings))
        .option("startingOffsets", pipeline.settings.starting_offsets)
        .load()
    )
    processor = IngestBatch(pipeline.settings, pipeline.catalog)
    processor.bind("query-1")

    # the first attempt appends Bronze and the event-id index, then dies before Silver
    append = delta_io.append

    def dies_before_silver(df: Any, path: str, **options: Any) -> None:
        if path == pipeline.lake.silver:
            raise DriverKilledError("the driver died")
        append(df, path, **options)

    monkeypatch.setattr(delta_io, "append", dies_before_silver)
    with pytest.raises(DriverKilledError):
        processor(kafka, 0)
    monkeypatch.setattr(delta_io, "append", append)
    assert pipeline.table("bronze").count() == 5
    assert pipeline.table("event_ids").count() == 5

    processor(kafka, 0)  # Spark runs the batch again after the restart
    processor(kafka, 0)  # and a batch whose writes all committed is a no-op

    assert pipeline.table("bronze").count() == 5
    assert sorted(r.event_id for r in pipeline.table("silver").select("event_id").collect()) == sorted(ids)
    assert pipeline.table("event_ids").count() == 5
    [batch] = pipeline.batches()
    assert (batch.input_rows, batch.inserted, batch.duplicates, batch.quarantined) == (5, 5, 0, {})

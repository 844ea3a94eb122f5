"""A micro-batch run again after its attempt died half-way writes every table exactly once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


def _posted_batch(pipeline: Pipeline, gateway_server: Any, count: int) -> tuple[list[str], Any, IngestBatch]:
    """`count` page views sent through the gateway, the Kafka rows that hold them, and a bound processor."""
    now = int(time.time() * 1000)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    events = [
        {
            "schema": "accord.events.PageView",
            "payload": {"envelope": envelope(i, event_time_ms=now), "url": f"https://x/{n}"},
        }
        for n, i in enumerate(ids)
    ]
    assert post_events(gateway_server.url, gateway_server.write_key, events, now)["accepted"] == count
    kafka = (
        pipeline.spark.read.format("kafka")
        .options(**kafka_options(pipeline.settings))
        .option("startingOffsets", pipeline.settings.starting_offsets)
        .load()
    )
    processor = IngestBatch(pipeline.settings, pipeline.catalog)
    processor.bind("query-1")
    return ids, kafka, processor


@contextmanager
def _failing_appends(monkeypatch: pytest.MonkeyPatch, failing_path: str, error: Exception) -> Iterator[None]:
    """Every append to `failing_path` raises `error` inside the block; other tables are written."""
    append = delta_io.append

    def append_or_fail(df: Any, path: str, **options: Any) -> None:
        if path == failing_path:
            raise error
        append(df, path, **options)

    monkeypatch.setattr(delta_io, "append", append_or_fail)
    try:
        yield
    finally:
        monkeypatch.setattr(delta_io, "append", append)


def test_a_batch_rerun_after_dying_between_its_writes_keeps_every_event_once(
    pipeline: Pipeline, gateway_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, kafka, processor = _posted_batch(pipeline, gateway_server, 5)

    # the first attempt appends Bronze and the event-id index, then dies before Silver
    died = DriverKilledError("the driver died")
    with _failing_appends(monkeypatch, pipeline.lake.silver, died), pytest.raises(DriverKilledError):
        processor(kafka, 0)
    assert pipeline.table("bronze").count() == 5
    assert pipeline.table("event_ids").count() == 5

    processor(kafka, 0)  # Spark runs the batch again after the restart
    processor(kafka, 0)  # and a batch whose writes all committed is a no-op

    assert pipeline.table("bronze").count() == 5
    assert sorted(r.event_id for r in pipeline.table("silver").select("event_id").collect()) == sorted(ids)
    assert pipeline.table("event_ids").count() == 5
    [batch] = pipeline.batches()
    assert (batch.input_rows, batch.inserted, batch.duplicates, batch.quarantined) == (5, 5, 0, {})


class IndexWriteError(RuntimeError):
    """A write of the event-id index that keeps failing while Silver's succeeds beside it."""


def test_a_batch_whose_index_write_keeps_failing_after_silver_committed_is_failed_not_split(
    pipeline: Pipeline, gateway_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, kafka, processor = _posted_batch(pipeline, gateway_server, 4)

    # Silver and the index are written at once; the index's write fails on every attempt. The
    # guard retries the batch, then sees that Silver took it: no record is poison, so the batch
    # fails as a whole instead of being split into parts that would write Silver again
    refused = IndexWriteError("the index's storage refuses writes")
    with _failing_appends(monkeypatch, pipeline.lake.event_ids, refused), pytest.raises(IndexWriteError):
        processor(kafka, 0)
    assert pipeline.table("silver").count() == 4
    assert delta_io.load_if_exists(pipeline.spark, pipeline.lake.event_ids) is None
    assert delta_io.load_if_exists(pipeline.spark, pipeline.lake.quarantine) is None

    processor(kafka, 0)  # the restarted query runs the batch again: the index is completed

    assert sorted(r.event_id for r in pipeline.table("silver").select("event_id").collect()) == sorted(ids)
    assert pipeline.table("event_ids").count() == 4
    assert pipeline.table("bronze").count() == 4
    [batch] = pipeline.batches()
    assert (batch.input_rows, batch.inserted, batch.duplicates, batch.quarantined) == (4, 4, 0, {})

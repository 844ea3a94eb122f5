"""A starting stream service warms up on synthetic records without touching the lake or Kafka."""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

import pytest

from accord.streaming.testing import Pipeline, produce_raw
from accord.streaming.warmup import WARMUP_FOLDER, synthetic_values, warm_up

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def test_synthetic_records_of_every_contract_become_silver_rows(pipeline: Pipeline) -> None:
    writers = [w[-1] for w in pipeline.catalog.registered_events().by_subject.values()]
    values = synthetic_values(writers, 300)
    produce_raw(
        pipeline.settings.kafka_bootstrap, pipeline.settings.events_topic, values, int(time.time() * 1000)
    )
    pipeline.run()

    [batch] = pipeline.batches()
    assert batch.input_rows == 300
    # every record decodes and passes the envelope's rules; only a contract's own rule can refuse
    # the plain values: Purchase's currency must be an ISO code
    assert (batch.inserted, batch.quarantined) == (250, {"rule_violation:currency_code": 50}), batch
    kept = Counter(row.event_type for row in pipeline.table("silver").select("event_type").collect())
    assert set(kept) == {w.event_type for w in writers} - {"purchase"}
    assert set(kept.values()) == {50}


def test_the_warm_up_runs_its_batches_in_a_scratch_lake_and_leaves_nothing(
    pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    stream = pipeline.with_settings(stream_warmup_batches=2)
    with caplog.at_level(logging.INFO, logger="accord.streaming"):
        warm_up(stream.spark, stream.settings, stream.catalog)

    [done] = [r for r in caplog.records if r.getMessage() == "stream warmed up"]
    assert done.__dict__["batches"] == 2
    ingest_batches = [r for r in caplog.records if r.getMessage() == "ingest batch"]
    assert [r.__dict__["input_rows"] for r in ingest_batches] == [3_000, 3_300], "a tenth resent"
    silver_batches = [r for r in caplog.records if r.getMessage() == "silver batch"]
    # the 300 resent records, less the 50 Purchases the contract's currency rule quarantines again
    assert [r.__dict__["duplicates"] for r in silver_batches] == [0, 250]
    assert not (Path(stream.settings.state_dir) / WARMUP_FOLDER).exists()
    assert not Path(stream.lake.root).exists(), "the real lake is not touched"


def test_a_warm_up_that_fails_is_skipped(pipeline: Pipeline, caplog: pytest.LogCaptureFixture) -> None:
    # nothing listens on the discard port
    stream = pipeline.with_settings(registry_url="http://127.0.0.1:9", stream_warmup_batches=1)
    with caplog.at_level(logging.INFO, logger="accord.streaming"):
        warm_up(stream.spark, stream.settings, stream.catalog)
    assert any(r.getMessage() == "stream warm-up failed, starting cold" for r in caplog.records)
    assert not (Path(stream.settings.state_dir) / WARMUP_FOLDER).exists()

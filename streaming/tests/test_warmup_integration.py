"""A starting stream service warms up on synthetic records without touching the lake or Kafka."""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

import pytest

from accord.streaming.batch_schemas import ResolvedWriter
from accord.streaming.testing import Pipeline, produce_raw
from accord.streaming.warmup import WARMUP_FOLDER, synthetic_values, warm_up

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def latest_writers(pipeline: Pipeline) -> list[ResolvedWriter]:
    return [w[-1] for w in pipeline.catalog.registered_events().by_subject.values()]


def test_synthetic_records_become_silver_rows_of_every_contract_without_rules_of_its_own(
    pipeline: Pipeline,
) -> None:
    # a contract's own rules (Purchase's currency must be an ISO code) may refuse plain values;
    # the envelope's rules and decoding never do
    writers = [w for w in latest_writers(pipeline) if w.rule_set_json is None]
    assert len(writers) >= 5
    values = synthetic_values(writers, 50 * len(writers))
    now = int(time.time() * 1000)
    produce_raw(pipeline.settings.kafka_bootstrap, pipeline.settings.events_topic, values, now)
    pipeline.run()

    [batch] = pipeline.batches()
    assert (batch.input_rows, batch.inserted, batch.quarantined) == (len(values), len(values), {}), batch
    kept = Counter(row.event_type for row in pipeline.table("silver").select("event_type").collect())
    assert kept == Counter(w.event_type for w in writers for _ in range(50))


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
    first, second = (r.__dict__ for r in caplog.records if r.getMessage() == "silver batch")
    assert first["duplicates"] == 0
    # the 300 resent records are duplicates, but for those a contract's own rules refuse again;
    # records take turns over the writers, so those of writers without rules are known
    writers = latest_writers(stream)
    without_rules = sum(1 for n in range(300) if writers[n % len(writers)].rule_set_json is None)
    assert without_rules <= second["duplicates"] <= 300
    assert second["inserted"] + second["duplicates"] + sum(second["quarantined"].values()) == 3_300
    assert not (Path(stream.settings.state_dir) / WARMUP_FOLDER).exists()
    assert not Path(stream.lake.root).exists(), "the real lake is not touched"


def test_a_warm_up_that_fails_is_skipped(pipeline: Pipeline, caplog: pytest.LogCaptureFixture) -> None:
    # nothing listens on the discard port
    stream = pipeline.with_settings(registry_url="http://127.0.0.1:9", stream_warmup_batches=1)
    with caplog.at_level(logging.INFO, logger="accord.streaming"):
        warm_up(stream.spark, stream.settings, stream.catalog)
    assert any(r.getMessage() == "stream warm-up failed, starting cold" for r in caplog.records)
    assert not (Path(stream.settings.state_dir) / WARMUP_FOLDER).exists()

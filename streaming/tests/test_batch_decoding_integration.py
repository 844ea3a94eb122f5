"""A Silver batch is decoded with the schema ids of the batch before, and with its own when they differ.

In a steady stream one job both reads a batch and summarises its decoded rows. A
batch that brings an id not tried, or whose guess no longer plans (a contract's latest version
changed under it), is decoded with exactly the ids it holds, and loses nothing.
"""

from __future__ import annotations

import itertools
import json
import random
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from pyspark.sql import DataFrame, Row

from accord.registry_client import CompatibilityLevel, RegistryClient
from accord.streaming import silver as silver_module
from accord.streaming.bronze import BRONZE_SCHEMA
from accord.streaming.ops import BatchCounts
from accord.streaming.silver import SilverBatch
from accord.streaming.testing import PageViewFramer, Pipeline, registered_for_the_test

pytestmark = [pytest.mark.integration, pytest.mark.spark]

PAGE_VIEW = "events-accord.events.PageView"
_offsets = itertools.count()


def uuid7() -> str:
    """A UUIDv7 of now: the ids of a later batch sort after those of an earlier one, as in a stream."""
    millis = time.time_ns() // 1_000_000
    version, variant = 0x7, 0b10
    bits = (millis << 80) | (version << 76) | (random.getrandbits(12) << 64) | (variant << 62)
    return str(uuid.UUID(int=bits | random.getrandbits(62)))


def framed(framer: PageViewFramer, event_time_ms: int) -> bytes:
    """One framed event with a UUIDv7 id of now."""
    return framer.record(event_time_ms, event_id=uuid7())[1]


def bronze_rows(pipeline: Pipeline, values: list[bytes]) -> DataFrame:
    """Bronze rows of `values`, as the ingest query hands a batch to Silver."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows: list[tuple[Any, ...]] = [
        (
            b"u",
            value,
            pipeline.settings.events_topic,
            0,
            next(_offsets),
            now,
            [],
            struct.unpack(">I", value[1:5])[0],
            now,
            now.date(),
        )
        for value in values
    ]
    return pipeline.spark.createDataFrame(rows, BRONZE_SCHEMA)


def processed(silver: SilverBatch, pipeline: Pipeline, values: list[bytes], batch_id: int) -> BatchCounts:
    """The counts of one batch of `values`."""
    return silver.process(bronze_rows(pipeline, values), batch_id)


class SummaryJobs:
    """Counts the summarising jobs (`silver._summary`, one Spark job each) a batch runs."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.runs = 0
        summary = silver_module._summary

        def counted(events: DataFrame | None, rejects: DataFrame) -> list[Row]:
            self.runs += 1
            return summary(events, rejects)

        monkeypatch.setattr(silver_module, "_summary", counted)

    def of(self, run: Callable[[], BatchCounts]) -> tuple[BatchCounts, int]:
        """What `run` returns, and how many summarising jobs it ran."""
        before = self.runs
        counts = run()
        return counts, self.runs - before


@dataclass
class Setup:
    """A Silver step bound to a query of its own, and framers of two contracts."""

    silver: SilverBatch
    page_views: PageViewFramer
    probes: PageViewFramer
    probe_subject: str


@pytest.fixture
def setup(pipeline: Pipeline, registered_schemas: str) -> Iterator[Setup]:
    """A subject of its own (a `PageView` renamed, any change allowed) beside PageView's."""
    client = RegistryClient(registered_schemas)
    schema = client.resolved_schema(client.latest(PAGE_VIEW).id)
    namespace = f"test.decoding{uuid.uuid4().hex[:8]}"
    subject = f"events-{namespace}.Probe"
    client.set_subject_level(subject, CompatibilityLevel.NONE)
    with registered_for_the_test(
        registered_schemas, subject, {**schema, "name": "Probe", "namespace": namespace}
    ):
        silver = SilverBatch(pipeline.settings, pipeline.catalog)
        silver.bind(str(uuid.uuid4()))
        yield Setup(
            silver,
            PageViewFramer(registered_schemas, PAGE_VIEW),
            PageViewFramer(registered_schemas, subject),
            subject,
        )


def test_a_batch_with_the_ids_of_the_batch_before_is_read_and_summarised_by_one_job(
    pipeline: Pipeline, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = SummaryJobs(monkeypatch)
    now = int(time.time() * 1000)

    def batch_of(framer: PageViewFramer, batch_id: int) -> Callable[[], BatchCounts]:
        return lambda: processed(setup.silver, pipeline, [framed(framer, now) for _ in range(20)], batch_id)

    first, first_jobs = jobs.of(batch_of(setup.probes, 0))
    new_id, new_id_jobs = jobs.of(batch_of(setup.page_views, 1))
    same_ids, same_ids_jobs = jobs.of(batch_of(setup.page_views, 2))

    assert [c.inserted for c in (first, new_id, same_ids)] == [20, 20, 20]
    assert (first_jobs, new_id_jobs, same_ids_jobs) == (2, 2, 1)
    assert pipeline.table("silver").count() == 60


def test_a_batch_whose_guess_no_longer_plans_is_decoded_with_its_own_ids(
    pipeline: Pipeline, registered_schemas: str, setup: Setup
) -> None:
    now = int(time.time() * 1000)
    values = [framed(framer, now) for _ in range(5) for framer in (setup.page_views, setup.probes)]
    both = processed(setup.silver, pipeline, values, 0)
    assert both.inserted == 10

    # the probe's latest version now has an envelope whose event_time is a record: the two ids
    # of the batch before no longer plan together, though a batch of page views alone does
    client = RegistryClient(registered_schemas)
    schema = client.resolved_schema(setup.probes.schema_id)
    fields = []
    for field in schema["fields"]:
        if field["name"] == "envelope":
            envelope = field["type"]
            moment = {"type": "record", "name": "Moment", "fields": [{"name": "millis", "type": "long"}]}
            changed = [{**f, "type": moment} if f["name"] == "event_time" else f for f in envelope["fields"]]
            field = {**field, "type": {**envelope, "fields": changed}}
        fields.append(field)
    client.register(setup.probe_subject, json.dumps({**schema, "fields": fields}))
    time.sleep(1.5)  # the catalog asks for a subject's latest version at most once a second

    alone = processed(setup.silver, pipeline, [framed(setup.page_views, now) for _ in range(10)], 1)

    assert (alone.input_rows, alone.inserted, alone.quarantined) == (10, 10, {})
    assert pipeline.table("silver").count() == 20

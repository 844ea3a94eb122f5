"""A Silver batch is decoded with the schema ids of the batch before, and with its own when they differ.

In a steady stream the first job of a batch both reads it and summarises its decoded rows. A
batch that brings an id not tried, or whose guess no longer plans (a contract's latest version
changed under it), is decoded with exactly the ids it holds, and loses nothing.
"""

from __future__ import annotations

import io
import itertools
import json
import random
import struct
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import fastavro
import httpx
import pytest
from pyspark.sql import DataFrame

from accord.registry_client import CompatibilityLevel, RegistryClient
from accord.streaming.bronze import BRONZE_SCHEMA
from accord.streaming.ops import BatchCounts
from accord.streaming.silver import SilverBatch
from accord.streaming.testing import Pipeline

pytestmark = [pytest.mark.integration, pytest.mark.spark]

PAGE_VIEW = "events-accord.events.PageView"
_offsets = itertools.count()


def uuid7() -> str:
    """A UUIDv7 of now: the ids of a later batch sort after those of an earlier one, as in a stream."""
    millis = time.time_ns() // 1_000_000
    version, variant = 0x7, 0b10
    bits = (millis << 80) | (version << 76) | (random.getrandbits(12) << 64) | (variant << 62)
    return str(uuid.UUID(int=bits | random.getrandbits(62)))


class Framer:
    """Confluent-framed records of a subject's latest version, as the gateway writes them."""

    def __init__(self, registry_url: str, subject: str) -> None:
        client = RegistryClient(registry_url)
        self.schema_id = client.latest(subject).id
        self.schema = fastavro.parse_schema(client.resolved_schema(self.schema_id))

    def record(self, event_time_ms: int) -> bytes:
        """One framed event with a new id."""
        envelope = {
            "event_id": uuid7(),
            "event_time": event_time_ms,
            "user_id": "user-decoding",
            "anonymous_id": None,
            "session_id": None,
            "context": {"platform": "WEB"},
        }
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, self.schema, {"envelope": envelope, "url": "https://decoding/"})
        return struct.pack(">bI", 0, self.schema_id) + buffer.getvalue()


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


def processed(
    silver: SilverBatch, pipeline: Pipeline, values: list[bytes], batch_id: int
) -> tuple[BatchCounts, int]:
    """The counts of one batch of `values` and the number of Spark jobs it ran."""
    context = pipeline.spark.sparkContext
    group = f"decoding-{uuid.uuid4()}"
    context.setJobGroup(group, f"batch {batch_id}")
    try:
        counts = silver.process(bronze_rows(pipeline, values), batch_id)
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]
    return counts, len(context.statusTracker().getJobIdsForGroup(group))


@pytest.fixture
def probe_subject(registered_schemas: str) -> Iterator[str]:
    """A subject of its own (a `PageView` renamed), deleted afterwards from the shared registry."""
    client = RegistryClient(registered_schemas)
    schema = client.resolved_schema(client.latest(PAGE_VIEW).id)
    namespace = f"test.decoding{uuid.uuid4().hex[:8]}"
    subject = f"events-{namespace}.Probe"
    client.set_subject_level(subject, CompatibilityLevel.NONE)
    client.register(subject, json.dumps({**schema, "name": "Probe", "namespace": namespace}))
    try:
        yield subject
    finally:
        for permanent in ("false", "true"):
            answer = httpx.delete(f"{registered_schemas}/subjects/{subject}", params={"permanent": permanent})
            answer.raise_for_status()


def test_a_batch_with_the_ids_of_the_batch_before_runs_one_job_fewer(
    pipeline: Pipeline, registered_schemas: str, probe_subject: str
) -> None:
    page_views = Framer(registered_schemas, PAGE_VIEW)
    probes = Framer(registered_schemas, probe_subject)
    silver = SilverBatch(pipeline.settings, pipeline.catalog)
    silver.bind(str(uuid.uuid4()))
    now = int(time.time() * 1000)

    first, _ = processed(silver, pipeline, [probes.record(now) for _ in range(20)], 0)
    new_id, new_id_jobs = processed(silver, pipeline, [page_views.record(now) for _ in range(20)], 1)
    same_ids, same_ids_jobs = processed(silver, pipeline, [page_views.record(now) for _ in range(20)], 2)

    assert [c.inserted for c in (first, new_id, same_ids)] == [20, 20, 20]
    assert same_ids_jobs == new_id_jobs - 1, (new_id_jobs, same_ids_jobs)
    assert pipeline.table("silver").count() == 60


def test_a_batch_whose_guess_no_longer_plans_is_decoded_with_its_own_ids(
    pipeline: Pipeline, registered_schemas: str, probe_subject: str
) -> None:
    page_views = Framer(registered_schemas, PAGE_VIEW)
    probes = Framer(registered_schemas, probe_subject)
    silver = SilverBatch(pipeline.settings, pipeline.catalog)
    silver.bind(str(uuid.uuid4()))
    now = int(time.time() * 1000)
    both, _ = processed(silver, pipeline, [f.record(now) for _ in range(5) for f in (page_views, probes)], 0)
    assert both.inserted == 10

    # the probe's latest version now has an envelope whose event_time is a record: the two ids
    # of the batch before no longer plan together, though a batch of page views alone does
    client = RegistryClient(registered_schemas)
    schema = client.resolved_schema(probes.schema_id)
    fields = []
    for field in schema["fields"]:
        if field["name"] == "envelope":
            envelope = field["type"]
            moment = {"type": "record", "name": "Moment", "fields": [{"name": "millis", "type": "long"}]}
            changed = [{**f, "type": moment} if f["name"] == "event_time" else f for f in envelope["fields"]]
            field = {**field, "type": {**envelope, "fields": changed}}
        fields.append(field)
    client.register(probe_subject, json.dumps({**schema, "fields": fields}))
    time.sleep(1.5)  # the catalog asks for a subject's latest version at most once a second

    values = [page_views.record(now) for _ in range(10)]
    alone, _ = processed(silver, pipeline, values, 1)

    assert (alone.input_rows, alone.inserted, alone.quarantined) == (10, 10, {})
    assert pipeline.table("silver").count() == 20

"""Registry down: events of known schema ids keep reaching Silver, after a restart of the stream too.

Ids are immutable, so the stream keeps every schema it fetched on disk (`accord.streaming.
schema_cache`). A batch holding an id it never fetched waits for the registry instead of
quarantining its records as unknown, and goes through once the registry is back.
"""

from __future__ import annotations

import io
import json
import time
import uuid

import fastavro
import pytest
from pyspark.errors import StreamingQueryException

from accord.registry.testing import RegistryFactory
from accord.registry_client import RegistryClient
from accord.streaming.delta_io import load_if_exists
from accord.streaming.testing import Pipeline, envelope, produce_raw, register_event_schemas
from accord.wire.framing import frame

pytestmark = [pytest.mark.integration, pytest.mark.spark]

SUBJECT = "events-accord.events.PageView"


def _page_view(client: RegistryClient, schema_id: int) -> tuple[str, bytes]:
    event_id = str(uuid.uuid4())
    record = {"envelope": envelope(event_id, event_time_ms=int(time.time() * 1000)), "url": "https://outage/"}
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(client.resolved_schema(schema_id)), record)
    return event_id, frame(schema_id, buffer.getvalue())


def test_known_ids_flow_to_silver_while_the_registry_is_down_and_unknown_ones_wait(
    pipeline: Pipeline, registry_factory: RegistryFactory
) -> None:
    registry = registry_factory()
    register_event_schemas(registry.url)
    client = RegistryClient(registry.url)
    v1 = client.latest(SUBJECT)
    known, known_bytes = _page_view(client, v1.id)
    during, during_bytes = _page_view(client, v1.id)
    # each `with_settings` is a new stream process: nothing in memory, the state folder on disk
    pipeline = pipeline.with_settings(registry_url=registry.url, registry_wait_s=2.0)
    settings = pipeline.settings
    now = int(time.time() * 1000)
    topic = settings.events_topic

    produce_raw(settings.kafka_bootstrap, topic, [known_bytes], now)
    pipeline.run()
    # a compatible second version, registered but never seen by the stream before the outage
    schema = json.loads(v1.schema)
    schema["fields"].append({"name": "note", "type": ["null", "string"], "default": None})
    v2 = client.register(SUBJECT, json.dumps(schema), v1.references)
    unseen, unseen_bytes = _page_view(client, v2.id)
    registry.stop()
    produce_raw(settings.kafka_bootstrap, topic, [during_bytes], now)
    pipeline.with_settings().run()

    silver = {r.event_id for r in pipeline.table("silver").select("event_id").collect()}
    assert {known, during} <= silver, "a known id decodes from the cache while the registry is down"

    produce_raw(settings.kafka_bootstrap, topic, [unseen_bytes], now)
    with pytest.raises(StreamingQueryException):
        pipeline.with_settings().run()
    quarantined = load_if_exists(pipeline.spark, pipeline.lake.quarantine)
    assert quarantined is None or quarantined.count() == 0, "an id never fetched waits, it is not quarantined"

    registry.start()
    pipeline.with_settings(registry_url=registry.url).run()
    rows = [r.event_id for r in pipeline.table("silver").select("event_id").collect()]
    assert sorted(rows) == sorted([known, during, unseen]), "each event in Silver once"

"""A compatible schema change mid-stream becomes a new column, without restarting the queries."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from accord.registry_client import Reference, RegistryClient
from accord.streaming.delta_io import table_exists
from accord.streaming.testing import Pipeline, envelope, post_events

pytestmark = [pytest.mark.integration, pytest.mark.spark]

SUBJECT = "events-accord.tests.EvolvingEvent"
ENVELOPE = "accord.common.Envelope"


def _schema(fields: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": "EvolvingEvent",
            "namespace": "accord.tests",
            "fields": [{"name": "envelope", "type": ENVELOPE}, *fields],
        }
    )


LABEL = {"name": "label", "type": "string"}
SCORE = {"name": "score", "type": ["null", "long"], "default": None}


def _event(version: int, now: int, **fields: Any) -> dict[str, Any]:
    return {
        "schema": SUBJECT,
        "version": version,
        "payload": {"envelope": envelope(str(uuid.uuid4()), event_time_ms=now), **fields},
    }


def test_a_new_optional_field_becomes_a_column_and_a_dropped_one_is_rescued(
    pipeline: Pipeline, gateway_server: Any, registered_schemas: str
) -> None:
    client = RegistryClient(registered_schemas)
    envelope_ref = [Reference(ENVELOPE, ENVELOPE, client.latest(ENVELOPE).version)]
    v1 = client.register(SUBJECT, _schema([LABEL]), envelope_ref).version
    url, key = gateway_server.url, gateway_server.write_key

    with pipeline.streaming():
        now = int(time.time() * 1000)
        old = [_event(v1, now, label=f"old-{n}") for n in range(3)]
        assert post_events(url, key, old, now)["accepted"] == 3
        pipeline.wait_for("silver", "event_type = 'evolving_event'", 3)

        v2 = client.register(SUBJECT, _schema([LABEL, SCORE]), envelope_ref).version
        new = [_event(v2, now, label=f"new-{n}", score=n) for n in range(2)]
        assert post_events(url, key, new, now)["accepted"] == 2
        pipeline.wait_for("silver", "event_type = 'evolving_event'", 5)

        # v3 drops `label`: a v2 writer's label no longer has a column, so it is rescued
        v3 = client.register(SUBJECT, _schema([SCORE]), envelope_ref).version
        late_writer = [_event(v2, now, label="kept-aside", score=7)]
        assert post_events(url, key, late_writer, now)["accepted"] == 1
        pipeline.wait_for("silver", "event_type = 'evolving_event'", 6)
        assert v3 > v2 > v1

    rows = {r.event_id: r for r in pipeline.table("silver").filter("event_type = 'evolving_event'").collect()}
    for event in old:
        row = rows[event["payload"]["envelope"]["event_id"]]
        assert row.evolving_event.score is None
        assert row.evolving_event.label.startswith("old-")
    for n, event in enumerate(new):
        row = rows[event["payload"]["envelope"]["event_id"]]
        assert row.evolving_event.score == n
        assert row.rescued_data is None
    rescued = rows[late_writer[0]["payload"]["envelope"]["event_id"]]
    assert rescued.evolving_event.score == 7
    assert json.loads(rescued.rescued_data) == {"label": "kept-aside"}
    assert not table_exists(pipeline.spark, pipeline.lake.quarantine), "nothing was quarantined"

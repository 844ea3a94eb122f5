"""Gateway → Kafka → Bronze → Silver / Quarantine, with duplicates, late and malformed events."""

from __future__ import annotations

import io
import time
from collections import Counter
from typing import Any

import fastavro
import pytest

from accord.streaming.testing import Pipeline, envelope, post_events, produce_raw
from accord.wire.framing import frame

pytestmark = [pytest.mark.integration, pytest.mark.spark]

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def page_view(
    event_time_ms: int, user: str | None = "user-0", event_id: str | None = None, url: str = "https://x/"
) -> dict[str, Any]:
    return {
        "schema": "accord.events.PageView",
        "payload": {"envelope": envelope(event_id, event_time_ms=event_time_ms, user_id=user), "url": url},
    }


def exposure(event_time_ms: int, user: str, experiment: str, variant: str) -> dict[str, Any]:
    return {
        "schema": "accord.events.ExperimentExposure",
        "payload": {
            "envelope": envelope(event_time_ms=event_time_ms, user_id=user),
            "experiment_id": experiment,
            "variant": variant,
        },
    }


def event_ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["payload"]["envelope"]["event_id"] for e in events]


def test_every_accepted_event_ends_exactly_once_in_silver_or_quarantine(
    pipeline: Pipeline, gateway_server: Any, gateway_factory: Any, registered_schemas: str
) -> None:
    # a second gateway replica has its own duplicate memory, so resent events reach Kafka twice,
    # as they do when a client retries against another instance
    replica = gateway_factory()
    now = int(time.time() * 1000)
    exposures = [
        exposure(now - 60_000, "user-1", "exp-1", "A"),
        exposure(now - 60_000, "user-2", "exp-1", "B"),
    ]
    views = [page_view(now - 5_000, user=f"user-{n % 4}") for n in range(20)]
    too_old = page_view(now - 60 * DAY_MS)
    anonymous = page_view(now - 5_000, user=None)
    malformed: list[dict[str, Any]] = [
        {"schema": "accord.events.PageView", "payload": {"envelope": envelope(event_time_ms=now)}}
    ] * 2

    first = post_events(
        gateway_server.url,
        gateway_server.write_key,
        [*exposures, *views, too_old, anonymous, *malformed],
        now - 2_000,
    )
    # the gateway keeps the event rules Silver applies, so it refuses the rule breakers itself
    assert first["accepted"] == 22
    assert [r["code"] for r in first["rejected"]] == [
        "event_time_too_old",
        "missing_identity",
        "missing_field",
        "missing_field",
    ]
    resent = post_events(replica.url, replica.write_key, views[:5], now - 1_000)
    conflicting = page_view(now - 5_000, event_id=event_ids(views)[5], url="https://other/")
    conflict = post_events(replica.url, replica.write_key, [conflicting], now - 1_000)
    assert resent["accepted"] == 5
    assert conflict["accepted"] == 1

    settings = pipeline.settings
    client_ids = _schema_ids(registered_schemas)
    page_view_id = client_ids["events-accord.events.PageView"]
    produce_raw(
        settings.kafka_bootstrap,
        settings.events_topic,
        [
            b"not framed at all",
            frame(987_654, b"\x02"),
            frame(page_view_id, b"\xff\xff\xff"),
            # a producer that bypasses the gateway: Silver applies the same rules
            _framed(registered_schemas, page_view_id, too_old["payload"]),
            _framed(registered_schemas, page_view_id, anonymous["payload"]),
        ],
        now,
    )
    pipeline.run()

    late = [page_view(now - 2 * HOUR_MS, user="user-1") for _ in range(3)]
    fresh = [page_view(now + 1_000, user="user-2") for _ in range(4)]
    second = post_events(gateway_server.url, gateway_server.write_key, [*late, *fresh], now + 2_000)
    assert second["accepted"] == 7
    pipeline.run()

    silver = pipeline.table("silver")
    quarantine = pipeline.table("quarantine")
    bronze = pipeline.table("bronze")
    valid = event_ids(exposures) + event_ids(views) + event_ids(late) + event_ids(fresh)
    kept = [r.event_id for r in silver.select("event_id").collect()]
    assert sorted(kept) == sorted(valid), "each valid event exactly once"

    reasons = Counter(r.reason for r in quarantine.select("reason").collect())
    assert reasons == {
        "bad_framing": 1,
        "unknown_schema": 1,
        "undecodable": 1,
        "conflicting_duplicate": 1,
        "rule_violation:event_time_too_old": 1,
        "rule_violation:missing_identity": 1,
    }
    assert quarantine.filter("reason = 'conflicting_duplicate'").collect()[0].event_id == event_ids(views)[5]

    accepted = 22 + 5 + 1 + 5 + 7
    batches = pipeline.batches()
    duplicates = sum(b.duplicates for b in batches)
    assert bronze.count() == accepted
    assert duplicates == 5
    assert bronze.count() == silver.count() + quarantine.count() + duplicates
    assert sum(b.input_rows for b in batches) == bronze.count()
    assert sum(b.inserted for b in batches) == silver.count()

    late_ids = {r.event_id for r in silver.filter("is_late").select("event_id").collect()}
    assert late_ids == set(event_ids(late))
    assert sum(b.late for b in batches) == 3

    row = silver.filter(silver.event_id == event_ids(views)[0]).collect()[0]
    assert row.event_type == "page_view"
    assert row.page_view.url == "https://x/"
    shift = row.received_at - row.sent_at
    assert row.event_time_corrected == row.event_time + shift
    exposed = silver.filter("user_id = 'user-1' AND event_type = 'page_view' AND NOT is_late").collect()
    assert exposed
    assert all(r.experiments == {"exp-1": "A"} for r in exposed)
    # events from before the exposure carry no assignment
    assert all(r.experiments == {} for r in silver.filter("is_late").collect())

    # every Bronze record is accounted for by its Kafka coordinates
    coordinates = ["kafka_partition", "kafka_offset"]
    raw = bronze.selectExpr(
        "partition AS kafka_partition", "offset AS kafka_offset", "sha2(value, 256) AS sha"
    )
    rest = raw.join(silver.select(*coordinates), coordinates, "left_anti").join(
        quarantine.select(*coordinates), coordinates, "left_anti"
    )
    assert rest.count() == duplicates
    assert rest.join(silver.selectExpr("payload_sha256 AS sha"), "sha", "left_anti").count() == 0


def _framed(registry_url: str, schema_id: int, payload: dict[str, Any]) -> bytes:
    from accord.registry_client import RegistryClient

    schema = fastavro.parse_schema(RegistryClient(registry_url).resolved_schema(schema_id))
    body = io.BytesIO()
    fastavro.schemaless_writer(body, schema, payload)
    return frame(schema_id, body.getvalue())


def _schema_ids(registry_url: str) -> dict[str, int]:
    from accord.registry_client import RegistryClient

    client = RegistryClient(registry_url)
    return {s: client.latest(s).id for s in client.subjects() if s.startswith("events-")}

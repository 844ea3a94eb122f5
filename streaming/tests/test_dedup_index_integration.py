"""Deduplication through the event-id index: exact for copies resent days later, v4 ids included."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from accord.streaming.testing import Pipeline, envelope, post_events

pytestmark = [pytest.mark.integration, pytest.mark.spark]

DAY_MS = 86_400_000


def uuid7(millis: int) -> str:
    """A UUIDv7 whose timestamp is `millis`."""
    random_bits = uuid.uuid4().int
    rand_a, rand_b = (random_bits >> 64) & 0xFFF, random_bits & (2**62 - 1)
    value = (millis & (2**48 - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def page_view(event_id: str, event_time_ms: int, url: str) -> dict[str, Any]:
    return {
        "schema": "accord.events.PageView",
        "payload": {"envelope": envelope(event_id, event_time_ms=event_time_ms), "url": url},
    }


def test_copies_resent_days_later_and_v4_ids_are_deduplicated_exactly(
    pipeline: Pipeline, gateway_server: Any, gateway_factory: Any
) -> None:
    now = int(time.time() * 1000)
    three_days_ago = now - 3 * DAY_MS
    old_v7 = page_view(uuid7(three_days_ago), three_days_ago, "https://old/")
    fresh_v7 = page_view(uuid7(now), now, "https://fresh/")
    v4 = page_view(str(uuid.uuid4()), now, "https://v4/")
    url, key = gateway_server.url, gateway_server.write_key
    assert post_events(url, key, [old_v7, fresh_v7, v4], now)["accepted"] == 3
    pipeline.run()

    # days later a client resends the old event as it was, and sends other bytes under the v4 id;
    # another gateway replica has no memory of them, so both reach Kafka
    replica = gateway_factory()
    conflicting_v4 = page_view(v4["payload"]["envelope"]["event_id"], now, "https://other/")
    answer = post_events(replica.url, replica.write_key, [old_v7, conflicting_v4], now + 1_000)
    assert answer["accepted"] == 2
    pipeline.run()

    silver = pipeline.table("silver")
    ids = [e["payload"]["envelope"]["event_id"] for e in (old_v7, fresh_v7, v4)]
    assert sorted(r.event_id for r in silver.select("event_id").collect()) == sorted(ids)
    assert {r.event_id: r.page_view.url for r in silver.collect()}[ids[2]] == "https://v4/", "first copy kept"
    reasons = Counter(r.reason for r in pipeline.table("quarantine").collect())
    assert reasons == {"conflicting_duplicate": 1}
    assert sum(b.duplicates for b in pipeline.batches()) == 1

    buckets = {r.event_id: r.id_bucket for r in pipeline.table("event_ids").collect()}
    old_day = datetime.fromtimestamp(three_days_ago / 1000, UTC).date().isoformat()
    assert buckets == {
        ids[0]: f"v7-{old_day}",
        ids[1]: f"v7-{datetime.fromtimestamp(now / 1000, UTC).date().isoformat()}",
        ids[2]: f"hex-{ids[2][:2]}",
    }
    # Silver is partitioned by date only
    detail = pipeline.spark.sql(f"DESCRIBE DETAIL delta.`{pipeline.lake.silver}`").collect()[0]
    assert detail.partitionColumns == ["event_date"]

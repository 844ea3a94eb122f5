"""Records Silver cannot take are quarantined with a reason; the events after them flow.

Under ANSI mode an overflowing skew correction used to fail the micro-batch, so the stream died
on the same batch after every restart. A record that still makes processing throw (here, an
event whose column cannot join Silver's) is found by splitting its batch and quarantined as
`poison`; the rest of the batch reaches Silver once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer

from accord.registry_client import RegistryClient
from accord.streaming.testing import PageViewFramer, Pipeline, registered_for_the_test
from accord.wire.headers import RECEIVED_AT, SENT_AT

pytestmark = [pytest.mark.integration, pytest.mark.spark]

SUBJECT = "events-accord.events.PageView"


@pytest.fixture
def page_view_of_another_namespace(registered_schemas: str) -> Iterator[str]:
    """The subject of a `PageView` of another namespace whose `url` is a number.

    The gateway would take it and it decodes, but its `page_view` column cannot join Silver's,
    where `url` is a string. The subject is deleted afterwards: the registry is shared, and the
    stream of a later test would find two `page_view` contracts that cannot share the column.
    """
    client = RegistryClient(registered_schemas)
    schema = client.resolved_schema(client.latest(SUBJECT).id)
    namespace = f"test.poison{uuid.uuid4().hex[:8]}"
    fields = [{**f, "type": "long"} if f["name"] == "url" else f for f in schema["fields"]]
    subject = f"events-{namespace}.PageView"
    with registered_for_the_test(
        registered_schemas, subject, {**schema, "namespace": namespace, "fields": fields}
    ):
        yield subject


def test_out_of_range_times_are_quarantined_and_later_events_reach_silver(
    pipeline: Pipeline, registered_schemas: str
) -> None:
    now = int(time.time() * 1000)
    page_views = PageViewFramer(registered_schemas)
    far_future, far_future_bytes = page_views.record(9_223_372_036_854_775, url="https://poison/")
    skewed, skewed_bytes = page_views.record(250_000_000_000_000, url="https://poison/")
    good, good_bytes = page_views.record(now, url="https://poison/")
    producer = Producer({"bootstrap.servers": pipeline.settings.kafka_bootstrap})
    topic = pipeline.settings.events_topic
    received = str(now).encode()
    # event time at the edge of a long; a client clock in year 1 moving a year-9892 event past 9999;
    # a received-at header at the edge of a long
    clocks: list[tuple[str, str | bytes | None]] = [
        (RECEIVED_AT, received),
        (SENT_AT, received),
    ]
    producer.produce(topic, key=b"u", value=far_future_bytes, headers=clocks)
    producer.produce(
        topic,
        key=b"u",
        value=skewed_bytes,
        headers=[(RECEIVED_AT, received), (SENT_AT, b"-62135596800000")],
    )
    producer.produce(topic, key=b"u", value=good_bytes, headers=[(RECEIVED_AT, b"9223372036854775807")])
    assert producer.flush(10) == 0

    pipeline.run()

    silver = {r.event_id for r in pipeline.table("silver").select("event_id").collect()}
    reasons = {r.event_id: r.reason for r in pipeline.table("quarantine").collect()}
    assert good in silver, "the event after the poison records reached Silver"
    assert reasons[skewed] == "rule_violation:event_time_out_of_range"
    assert reasons[far_future] == "rule_violation:event_time_out_of_range"


@pytest.mark.timeout(1200)
def test_a_record_that_makes_silver_throw_is_quarantined_as_poison_and_the_query_goes_on(
    pipeline: Pipeline, registered_schemas: str, page_view_of_another_namespace: str
) -> None:
    # each try of a part is a Silver batch of its own: two tries keep the test short
    pipeline.settings = pipeline.settings.model_copy(update={"batch_attempts": 2})
    now = int(time.time() * 1000)
    poison_subject = page_view_of_another_namespace
    page_views = PageViewFramer(registered_schemas)
    good = [page_views.record(now, url=f"https://ok/{n}") for n in range(3)]
    _, poison_bytes = PageViewFramer(registered_schemas, poison_subject).record(now, url=404)
    producer = Producer({"bootstrap.servers": pipeline.settings.kafka_bootstrap})
    topic = pipeline.settings.events_topic
    headers: list[tuple[str, str | bytes | None]] = [(RECEIVED_AT, str(now).encode())]
    for value in (good[0][1], good[1][1], poison_bytes, good[2][1]):
        producer.produce(topic, key=b"u", value=value, headers=headers)
    assert producer.flush(10) == 0

    with pipeline.streaming():
        pipeline.wait_for("quarantine", "reason = 'poison'", 1, timeout_s=900)
        pipeline.wait_for("silver", "true", len(good))
        later, later_bytes = page_views.record(now, url="https://ok/later")
        producer.produce(topic, key=b"u", value=later_bytes, headers=headers)
        assert producer.flush(10) == 0
        pipeline.wait_for("silver", f"event_id = '{later}'", 1)

    silver = [r.event_id for r in pipeline.table("silver").select("event_id").collect()]
    assert sorted(silver) == sorted([event_id for event_id, _ in good] + [later]), "each good event once"
    [poisoned] = pipeline.table("quarantine").filter("reason = 'poison'").collect()
    assert bytes(poisoned.value) == poison_bytes
    assert "DELTA_FAILED_TO_MERGE_FIELDS" in poisoned.detail, poisoned.detail
    assert "page_view" in poisoned.detail, poisoned.detail
    assert pipeline.table("quarantine").count() == 1, "only the poison record is quarantined"

"""Which writer and reader schema decode each schema id of a batch."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accord.streaming.batch_schemas import ENVELOPE_COLUMNS, BatchSchemaResolver, UnknownSchemaError
from accord.wire.vectors import wire_vectors

pytestmark = pytest.mark.unit

ENVELOPE_FIELDS: list[dict[str, Any]] = [
    {"name": name, "type": ["null", "string"]} for name in ENVELOPE_COLUMNS
]
ENVELOPE: dict[str, Any] = {
    "name": "envelope",
    "type": {"type": "record", "name": "Envelope", "namespace": "accord.common", "fields": ENVELOPE_FIELDS},
}


def _record(*fields: dict[str, Any], name: str = "PageView") -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "accord.events", "fields": [ENVELOPE, *fields]}


class FakeRegistry:
    """An in-memory registry: ids → schemas, subjects → latest id; counts the lookups."""

    def __init__(self, schemas: dict[int, dict[str, Any]], latest: dict[str, int]) -> None:
        self.schemas, self.latest = schemas, latest
        self.fetched: list[int] = []

    def resolved_schema(self, schema_id: int) -> dict[str, Any]:
        self.fetched.append(schema_id)
        if schema_id not in self.schemas:
            raise UnknownSchemaError(f"schema id {schema_id} is not registered")
        return self.schemas[schema_id]

    def latest_id(self, subject: str) -> int | None:
        return self.latest.get(subject)

    def rule_set(self, schema_id: int) -> dict[str, Any] | None:
        return None

    def subjects(self) -> list[str]:
        return list(self.latest)


URL = {"name": "url", "type": "string"}
TITLE = {"name": "title", "type": ["null", "string"], "default": None}


@pytest.mark.parametrize(
    "case", [c for c in wire_vectors()["event_types"] if "." not in c["record"]], ids=lambda c: c["record"]
)
def test_each_writer_has_the_event_type_and_subject_of_the_wire_vectors(case: dict[str, str]) -> None:
    subject = f"events-accord.events.{case['record']}"
    registry = FakeRegistry({1: _record(URL, name=case["record"])}, {subject: 1})
    [writer] = BatchSchemaResolver(registry, "events").for_batch([1]).by_subject[subject]
    assert writer.event_type == case["event_type"]


def test_every_version_of_a_subject_is_read_with_the_latest_schema() -> None:
    v1, v2 = _record(URL), _record(URL, TITLE)
    registry = FakeRegistry({1: v1, 2: v2}, {"events-accord.events.PageView": 2})
    batch = BatchSchemaResolver(registry, "events").for_batch([1, 2, 1])

    writers = batch.by_subject["events-accord.events.PageView"]
    assert [w.schema_id for w in writers] == [1, 2]
    assert all(json.loads(w.reader_json) == v2 for w in writers)
    assert writers[0].needs_resolution
    assert not writers[1].needs_resolution
    assert {w.event_type for w in writers} == {"page_view"}
    assert batch.unknown == {}


def test_fields_the_reader_dropped_are_listed_for_rescue() -> None:
    registry = FakeRegistry({1: _record(URL, TITLE), 2: _record(URL)}, {"events-accord.events.PageView": 2})
    writers = (
        BatchSchemaResolver(registry, "events").for_batch([1]).by_subject["events-accord.events.PageView"]
    )
    assert writers[0].rescued_fields == ("title",)


def test_unknown_ids_and_non_event_schemas_are_set_apart_with_a_reason() -> None:
    not_an_event = {"type": "record", "name": "Thing", "fields": [URL]}
    # the registry answers a primitive or a union schema as the JSON it is, not as an object
    primitive: Any = "int"
    union: Any = ["null", "string"]
    registry = FakeRegistry(
        {1: _record(URL), 3: not_an_event, 4: primitive, 5: union}, {"events-accord.events.PageView": 1}
    )
    batch = BatchSchemaResolver(registry, "events").for_batch([1, 2, 3, 4, 5])
    assert list(batch.by_subject) == ["events-accord.events.PageView"]
    assert batch.unknown == {
        2: "schema id 2 is not registered",
        3: "schema 3 is not an event record with an `envelope` field",
        4: "schema 4 is not an event record with an `envelope` field",
        5: "schema 5 is not an event record with an `envelope` field",
    }


def test_an_envelope_without_the_fields_silver_reads_is_set_apart_up_front() -> None:
    """Decoding such a record would fail its whole batch: it is quarantined as `unknown_schema`."""
    partial = {**ENVELOPE, "type": {**ENVELOPE["type"], "fields": ENVELOPE_FIELDS[:4]}}
    no_context = {"type": "record", "name": "Odd", "namespace": "accord.events", "fields": [partial, URL]}
    flat = {"type": "record", "name": "Flat", "namespace": "accord.events",
            "fields": [{"name": "envelope", "type": "string"}]}  # fmt: skip
    # version 1 is a full event; the latest version of its subject dropped two envelope fields
    latest_partial = {**no_context, "name": "PageView"}
    registry = FakeRegistry(
        {1: no_context, 2: flat, 3: _record(URL), 4: latest_partial},
        {"events-accord.events.PageView": 4},
    )
    batch = BatchSchemaResolver(registry, "events").for_batch([1, 2, 3])
    assert batch.by_subject == {}
    assert batch.unknown == {
        1: "schema 1 has an `envelope` without `session_id`, `context`",
        2: "schema 2 has an `envelope` that is not a record",
        3: "schema 3 is read as the latest events-accord.events.PageView, which has an `envelope` "
        "without `session_id`, `context`",
    }


def test_writer_schemas_are_fetched_once_per_process() -> None:
    registry = FakeRegistry({1: _record(URL)}, {"events-accord.events.PageView": 1})
    catalog = BatchSchemaResolver(registry, "events")
    catalog.for_batch([1])
    catalog.for_batch([1])
    assert registry.fetched == [1]


def test_a_subject_the_registry_does_not_know_is_read_with_its_writer_schema() -> None:
    v1 = _record(URL)
    batch = BatchSchemaResolver(FakeRegistry({1: v1}, {}), "events").for_batch([1])
    writer = batch.by_subject["events-accord.events.PageView"][0]
    assert json.loads(writer.reader_json) == v1
    assert not writer.needs_resolution


def test_the_registered_events_are_the_latest_version_of_each_event_subject_of_the_topic() -> None:
    v1, v2 = _record(URL), _record(URL, TITLE)
    purchase = _record({"name": "amount", "type": "double"}, name="Purchase")
    envelope_only = {"type": "record", "name": "Envelope", "namespace": "accord.common", "fields": []}
    other_topic = _record(URL, name="Click")
    registry = FakeRegistry(
        {1: v1, 2: v2, 3: purchase, 4: envelope_only, 5: other_topic, 6: _record(name="PageView")},
        {
            "events-accord.events.PageView": 2,
            "events-accord.events.Purchase": 3,
            "accord.common.Envelope": 4,
            "clicks-accord.events.Click": 5,
            # the topic `events-eu`, whose subjects start like this topic's
            "events-eu-accord.events.PageView": 6,
            # a subject whose record is another one's
            "events-accord.events.PageViewOld": 6,
            # a latest version deleted between the two asks
            "events-accord.events.Signup": 99,
        },
    )
    registered = BatchSchemaResolver(registry, "events").registered_events()
    assert {
        subject: [w.schema_id for w in writers] for subject, writers in registered.by_subject.items()
    } == {
        "events-accord.events.PageView": [2],
        "events-accord.events.Purchase": [3],
    }
    # the envelope is a reference of the events, not an unknown id of some batch
    assert registered.unknown == {}
    assert 5 not in registry.fetched, "another topic's subjects are not read"

"""Schema identity: Java Avro's `Schema.toString()` text, and equality by parsed schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from accord.registry.canonical import canonical_schema, contract_identity
from accord.registry.records import KeyType, RecordKey, SchemaValue
from accord.registry.store import SchemaStore
from accord.registry_client.compatibility import InvalidSchemaError
from accord.registry_client.models import Reference

pytestmark = pytest.mark.unit

ORDER: dict[str, Any] = {
    "namespace": "accord.shop",
    "type": "record",
    "name": "Order",
    "doc": "An order.",
    "fields": [
        {"type": "string", "name": "order_id"},
        {"default": 0.0, "name": "amount", "type": "double", "doc": "in euros"},
        {"name": "tags", "type": {"items": "string", "type": "array"}, "default": []},
        {
            "name": "status",
            "type": {"symbols": ["NEW", "PAID"], "name": "Status", "type": "enum", "default": "NEW"},
        },
        {"name": "previous", "type": ["null", "Status"], "default": None},
    ],
}


@pytest.mark.parametrize(
    ("given", "java"),
    [
        # Java's toString(): fixed attribute order, compact, namespace after name
        (
            ORDER,
            '{"type":"record","name":"Order","namespace":"accord.shop","doc":"An order.","fields":['
            '{"name":"order_id","type":"string"},'
            '{"name":"amount","type":"double","doc":"in euros","default":0.0},'
            '{"name":"tags","type":{"type":"array","items":"string"},"default":[]},'
            '{"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"],"default":"NEW"}},'
            '{"name":"previous","type":["null","Status"],"default":null}]}',
        ),
        # reserved attributes are not properties: Confluent stores {"type":"int","name":"N"} as "int"
        ({"type": "int", "name": "N"}, '"int"'),
        ({"type": "string"}, '"string"'),
        # properties (logical types included) stay, in the order given
        (
            {"logicalType": "timestamp-millis", "type": "long"},
            '{"type":"long","logicalType":"timestamp-millis"}',
        ),
        # a dotted name is split; a nested type in the same namespace omits it
        (
            {
                "type": "record",
                "name": "a.b.R",
                "fields": [{"name": "c", "type": {"type": "record", "name": "a.b.C", "fields": []}}],
            },
            '{"type":"record","name":"R","namespace":"a.b","fields":'
            '[{"name":"c","type":{"type":"record","name":"C","fields":[]}}]}',
        ),
        # a type in the null namespace inside a namespaced one says so
        (
            {
                "type": "record",
                "name": "R",
                "namespace": "a",
                "fields": [{"name": "c", "type": {"type": "fixed", "name": "F", "namespace": "", "size": 2}}],
            },
            '{"type":"record","name":"R","namespace":"a","fields":'
            '[{"name":"c","type":{"type":"fixed","name":"F","namespace":"","size":2}}]}',
        ),
        # a full-name reference to a type of the same namespace is written short; aliases qualified
        (
            {
                "type": "record",
                "name": "R",
                "namespace": "a",
                "aliases": ["Old", "b.Older"],
                "fields": [
                    {"name": "x", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
                    {"name": "y", "type": "a.E", "order": "DESCENDING", "aliases": ["z"]},
                ],
            },
            '{"type":"record","name":"R","namespace":"a","fields":'
            '[{"name":"x","type":{"type":"enum","name":"E","symbols":["A"]}},'
            '{"name":"y","type":"E","order":"descending","aliases":["z"]}],"aliases":["Old","b.Older"]}',
        ),
        # numbers as Java's Double.toString writes them; a textual double default becomes a number
        (
            {
                "type": "record",
                "name": "N",
                "fields": [
                    {"name": "a", "type": "double", "default": 1e10},
                    {"name": "b", "type": "float", "default": "0.5"},
                    {"name": "c", "type": "double", "default": 0.0001},
                ],
            },
            '{"type":"record","name":"N","fields":[{"name":"a","type":"double","default":1.0E10},'
            '{"name":"b","type":"float","default":0.5},{"name":"c","type":"double","default":1.0E-4}]}',
        ),
    ],
)
def test_canonical_text_is_java_avro_to_string(given: Any, java: str) -> None:
    assert canonical_schema(json.dumps(given)).text == java


def test_referenced_types_are_named_not_inlined() -> None:
    envelope = json.dumps({"type": "record", "name": "Envelope", "namespace": "accord.common", "fields": []})
    event = {
        "type": "record",
        "name": "PageView",
        "namespace": "accord.events",
        "fields": [{"name": "envelope", "type": "accord.common.Envelope"}],
    }
    canonical = canonical_schema(json.dumps(event), {"accord.common.Envelope": envelope})
    assert canonical.text == (
        '{"type":"record","name":"PageView","namespace":"accord.events",'
        '"fields":[{"name":"envelope","type":"accord.common.Envelope"}]}'
    )


def same(a: Any, b: Any) -> bool:
    return canonical_schema(json.dumps(a)).identity == canonical_schema(json.dumps(b)).identity


def test_reordered_keys_and_whitespace_are_the_same_schema() -> None:
    assert canonical_schema(json.dumps(ORDER, sort_keys=True, indent=4)).text == canonical_schema(ORDER).text
    decimal = {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}
    reordered = {"scale": 2, "precision": 4, "type": "bytes", "logicalType": "decimal"}
    # Java keeps properties in the given order in the text, but compares them as a map
    assert canonical_schema(decimal).text != canonical_schema(reordered).text
    assert same(decimal, reordered)
    assert same(
        {"type": "enum", "name": "E", "symbols": ["A"], "aliases": ["X", "Y"]},
        {"type": "enum", "name": "E", "symbols": ["A"], "aliases": ["Y", "X"]},
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            {"type": "enum", "name": "E", "symbols": ["A", "B"]},
            {"type": "enum", "name": "E", "symbols": ["B", "A"]},
        ),
        (["null", "string"], ["string", "null"]),
        (
            {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": 1}]},
            {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": 2}]},
        ),
        (
            {"type": "record", "name": "R", "doc": "x", "fields": []},
            {"type": "record", "name": "R", "doc": "y", "fields": []},
        ),
        ({"type": "long", "logicalType": "timestamp-millis"}, "long"),
        (
            {"type": "record", "name": "R", "fields": [{"name": "a", "type": "double", "default": 1}]},
            {"type": "record", "name": "R", "fields": [{"name": "a", "type": "double", "default": True}]},
        ),
    ],
)
def test_different_schemas_have_different_identities(a: Any, b: Any) -> None:
    assert not same(a, b)


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ("{nope", "Invalid JSON"),
        ('{"name": "x"}', "No type"),
        ('{"type": "record", "name": "R", "fields": [{"name": "a", "type": "Missing"}]}', "Undefined name"),
        ('{"type": "what"}', "must be a primitive type"),
    ],
)
def test_text_that_is_not_an_avro_schema_has_no_canonical_form(schema: str, fragment: str) -> None:
    with pytest.raises(InvalidSchemaError, match=fragment):
        canonical_schema(schema)


NO_CONTRACT = contract_identity(None, None)


def put(store: SchemaStore, subject: str, version: int, schema_id: int, text: str, **extra: Any) -> None:
    value = SchemaValue(subject, version, schema_id, text, **extra)
    store.apply(RecordKey(KeyType.SCHEMA, subject, version).to_bytes(), value.to_bytes())


def test_a_non_compact_record_written_by_another_registry_is_the_same_schema() -> None:
    store = SchemaStore()
    put(store, "orders", 1, 7, json.dumps(ORDER, indent=2))
    key = (canonical_schema(json.dumps(ORDER, sort_keys=True)).identity, (), NO_CONTRACT)
    found = store.find_version("orders", key)
    assert found is not None
    assert (found.version, found.id) == (1, 7)
    assert store.id_for(key) == 7


def test_a_topic_holding_one_schema_twice_answers_with_the_earliest_version_and_first_id() -> None:
    store = SchemaStore()
    put(store, "orders", 1, 3, json.dumps(ORDER))
    put(store, "orders", 2, 4, json.dumps(ORDER, sort_keys=True))
    key = (canonical_schema(json.dumps(ORDER)).identity, (), NO_CONTRACT)
    found = store.find_version("orders", key)
    assert found is not None
    assert (found.version, found.id) == (1, 3)
    assert store.id_for(key) == 3
    # once the earliest is soft deleted, the next one answers
    put(store, "orders", 1, 3, json.dumps(ORDER), deleted=True)
    found = store.find_version("orders", key)
    assert found is not None
    assert (found.version, found.id) == (2, 4)


def test_identity_of_a_stored_schema_with_references_uses_the_referenced_types() -> None:
    store = SchemaStore()
    envelope = {"type": "record", "name": "Envelope", "namespace": "accord.common", "fields": []}
    put(store, "accord.common.Envelope", 1, 1, json.dumps(envelope))
    event = {
        "type": "record",
        "name": "E",
        "namespace": "accord.common",
        "fields": [{"name": "envelope", "type": "Envelope"}],
    }
    refs = (Reference("accord.common.Envelope", "accord.common.Envelope", 1),)
    put(store, "events-E", 1, 2, json.dumps(event, indent=1), references=refs)
    qualified = {**event, "fields": [{"name": "envelope", "type": "accord.common.Envelope"}]}
    named = {"accord.common.Envelope": json.dumps(envelope)}
    identity = canonical_schema(json.dumps(qualified), named).identity
    found = store.find_version("events-E", (identity, refs, NO_CONTRACT))
    assert found is not None
    assert found.id == 2

"""Schema identity and the deviations from Confluent that were fixed, against the real server.

Each test names the behaviour of Confluent's registry (8.x) it pins.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from accord.registry.kafka_log import ensure_schemas_topic
from accord.registry.testing import RegistryFactory, RegistryHandle
from accord.runtime.testing import BrokerHandle

pytestmark = pytest.mark.integration

V1: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "accord.shop",
    "doc": "An order.",
    "fields": [
        {"name": "order_id", "type": "string"},
        {"name": "amount", "type": "double", "default": 0.0, "doc": "in euros"},
        {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "coupon", "type": ["null", "string"], "default": None},
    ],
}
JAVA_TEXT = (
    '{"type":"record","name":"Order","namespace":"accord.shop","doc":"An order.","fields":['
    '{"name":"order_id","type":"string"},{"name":"amount","type":"double","doc":"in euros","default":0.0},'
    '{"name":"placed","type":{"type":"long","logicalType":"timestamp-millis"}},'
    '{"name":"coupon","type":["null","string"],"default":null}]}'
)


@pytest.fixture
def client(registry_server: RegistryHandle) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry_server.url})


def fresh_client(url: str) -> SchemaRegistryClient:
    # the client caches registrations by schema text; a new one asks the registry every time
    return SchemaRegistryClient({"url": url})


def test_reordered_keys_and_whitespace_get_the_same_id_and_version_through_confluents_client(
    registry_server: RegistryHandle, subject: str
) -> None:
    """Confluent: `register_schema(s, json.dumps(v1))`, then sorted or indented -> same id, one version."""
    first = fresh_client(registry_server.url).register_schema_full_response(
        subject, Schema(json.dumps(V1), "AVRO")
    )
    for text in (
        json.dumps(V1, sort_keys=True),
        json.dumps(V1, indent=4),
        json.dumps(V1, separators=(",", ":")),
    ):
        again = fresh_client(registry_server.url).register_schema_full_response(subject, Schema(text, "AVRO"))
        assert (again.schema_id, again.version) == (first.schema_id, first.version)
        found = fresh_client(registry_server.url).lookup_schema(subject, Schema(text, "AVRO"))
        assert (found.schema_id, found.version) == (first.schema_id, 1)
    client = fresh_client(registry_server.url)
    assert client.get_versions(subject) == [1]
    assert first.schema_id is not None
    assert client.get_schema(first.schema_id).schema_str == JAVA_TEXT


def test_schema_is_stored_as_java_avro_to_string(api: httpx.Client, subject: str) -> None:
    """Confluent stores `Schema.toString()`: attributes in Java's order, compact."""
    api.post(f"/subjects/{subject}/versions", json={"schema": json.dumps(V1, sort_keys=True, indent=2)})
    assert api.get(f"/subjects/{subject}/versions/1").json()["schema"] == JAVA_TEXT


def test_primitive_with_a_name_is_stored_as_the_primitive_and_found_by_plain_type(
    api: httpx.Client, subject: str
) -> None:
    """Confluent normalises `{"type":"int","name":"N"}` to `"int"`; a lookup of `{"type":"int"}` finds it."""
    registered = api.post(f"/subjects/{subject}/versions", json={"schema": '{"type": "int", "name": "N"}'})
    assert registered.status_code == 200, registered.text
    assert api.get(f"/subjects/{subject}/versions/1/schema").text == '"int"'
    for text in ('{"type": "int"}', '"int"'):
        found = api.post(f"/subjects/{subject}", json={"schema": text})
        assert found.status_code == 200, found.text
        assert found.json()["id"] == registered.json()["id"]


@pytest.mark.parametrize("existing", [True, False])
def test_lookup_of_an_unparsable_schema_is_422_42201(api: httpx.Client, subject: str, existing: bool) -> None:
    """Confluent parses the schema before looking it up: 422 / 42201, whether or not the subject exists."""
    if existing:
        api.post(f"/subjects/{subject}/versions", json={"schema": '"string"'})
    for bad in ("{not json", '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "strng"}]}'):
        response = api.post(f"/subjects/{subject}", json={"schema": bad})
        assert response.status_code == 422, response.text
        assert response.json()["error_code"] == 42201


def test_lookup_parses_leniently_like_stored_schemas(api: httpx.Client, subject: str) -> None:
    """Confluent looks up with the lenient parser of stored schemas: a bad default is not an error there."""
    bad_default = {"type": "record", "name": "R", "fields": [{"name": "n", "type": "int", "default": "x"}]}
    response = api.post(f"/subjects/{subject}", json={"schema": json.dumps(bad_default)})
    assert (response.status_code, response.json()["error_code"]) == (404, 40401)


def test_lookup_of_an_empty_schema_is_404(api: httpx.Client, subject: str) -> None:
    """Confluent finds nothing for an empty schema: 40401 for an unknown subject, 40403 for a known one."""
    for body in ({"schema": ""}, {}):
        response = api.post(f"/subjects/{subject}", json=body)
        assert (response.status_code, response.json()["error_code"]) == (404, 40401)
    api.post(f"/subjects/{subject}/versions", json={"schema": '"string"'})
    response = api.post(f"/subjects/{subject}", json={"schema": ""})
    assert (response.status_code, response.json()["error_code"]) == (404, 40403)
    # registering an empty schema stays refused
    response = api.post(f"/subjects/{subject}/versions", json={"schema": ""})
    assert (response.status_code, response.json()["error_code"]) == (422, 42201)


def test_delete_of_a_missing_subject_config_is_40401(api: httpx.Client, subject: str) -> None:
    """Confluent's DELETE /config/{s} answers 40401 without a subject config, even for a known subject."""
    for _ in range(2):
        response = api.delete(f"/config/{subject}")
        assert response.status_code == 404
        assert response.json() == {"error_code": 40401, "message": f"Subject '{subject}' not found."}
        api.post(f"/subjects/{subject}/versions", json={"schema": '"string"'})


def test_union_default_matching_a_later_branch_is_accepted(api: httpx.Client, subject: str) -> None:
    """Confluent 8.x (Avro 1.12) accepts a union default that matches any branch, not only the first."""

    def schema(default: object) -> str:
        fields = [{"name": "note", "type": ["null", "string"], "default": default}]
        return json.dumps({"type": "record", "name": "R", "fields": fields})

    response = api.post(f"/subjects/{subject}/versions", json={"schema": schema("none")})
    assert response.status_code == 200, response.text
    refused = api.post(f"/subjects/{subject}/versions", json={"schema": schema(5)})
    assert (refused.status_code, refused.json()["error_code"]) == (422, 42201)


def produce_raw(bootstrap: str, topic: str, records: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    ensure_schemas_topic(bootstrap, topic)
    producer = Producer({"bootstrap.servers": bootstrap})
    for key, value in records:
        # Jackson's compact bytes, as Confluent's registry writes keys and values
        producer.produce(
            topic,
            key=json.dumps(key, separators=(",", ":")).encode(),
            value=json.dumps(value, separators=(",", ":")).encode(),
            partition=0,
        )
    producer.flush(10)


def schema_record(
    subject: str, version: int, schema_id: int, text: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    key = {"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}
    value = {
        "subject": subject,
        "version": version,
        "id": schema_id,
        "schemaType": "AVRO",
        "schema": text,
        "deleted": False,
    }
    return key, value


def test_a_record_written_raw_in_confluents_format_with_non_compact_text_is_found_and_not_re_registered(
    registry_factory: RegistryFactory, kafka_broker: BrokerHandle
) -> None:
    """Confluent and Karapace match stored schemas by parsed schema, whatever the stored spacing."""
    topic = f"_schemas-{uuid.uuid4().hex[:10]}"
    produce_raw(
        kafka_broker.bootstrap, topic, [schema_record("orders-value", 1, 21, json.dumps(V1, indent=2))]
    )
    registry = registry_factory(topic)
    client = fresh_client(registry.url)
    found = client.lookup_schema("orders-value", Schema(json.dumps(V1), "AVRO"))
    assert (found.schema_id, found.version) == (21, 1)
    registered = fresh_client(registry.url).register_schema_full_response(
        "orders-value", Schema(json.dumps(V1, sort_keys=True), "AVRO")
    )
    assert (registered.schema_id, registered.version) == (21, 1)
    assert fresh_client(registry.url).get_versions("orders-value") == [1]
    # the same schema under another subject keeps its id, as Confluent's does
    other = fresh_client(registry.url).register_schema_full_response(
        "refunds-value", Schema(json.dumps(V1), "AVRO")
    )
    assert (other.schema_id, other.version) == (21, 1)


def test_a_topic_that_already_holds_duplicates_answers_with_the_earliest_id_and_version(
    registry_factory: RegistryFactory, kafka_broker: BrokerHandle
) -> None:
    """Migration: versions that are one schema under several ids are recognised as one schema."""
    topic = f"_schemas-{uuid.uuid4().hex[:10]}"
    produce_raw(
        kafka_broker.bootstrap,
        topic,
        [
            schema_record("orders-value", 1, 3, json.dumps(V1)),
            schema_record("orders-value", 2, 4, json.dumps(V1, sort_keys=True)),
        ],
    )
    registry = registry_factory(topic)
    with httpx.Client(base_url=registry.url, timeout=30) as api:
        for text in (json.dumps(V1), json.dumps(V1, sort_keys=True), JAVA_TEXT):
            assert api.post("/subjects/orders-value", json={"schema": text}).json()["version"] == 1
            registered = api.post("/subjects/orders-value/versions", json={"schema": text}).json()
            assert registered == {"id": 3, "version": 1}
        assert api.get("/subjects/orders-value/versions").json() == [1, 2]
        assert api.post("/subjects/other-value/versions", json={"schema": json.dumps(V1)}).json()["id"] == 3
        # both ids stay readable: data written with id 4 still decodes
        assert api.get("/schemas/ids/4").status_code == 200

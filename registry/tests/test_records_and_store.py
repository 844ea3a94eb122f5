"""The `_schemas` record format and how the store folds records, without a broker."""

from __future__ import annotations

import pytest

from accord.registry.errors import UnknownSchemaError, UnknownSubjectError, UnknownVersionError
from accord.registry.protocol import is_read, negotiate, request_type_supported
from accord.registry.records import (
    CorruptRecordError,
    KeyType,
    RecordKey,
    SchemaValue,
    config_value,
    delete_subject_value,
)
from accord.registry.store import SchemaStore
from accord.registry_client.models import Reference

pytestmark = pytest.mark.unit

SCHEMA = '{"type":"record","name":"R","fields":[]}'


def schema_record(
    subject: str, version: int, schema_id: int, *, deleted: bool = False
) -> tuple[bytes, bytes]:
    key = RecordKey(KeyType.SCHEMA, subject, version).to_bytes()
    return key, SchemaValue(subject, version, schema_id, SCHEMA, deleted=deleted).to_bytes()


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (RecordKey(KeyType.SCHEMA, "s", 3), b'{"keytype":"SCHEMA","subject":"s","version":3,"magic":1}'),
        (RecordKey(KeyType.CONFIG, "s"), b'{"keytype":"CONFIG","subject":"s","magic":0}'),
        (RecordKey(KeyType.CONFIG), b'{"keytype":"CONFIG","magic":0}'),
        (RecordKey(KeyType.MODE), b'{"keytype":"MODE","magic":0}'),
        (
            RecordKey(KeyType.DELETE_SUBJECT, "é"),
            '{"keytype":"DELETE_SUBJECT","subject":"é","magic":0}'.encode(),
        ),
    ],
)
def test_keys_are_written_in_confluent_canonical_bytes(key: RecordKey, expected: bytes) -> None:
    assert key.to_bytes() == expected
    assert RecordKey.from_bytes(expected) == key


def test_schema_value_omits_empty_references_and_keeps_given_ones() -> None:
    plain = SchemaValue("s", 1, 7, SCHEMA)
    assert plain.to_bytes() == (
        b'{"subject":"s","version":1,"id":7,"schemaType":"AVRO","schema":"{\\"type\\":\\"record\\",'
        b'\\"name\\":\\"R\\",\\"fields\\":[]}","deleted":false}'
    )
    with_refs = SchemaValue("s", 1, 7, SCHEMA, (Reference("a.B", "a.B", 2),))
    assert b'"references":[{"name":"a.B","subject":"a.B","version":2}]' in with_refs.to_bytes()
    key = RecordKey(KeyType.SCHEMA, "s", 1)
    assert SchemaValue.from_bytes(with_refs.to_bytes(), key) == with_refs


def test_karapace_variants_are_read() -> None:
    key = RecordKey.from_bytes(b'{"magic":0,"subject":"s","version":1,"keytype":"SCHEMA"}')
    value = SchemaValue.from_bytes(b'{"id":3,"schema":"\\"string\\""}', key)
    assert (value.subject, value.version, value.id, value.deleted, value.schema_type) == (
        "s",
        1,
        3,
        False,
        "AVRO",
    )
    assert RecordKey.from_bytes(b'{"keytype":"CONFIG","subject":null,"magic":0}') == RecordKey(KeyType.CONFIG)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"nope",
        b"[1]",
        b'{"keytype":"WHAT","magic":0}',
        b'{"keytype":"SCHEMA","subject":"s","version":1,"magic":2}',
    ],
)
def test_corrupt_keys_are_reported(raw: bytes) -> None:
    with pytest.raises(CorruptRecordError):
        RecordKey.from_bytes(raw)


def test_store_applies_versions_soft_and_hard_deletes() -> None:
    store = SchemaStore()
    store.apply(*schema_record("s", 1, 1))
    store.apply(*schema_record("s", 2, 1))
    assert [v.version for v in store.versions_of("s")] == [1, 2]
    store.apply(RecordKey(KeyType.DELETE_SUBJECT, "s").to_bytes(), delete_subject_value("s", 2))
    with pytest.raises(UnknownSubjectError):
        store.versions_of("s")
    assert store.subject_names(deleted_only=True) == ["s"]
    assert store.schema_by_id(1).schema == SCHEMA
    assert store.next_version("s") == 3
    store.apply(RecordKey(KeyType.SCHEMA, "s", 2).to_bytes(), None)
    store.apply(RecordKey(KeyType.SCHEMA, "s", 1).to_bytes(), None)
    assert store.subject_names(deleted=True) == []
    with pytest.raises(UnknownSchemaError):
        store.schema_by_id(1)
    assert store.id_for(store.key_of(SchemaValue("s", 1, 1, SCHEMA))) == 1
    assert store.max_id == 1


def test_store_settings_and_their_tombstones() -> None:
    store = SchemaStore()
    store.apply(RecordKey(KeyType.CONFIG).to_bytes(), config_value(None, "FULL"))
    store.apply(RecordKey(KeyType.CONFIG, "s").to_bytes(), config_value("s", "none"))
    assert store.compatibility("s").value == "NONE"
    assert store.compatibility("t").value == "FULL"
    store.apply(RecordKey(KeyType.CONFIG, "s").to_bytes(), None)
    store.apply(RecordKey(KeyType.CONFIG).to_bytes(), None)
    assert store.compatibility("s").value == "BACKWARD"


def test_store_skips_corrupt_records_and_keeps_going() -> None:
    store = SchemaStore()
    store.apply(b"garbage", b"{}")
    store.apply(None, b"{}")
    key, _ = schema_record("s", 1, 4)
    store.apply(key, b'{"subject":"s"}')
    store.apply(*schema_record("s", 1, 4))
    other_key = RecordKey(KeyType.SCHEMA, "t", 1).to_bytes()
    clash = SchemaValue("t", 1, 4, '"string"').to_bytes()
    store.apply(other_key, clash)
    assert store.records_skipped == 4
    assert store.version("s", None).id == 4
    with pytest.raises(UnknownVersionError):
        store.version("s", 2)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/vnd.schemaregistry.v1+json"),
        ("application/json", "application/json"),
        ("text/html, */*;q=0.1", "application/vnd.schemaregistry.v1+json"),
        ("application/json;q=0", None),
        ("text/*", None),
    ],
)
def test_accept_negotiation(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept) == chosen


def test_request_kinds() -> None:
    assert request_type_supported(None)
    assert request_type_supported("application/octet-stream")
    assert not request_type_supported("text/plain")
    assert is_read("POST", "/subjects/s")
    assert is_read("POST", "/compatibility/subjects/s/versions")
    assert not is_read("POST", "/subjects/s/versions")
    assert not is_read("DELETE", "/subjects/s")
    assert not is_read("PUT", "/config")

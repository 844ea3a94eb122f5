"""Subjects, versions and schemas through HTTP against the real registry and broker."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def record(name: str = "Click", *fields: dict[str, Any], namespace: str = "accord.test") -> str:
    base = [{"name": "id", "type": "string"}]
    return json.dumps({"type": "record", "name": name, "namespace": namespace, "fields": base + list(fields)})


def optional(name: str) -> dict[str, Any]:
    return {"name": name, "type": ["null", "string"], "default": None}


def register(api: httpx.Client, subject: str, schema: str, **extra: Any) -> httpx.Response:
    return api.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})


def assert_error(response: httpx.Response, status: int, code: int, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    if message is not None:
        assert body["message"] == message


def test_register_returns_id_and_version_and_is_idempotent(api: httpx.Client, subject: str) -> None:
    first = register(api, subject, record())
    assert first.status_code == 200
    again = register(api, subject, record())
    assert again.json() == first.json()
    assert first.json()["version"] == 1
    assert api.get(f"/subjects/{subject}/versions").json() == [1]


def test_same_schema_under_two_subjects_shares_one_id(api: httpx.Client, subject: str) -> None:
    schema = record(f"Shared{uuid.uuid4().hex[:8]}")
    first = register(api, subject, schema).json()
    second = register(api, subject + "-other", schema).json()
    assert first["id"] == second["id"]
    subjects = api.get(f"/schemas/ids/{first['id']}/subjects").json()
    assert subjects == sorted([subject, subject + "-other"])
    versions = api.get(f"/schemas/ids/{first['id']}/versions").json()
    assert {"subject": subject, "version": 1} in versions


def test_ids_grow_and_versions_are_served(api: httpx.Client, subject: str) -> None:
    v1 = register(api, subject, record()).json()
    v2 = register(api, subject, record("Click", optional("page"))).json()
    assert v2["id"] > v1["id"]
    assert v2["version"] == 2
    latest = api.get(f"/subjects/{subject}/versions/latest").json()
    assert latest["version"] == 2
    assert latest["id"] == v2["id"]
    assert api.get(f"/subjects/{subject}/versions/-1").json() == latest
    one = api.get(f"/subjects/{subject}/versions/1").json()
    assert one["subject"] == subject
    assert json.loads(one["schema"]) == json.loads(record())
    raw = api.get(f"/subjects/{subject}/versions/1/schema")
    assert json.loads(raw.text) == json.loads(record())
    by_id = api.get(f"/schemas/ids/{v1['id']}").json()
    assert by_id == {"schema": one["schema"]}
    assert json.loads(api.get(f"/schemas/ids/{v1['id']}/schema").text) == json.loads(record())


def test_schema_is_stored_in_compact_canonical_form(api: httpx.Client, subject: str) -> None:
    pretty = json.dumps(
        {"type": "record", "name": "Pretty", "fields": [{"name": "n", "type": {"type": "long"}}]}, indent=4
    )
    created = register(api, subject, pretty).json()
    stored = api.get(f"/schemas/ids/{created['id']}").json()["schema"]
    assert stored == '{"type":"record","name":"Pretty","fields":[{"name":"n","type":"long"}]}'
    compact = register(api, subject, stored).json()
    assert compact == created


def test_lookup_finds_registered_schema_and_reports_missing_ones(api: httpx.Client, subject: str) -> None:
    created = register(api, subject, record()).json()
    found = api.post(f"/subjects/{subject}", json={"schema": record()})
    assert found.status_code == 200
    assert found.json()["id"] == created["id"]
    assert found.json()["version"] == 1
    assert_error(
        api.post(f"/subjects/{subject}", json={"schema": record("Other")}), 404, 40403, "Schema not found"
    )
    missing = f"missing-{uuid.uuid4().hex}"
    assert_error(
        api.post(f"/subjects/{missing}", json={"schema": record()}),
        404,
        40401,
        f"Subject '{missing}' not found.",
    )


def test_unknown_subject_version_and_id(api: httpx.Client, subject: str) -> None:
    assert_error(api.get(f"/subjects/{subject}/versions"), 404, 40401, f"Subject '{subject}' not found.")
    assert_error(api.get(f"/subjects/{subject}/versions/latest"), 404, 40401)
    register(api, subject, record())
    assert_error(api.get(f"/subjects/{subject}/versions/7"), 404, 40402, "Version 7 not found.")
    assert_error(api.get("/schemas/ids/987654321"), 404, 40403, "Schema 987654321 not found")
    assert_error(api.get("/schemas/ids/abc"), 404, 404, "HTTP 404 Not Found")


@pytest.mark.parametrize("version", ["0", "abc", "2147483648", "-2"])
def test_invalid_version_ids_are_refused(api: httpx.Client, subject: str, version: str) -> None:
    register(api, subject, record())
    message = (
        f"The specified version '{version}' is not a valid version id. "
        'Allowed values are between [1, 2^31-1] and the string "latest"'
    )
    assert_error(api.get(f"/subjects/{subject}/versions/{version}"), 422, 42202, message)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"schema": '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "strng"}]}'}, "strng"),
        (
            {"schema": record("Bad", {"name": "n", "type": "int", "default": "x"})},
            "Invalid default for field n",
        ),
        ({"schema": record("Bad", {"name": "u", "type": ["string", "null"], "default": 1})}, "field u"),
        ({"schema": '{"type": "record", "name": "1-bad", "fields": []}'}, "1-bad"),
        ({"schema": "{not json"}, "Invalid JSON"),
        ({"schema": ""}, "Empty schema"),
        ({"schemaType": "PROTOBUF", "schema": "syntax = 'proto3';"}, "Invalid schemaType PROTOBUF"),
    ],
)
def test_invalid_schemas_are_refused_with_42201(
    api: httpx.Client, subject: str, body: dict[str, Any], fragment: str
) -> None:
    response = api.post(f"/subjects/{subject}/versions", json=body)
    assert_error(response, 422, 42201)
    assert fragment in response.json()["message"]
    assert_error(api.get(f"/subjects/{subject}/versions"), 404, 40401)


def test_body_that_is_not_json_is_refused(api: httpx.Client, subject: str) -> None:
    response = api.post(
        f"/subjects/{subject}/versions",
        content=b"schema=nope",
        headers={"Content-Type": "application/vnd.schemaregistry.v1+json"},
    )
    assert_error(response, 400, 400)
    assert "Invalid JSON body" in response.json()["message"]


def test_unknown_body_fields_from_newer_clients_are_tolerated(api: httpx.Client, subject: str) -> None:
    response = register(
        api,
        subject,
        record(),
        schemaType="AVRO",
        references=[],
        metadata={"properties": {"owner": "growth"}},
        ruleSet={"domainRules": []},
        schemaTagsToAdd=[],
    )
    assert response.status_code == 200, response.text


def test_subject_with_slash_and_unicode(api: httpx.Client) -> None:
    subject = f"team/ü-{uuid.uuid4().hex[:6]}"
    encoded = httpx.URL("/subjects/").copy_with().path + subject.replace("/", "%2F")
    response = api.post(f"{encoded}/versions", json={"schema": record()})
    assert response.status_code == 200, response.text
    assert subject in api.get("/subjects").json()
    assert api.get(f"{encoded}/versions").json() == [1]


def test_soft_delete_then_permanent_delete_of_a_version(api: httpx.Client, subject: str) -> None:
    register(api, subject, record())
    register(api, subject, record("Click", optional("page")))
    assert_error(
        api.delete(f"/subjects/{subject}/versions/1", params={"permanent": "true"}),
        404,
        40407,
        f"Subject '{subject}' Version 1 was not deleted first before being permanently deleted",
    )
    assert api.delete(f"/subjects/{subject}/versions/1").json() == 1
    assert api.get(f"/subjects/{subject}/versions").json() == [2]
    assert api.get(f"/subjects/{subject}/versions", params={"deleted": "true"}).json() == [1, 2]
    assert api.get(f"/subjects/{subject}/versions", params={"deletedOnly": "true"}).json() == [1]
    assert_error(api.get(f"/subjects/{subject}/versions/1"), 404, 40402)
    assert api.get(f"/subjects/{subject}/versions/1", params={"deleted": "True"}).status_code == 200
    assert_error(
        api.delete(f"/subjects/{subject}/versions/1"),
        404,
        40406,
        f"Subject '{subject}' Version 1 was soft deleted.Set permanent=true to delete permanently",
    )
    assert api.delete(f"/subjects/{subject}/versions/1", params={"permanent": "true"}).json() == 1
    assert api.get(f"/subjects/{subject}/versions", params={"deleted": "true"}).json() == [2]


def test_soft_delete_then_permanent_delete_of_a_subject(api: httpx.Client, subject: str) -> None:
    name = f"Gone{uuid.uuid4().hex[:8]}"
    first = register(api, subject, record(name)).json()
    assert register(api, subject, record(name, optional("page"))).status_code == 200
    assert_error(
        api.delete(f"/subjects/{subject}", params={"permanent": "true"}),
        404,
        40405,
        f"Subject '{subject}' was not deleted first before being permanently deleted",
    )
    assert api.delete(f"/subjects/{subject}").json() == [1, 2]
    assert subject not in api.get("/subjects").json()
    assert subject in api.get("/subjects", params={"deleted": "true"}).json()
    assert subject in api.get("/subjects", params={"deletedOnly": "true"}).json()
    assert_error(api.get(f"/subjects/{subject}/versions/latest"), 404, 40401)
    assert api.get(f"/schemas/ids/{first['id']}").status_code == 200
    assert_error(
        api.delete(f"/subjects/{subject}"),
        404,
        40404,
        f"Subject '{subject}' was soft deleted.Set permanent=true to delete permanently",
    )
    assert api.delete(f"/subjects/{subject}", params={"permanent": "true"}).json() == [1, 2]
    assert subject not in api.get("/subjects", params={"deleted": "true"}).json()
    assert_error(api.get(f"/schemas/ids/{first['id']}"), 404, 40403)


def test_version_numbers_are_not_reused_after_a_soft_delete(api: httpx.Client, subject: str) -> None:
    register(api, subject, record())
    api.delete(f"/subjects/{subject}/versions/1")
    again = register(api, subject, record()).json()
    assert again["version"] == 2


def test_references_resolve_and_block_deletes(api: httpx.Client) -> None:
    suffix = uuid.uuid4().hex[:8]
    envelope_subject = f"accord.common.Envelope{suffix}"
    envelope = json.dumps(
        {
            "type": "record",
            "name": f"Envelope{suffix}",
            "namespace": "accord.common",
            "fields": [{"name": "event_id", "type": "string"}],
        }
    )
    assert register(api, envelope_subject, envelope).status_code == 200
    event = json.dumps(
        {
            "type": "record",
            "name": "PageView",
            "namespace": "accord.events",
            "fields": [{"name": "envelope", "type": f"accord.common.Envelope{suffix}"}],
        }
    )
    event_subject = f"events-accord.events.PageView{suffix}"
    without = register(api, event_subject, event)
    assert_error(without, 422, 42201)
    refs = [{"name": f"accord.common.Envelope{suffix}", "subject": envelope_subject, "version": 1}]
    created = register(api, event_subject, event, references=refs)
    assert created.status_code == 200, created.text
    assert api.get(f"/schemas/ids/{created.json()['id']}").json()["references"] == refs
    assert api.get(f"/subjects/{envelope_subject}/versions/1/referencedby").json() == [created.json()["id"]]
    blocked = api.delete(f"/subjects/{envelope_subject}/versions/1")
    assert_error(
        blocked,
        422,
        42206,
        "One or more references exist to the schema "
        f"{{magic=1,keytype=SCHEMA,subject={envelope_subject},version=1}}.",
    )
    assert_error(api.delete(f"/subjects/{envelope_subject}"), 422, 42206)
    dangling = [{"name": "x.Y", "subject": f"missing-{suffix}", "version": 1}]
    assert_error(register(api, event_subject + "-2", event, references=dangling), 422, 42201)


def test_schemas_listing_and_static_endpoints(api: httpx.Client, subject: str) -> None:
    register(api, subject, record())
    register(api, subject, record("Click", optional("page")))
    listed = api.get("/schemas", params={"subjectPrefix": subject}).json()
    assert [(s["subject"], s["version"]) for s in listed] == [(subject, 1), (subject, 2)]
    latest = api.get("/schemas", params={"subjectPrefix": subject, "latestOnly": "true"}).json()
    assert [s["version"] for s in latest] == [2]
    assert api.get("/subjects", params={"subjectPrefix": subject}).json() == [subject]
    assert api.get("/subjects", params={"subjectPrefix": "test-", "limit": 1}).json().__len__() == 1
    assert api.get("/schemas/types").json() == ["AVRO"]
    assert api.get("/contexts").json() == ["."]
    assert api.get("/").json() == {}
    assert_error(api.get("/no/such/path"), 404, 404, "HTTP 404 Not Found")
    assert_error(api.get("/schemas/guids/abc"), 404, 404)

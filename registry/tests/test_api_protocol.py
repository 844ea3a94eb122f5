"""Content negotiation, readiness and HTTP Basic authentication, through HTTP."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from accord.registry.testing import RegistryFactory

pytestmark = pytest.mark.integration

SCHEMA = json.dumps({"type": "record", "name": "Ping", "fields": [{"name": "at", "type": "long"}]})


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/vnd.schemaregistry.v1+json"),
        ("*/*", "application/vnd.schemaregistry.v1+json"),
        ("application/*", "application/vnd.schemaregistry.v1+json"),
        ("application/json", "application/json"),
        ("application/vnd.schemaregistry+json", "application/vnd.schemaregistry+json"),
        (
            "application/json;q=0.5, application/vnd.schemaregistry+json;q=0.9",
            "application/vnd.schemaregistry+json",
        ),
        (
            "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json",
            "application/vnd.schemaregistry.v1+json",
        ),
    ],
)
def test_response_type_follows_accept(api: httpx.Client, accept: str | None, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = api.get("/subjects", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == expected


@pytest.mark.parametrize("accept", ["text/html", "text/*", "application/xml"])
def test_unacceptable_accept_gets_406(api: httpx.Client, accept: str) -> None:
    response = api.get("/subjects", headers={"Accept": accept})
    assert response.status_code == 406
    assert response.json() == {"error_code": 406, "message": "HTTP 406 Not Acceptable"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data"])
def test_unsupported_request_type_gets_415(api: httpx.Client, subject: str, content_type: str) -> None:
    response = api.post(
        f"/subjects/{subject}/versions",
        content=json.dumps({"schema": SCHEMA}),
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 415
    assert response.json() == {"error_code": 415, "message": "HTTP 415 Unsupported Media Type"}
    assert api.get(f"/subjects/{subject}/versions").status_code == 404


@pytest.mark.parametrize(
    "content_type",
    ["application/octet-stream", "application/json", "application/vnd.schemaregistry+json; charset=utf-16"],
)
def test_accepted_request_types(api: httpx.Client, subject: str, content_type: str) -> None:
    charset = "utf-16" if "utf-16" in content_type else "utf-8"
    body = json.dumps({"schema": SCHEMA}).encode(charset)
    response = api.post(f"/subjects/{subject}/versions", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text


def test_health_reports_readiness_and_progress(api: httpx.Client) -> None:
    health = api.get("/_health")
    assert health.status_code == 200
    body = health.json()
    assert body["ready"] is True
    assert body["records_read"] >= body["records_at_start"]


def test_basic_auth_separates_readers_and_writers(registry_factory: RegistryFactory) -> None:
    users = {"ci": {"password": "ci-secret", "write": True}, "reader": {"password": "read-only"}}
    registry = registry_factory(f"_schemas-auth-{uuid.uuid4().hex[:8]}", users=users)
    body = {"schema": SCHEMA}
    with httpx.Client(base_url=registry.url, timeout=30) as api:
        anonymous = api.post("/subjects/ping/versions", json=body)
        assert anonymous.status_code == 401
        assert anonymous.json() == {"error_code": 401, "message": "Unauthorized"}
        assert anonymous.headers["www-authenticate"].startswith("Basic")
        assert api.get("/subjects", auth=("ci", "wrong")).status_code == 401
        forbidden = api.post("/subjects/ping/versions", json=body, auth=("reader", "read-only"))
        assert forbidden.status_code == 403
        assert forbidden.json()["error_code"] == 40301
        assert "reader" in forbidden.json()["message"]
        created = api.post("/subjects/ping/versions", json=body, auth=("ci", "ci-secret"))
        assert created.status_code == 200
        assert api.get("/subjects", auth=("reader", "read-only")).json() == ["ping"]
        lookup = api.post("/subjects/ping", json=body, auth=("reader", "read-only"))
        assert lookup.status_code == 200
        assert (
            api.put("/config", json={"compatibility": "NONE"}, auth=("reader", "read-only")).status_code
            == 403
        )
        assert api.get("/_health").status_code == 200

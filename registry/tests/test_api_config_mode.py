"""Compatibility levels, modes and compatibility tests through HTTP against the real registry."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from accord.registry.testing import RegistryFactory

pytestmark = pytest.mark.integration

LEVEL_ERROR = (
    "Invalid compatibility level. Valid values are none, backward, forward, full, "
    "backward_transitive, forward_transitive, and full_transitive"
)
MODE_ERROR = "Invalid mode. Valid values are READWRITE, READONLY, IMPORT and FORWARD."


def record(*fields: dict[str, Any]) -> str:
    base = [{"name": "id", "type": "string"}]
    return json.dumps(
        {"type": "record", "name": "Order", "namespace": "accord.test", "fields": base + list(fields)}
    )


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def register(api: httpx.Client, subject: str, schema: str, **params: str) -> httpx.Response:
    return api.post(f"/subjects/{subject}/versions", json={"schema": schema}, params=params)


def test_subject_config_put_get_delete(api: httpx.Client, subject: str) -> None:
    missing = api.get(f"/config/{subject}")
    assert missing.status_code == 404
    assert missing.json() == {
        "error_code": 40408,
        "message": f"Subject '{subject}' does not have subject-level compatibility configured",
    }
    assert api.get(f"/config/{subject}", params={"defaultToGlobal": "true"}).json() == {
        "compatibilityLevel": "BACKWARD"
    }
    assert api.put(f"/config/{subject}", json={"compatibility": "full_transitive"}).json() == {
        "compatibility": "FULL_TRANSITIVE"
    }
    assert api.get(f"/config/{subject}").json() == {"compatibilityLevel": "FULL_TRANSITIVE"}
    assert api.delete(f"/config/{subject}").json() == {"compatibilityLevel": "FULL_TRANSITIVE"}
    assert api.get(f"/config/{subject}").status_code == 404


@pytest.mark.parametrize("body", [{"compatibility": "SIDEWAYS"}, {"compatibility": None}, {}])
def test_unknown_compatibility_level_is_refused(
    api: httpx.Client, subject: str, body: dict[str, Any]
) -> None:
    response = api.put(f"/config/{subject}", json=body)
    assert response.status_code == 422
    assert response.json() == {"error_code": 42203, "message": LEVEL_ERROR}


def test_incompatible_schema_is_refused_with_409_naming_field_and_rule(
    api: httpx.Client, subject: str
) -> None:
    assert register(api, subject, record()).status_code == 200
    refused = register(api, subject, record(field("amount", "long")))
    assert refused.status_code == 409
    body = refused.json()
    assert body["error_code"] == 409
    assert body["message"].startswith(
        f'Schema being registered is incompatible with an earlier schema for subject "{subject}", details: ['
    )
    assert "READER_FIELD_MISSING_DEFAULT_VALUE at 'amount'" in body["message"]
    assert "compatibility: 'BACKWARD'" in body["message"]
    assert api.get(f"/subjects/{subject}/versions").json() == [1]
    forced = register(api, subject, record(field("amount", "long")), force="true")
    assert forced.json()["version"] == 2


def test_levels_apply_per_subject(api: httpx.Client, subject: str) -> None:
    api.put(f"/config/{subject}", json={"compatibility": "NONE"})
    assert register(api, subject, record()).status_code == 200
    assert register(api, subject, record(field("amount", "long"))).status_code == 200
    api.put(f"/config/{subject}", json={"compatibility": "FORWARD"})
    # dropping a field without default: old readers cannot read new data
    dropped = record(field("other", "int", default=0))
    assert register(api, subject, dropped).status_code == 409
    api.put(f"/config/{subject}", json={"compatibility": "BACKWARD"})
    assert register(api, subject, dropped).json()["version"] == 3


def test_transitive_level_checks_every_live_version(api: httpx.Client, subject: str) -> None:
    api.put(f"/config/{subject}", json={"compatibility": "NONE"})
    register(api, subject, record(field("n", "int")))
    register(api, subject, record())
    candidate = record(field("n", "string", default=""))
    api.put(f"/config/{subject}", json={"compatibility": "BACKWARD"})
    latest_only = api.post(f"/compatibility/subjects/{subject}/versions", json={"schema": candidate})
    assert latest_only.json() == {"is_compatible": True}
    api.put(f"/config/{subject}", json={"compatibility": "BACKWARD_TRANSITIVE"})
    every = api.post(f"/compatibility/subjects/{subject}/versions", json={"schema": candidate})
    assert every.json()["is_compatible"] is False
    assert any("'n'" in message and "version 1" in message for message in every.json()["messages"])
    # soft deleting version 1 takes it out of the comparison
    api.delete(f"/subjects/{subject}/versions/1")
    assert api.post(f"/compatibility/subjects/{subject}/versions", json={"schema": candidate}).json() == {
        "is_compatible": True
    }


def test_compatibility_against_one_version_with_verbose(api: httpx.Client, subject: str) -> None:
    register(api, subject, record())
    ok = api.post(
        f"/compatibility/subjects/{subject}/versions/latest",
        json={"schema": record(field("note", ["null", "string"], default=None))},
        params={"verbose": "True"},
    )
    assert ok.json() == {"is_compatible": True, "messages": []}
    quiet = api.post(
        f"/compatibility/subjects/{subject}/versions/1", json={"schema": record(field("q", "int"))}
    )
    assert quiet.json()["is_compatible"] is False
    assert "READER_FIELD_MISSING_DEFAULT_VALUE at 'q'" in quiet.json()["messages"][0]
    missing = api.post(f"/compatibility/subjects/{subject}/versions/9", json={"schema": record()})
    assert missing.json() == {"error_code": 40402, "message": "Version 9 not found."}
    unknown = api.post(f"/compatibility/subjects/{subject}-none/versions/1", json={"schema": record()})
    assert unknown.json() == {"error_code": 40402, "message": "Version 1 not found."}
    empty = api.post(f"/compatibility/subjects/{subject}-none/versions/latest", json={"schema": record()})
    assert empty.json() == {"is_compatible": True}
    invalid = api.post(f"/compatibility/subjects/{subject}/versions/latest", json={"schema": "{"})
    assert invalid.json()["error_code"] == 42201


def test_subject_mode_readonly_blocks_writes(api: httpx.Client, subject: str) -> None:
    register(api, subject, record())
    missing = api.get(f"/mode/{subject}")
    assert missing.json() == {
        "error_code": 40409,
        "message": f"Subject '{subject}' does not have subject-level mode configured",
    }
    assert api.get(f"/mode/{subject}", params={"defaultToGlobal": "true"}).json() == {"mode": "READWRITE"}
    assert api.put(f"/mode/{subject}", json={"mode": "READONLY"}).json() == {"mode": "READONLY"}
    refused = register(api, subject, record(field("x", "int", default=0)))
    assert refused.status_code == 422
    assert refused.json() == {
        "error_code": 42205,
        "message": f"Subject {subject} in context . is in read-only mode",
    }
    assert api.delete(f"/subjects/{subject}").json()["error_code"] == 42205
    assert api.get(f"/subjects/{subject}/versions/1").status_code == 200
    assert api.delete(f"/mode/{subject}").json() == {"mode": "READONLY"}
    assert register(api, subject, record(field("x", "int", default=0))).status_code == 200


@pytest.mark.parametrize("mode", ["SOMETIMES", None, 3])
def test_unknown_mode_is_refused(api: httpx.Client, subject: str, mode: Any) -> None:
    response = api.put(f"/mode/{subject}", json={"mode": mode})
    assert response.status_code == 422
    assert response.json() == {"error_code": 42204, "message": MODE_ERROR}


def test_global_config_and_import_mode_keep_ids(registry_factory: RegistryFactory) -> None:
    registry = registry_factory(f"_schemas-{uuid.uuid4().hex[:8]}")
    with httpx.Client(base_url=registry.url, timeout=30) as api:
        assert api.get("/config").json() == {"compatibilityLevel": "BACKWARD"}
        assert api.put("/config", json={"compatibility": "FULL"}).json() == {"compatibility": "FULL"}
        assert api.get("/config").json() == {"compatibilityLevel": "FULL"}
        assert api.get("/config/anything", params={"defaultToGlobal": "true"}).json() == {
            "compatibilityLevel": "FULL"
        }
        assert api.delete("/config").json() == {"compatibilityLevel": "FULL"}
        assert api.get("/config").json() == {"compatibilityLevel": "BACKWARD"}

        with_id = {"schema": record(), "id": 4242, "version": 7}
        outside = api.post("/subjects/imported/versions", json=with_id)
        assert outside.json() == {
            "error_code": 42205,
            "message": "Subject imported in context . is not in import mode",
        }
        assert api.put("/mode", json={"mode": "IMPORT"}).json() == {"mode": "IMPORT"}
        imported = api.post("/subjects/imported/versions", json=with_id)
        assert imported.json() == {"id": 4242, "version": 7}
        assert api.get("/schemas/ids/4242").status_code == 200
        clash = api.post("/subjects/other/versions", json={"schema": record(field("z", "int")), "id": 4242})
        assert clash.json() == {
            "error_code": 42207,
            "message": "The ID of an imported schema does not match the existing ID",
        }
        without_id = api.post("/subjects/other/versions", json={"schema": record()})
        assert without_id.json()["error_code"] == 42205
        assert api.put("/mode", json={"mode": "READWRITE"}).json() == {"mode": "READWRITE"}
        refused = api.put("/mode", json={"mode": "IMPORT"})
        assert refused.json() == {
            "error_code": 42205,
            "message": "Cannot import since found existing subjects",
        }
        assert api.put("/mode", params={"force": "true"}, json={"mode": "IMPORT"}).json() == {
            "mode": "IMPORT"
        }
        assert api.delete("/mode").json() == {"mode": "IMPORT"}
        assert api.get("/mode").json() == {"mode": "READWRITE"}
        fresh = api.post("/subjects/fresh/versions", json={"schema": record(field("new", "int"))})
        assert fresh.json() == {"id": 4243, "version": 1}

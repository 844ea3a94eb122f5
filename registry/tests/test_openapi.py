"""The registry's OpenAPI document, read from the running server, describes what it really does.

Request bodies (Confluent's register, config and mode bodies), the error model every error
answer follows (`{"error_code", "message"}`), and HTTP Basic auth as the security scheme.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from accord.registry.testing import RegistryFactory, RegistryHandle

pytestmark = pytest.mark.integration

V1 = "application/vnd.schemaregistry.v1+json"


@pytest.fixture(scope="module")
def document(registry_server: RegistryHandle) -> dict[str, Any]:
    answer = httpx.get(f"{registry_server.url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json()
    return found


def component(document: dict[str, Any], ref: dict[str, str]) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_request_bodies_are_documented_in_confluents_shape(document: dict[str, Any]) -> None:
    register = document["paths"]["/subjects/{subject}/versions"]["post"]["requestBody"]
    assert set(register["content"]) >= {V1, "application/json"}
    body = component(document, register["content"][V1]["schema"])
    assert body["required"] == ["schema"]
    assert {"schema", "schemaType", "references", "metadata", "ruleSet"} <= set(body["properties"])
    rule = document["components"]["schemas"]["Rule"]
    assert {"name", "kind", "mode", "type", "expr", "onFailure"} <= set(rule["properties"])
    for path in ("/subjects/{subject}", "/compatibility/subjects/{subject}/versions/{version}"):
        assert "requestBody" in document["paths"][path]["post"], path
    config = component(
        document, document["paths"]["/config/{subject}"]["put"]["requestBody"]["content"][V1]["schema"]
    )
    assert "compatibility" in config["properties"]
    mode = component(document, document["paths"]["/mode"]["put"]["requestBody"]["content"][V1]["schema"])
    assert mode["required"] == ["mode"]


def test_every_error_answer_is_documented_as_confluents_error_message(
    document: dict[str, Any], registry_server: RegistryHandle
) -> None:
    error = document["components"]["schemas"]["ErrorMessage"]
    assert set(error["required"]) == {"error_code", "message"}
    assert error["properties"]["error_code"]["type"] == "integer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path == "/_health":
                continue
            for status in ("4XX", "5XX"):
                assert operation["responses"][status]["content"][V1]["schema"] == {
                    "$ref": "#/components/schemas/ErrorMessage"
                }, (method, path)
    # FastAPI's validation answer is not one the registry gives
    assert "HTTPValidationError" not in json.dumps(document)
    # what the server answers is what the document says
    missing = httpx.get(f"{registry_server.url}/subjects/no-such-subject/versions", timeout=10)
    assert missing.status_code == 404
    assert set(missing.json()) == set(error["required"])
    assert missing.json()["error_code"] == 40401


def test_basic_auth_is_the_security_scheme_and_the_server_enforces_it(
    document: dict[str, Any], registry_factory: RegistryFactory
) -> None:
    assert document["components"]["securitySchemes"]["basicAuth"] == {
        "type": "http",
        "scheme": "basic",
        "description": document["components"]["securitySchemes"]["basicAuth"]["description"],
    }
    register = document["paths"]["/subjects/{subject}/versions"]["post"]
    assert {"basicAuth": []} in register["security"]
    assert "401" in register["responses"]
    assert document["paths"]["/_health"]["get"]["security"] == [{}]
    secured = registry_factory(users={"ci": {"password": "ci-secret", "write": True}})
    refused = httpx.get(f"{secured.url}/subjects", timeout=10)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Basic")
    assert refused.json()["error_code"] == 401
    allowed = httpx.get(f"{secured.url}/subjects", auth=("ci", "ci-secret"), timeout=10)
    assert allowed.status_code == 200

"""The registry's OpenAPI document: Confluent's request bodies, error model and HTTP Basic auth.

The routes read their bodies themselves (Confluent's content types, unknown fields ignored), so
FastAPI sees no body models; the document gets them here, with every operation's error answer
`{"error_code", "message"}` (Confluent's `ErrorMessage`) and the `basicAuth` scheme that
`ACCORD_REGISTRY_USERS` turns on (`security` lists anonymous access too: without users the
registry asks for none).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from accord.registry.protocol import V1
from accord.registry_client.compatibility import CompatibilityLevel

REQUEST_MEDIA_TYPES = (
    V1,
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/octet-stream",
)
RESPONSE_MEDIA_TYPES = (V1, "application/vnd.schemaregistry+json", "application/json")
OPEN_PATHS = ("/_health",)
"""Served without authentication (as is `/metrics`, which the document does not list)."""


class ErrorMessage(BaseModel):
    """Confluent's error answer: the HTTP status is repeated or refined by `error_code` (e.g. 40401)."""

    error_code: int = Field(
        description="Confluent's code, e.g. 40401 subject not found, 42201 invalid schema"
    )
    message: str


class SchemaReference(BaseModel):
    """A named type imported from a version of another subject."""

    name: str = Field(description="the full name the schema uses for the type")
    subject: str
    version: int


class Metadata(BaseModel):
    """Confluent's schema metadata."""

    tags: dict[str, list[str]] | None = None
    properties: dict[str, str] | None = None
    sensitive: list[str] | None = None


class RuleKind(StrEnum):
    """What a rule does."""

    CONDITION = "CONDITION"
    TRANSFORM = "TRANSFORM"


class RuleMode(StrEnum):
    """When a rule runs."""

    UPGRADE = "UPGRADE"
    DOWNGRADE = "DOWNGRADE"
    UPDOWN = "UPDOWN"
    WRITE = "WRITE"
    READ = "READ"
    WRITEREAD = "WRITEREAD"


class Rule(BaseModel):
    """One data-contract rule, e.g. a CEL condition `{"type": "CEL", "expr": "message.amount > 0"}`."""

    name: str
    doc: str | None = None
    kind: RuleKind | None = None
    mode: RuleMode | None = None
    type: str = Field(description="the executor: CEL, CEL_FIELD, JSONATA, ENCRYPT, ...")
    tags: list[str] | None = None
    params: dict[str, str] | None = None
    expr: str | None = None
    onSuccess: str | None = None  # noqa: N815 - Confluent's spelling
    onFailure: str | None = Field(  # noqa: N815
        default=None, description="ERROR (default), NONE or DLQ; `write,read` for WRITEREAD rules"
    )
    disabled: bool | None = None


class RuleSet(BaseModel):
    """A schema's data-contract rules."""

    migrationRules: list[Rule] | None = None  # noqa: N815 - Confluent's spelling
    domainRules: list[Rule] | None = None  # noqa: N815
    encodingRules: list[Rule] | None = None  # noqa: N815


class RegisterSchemaRequest(BaseModel):
    """A schema to register, look up or test for compatibility."""

    schema_: str = Field(alias="schema", description="the schema's text (Avro JSON)")
    schemaType: str = Field(default="AVRO", description="only AVRO is served")  # noqa: N815
    references: list[SchemaReference] = Field(default_factory=list)
    metadata: Metadata | None = None
    ruleSet: RuleSet | None = None  # noqa: N815 - Confluent's spelling


class ConfigUpdateRequest(BaseModel):
    """A new global or subject-level configuration."""

    compatibility: CompatibilityLevel
    normalize: bool | None = Field(default=None, description="accepted; identity is by parsed schema already")


class Mode(StrEnum):
    """The registry modes."""

    READWRITE = "READWRITE"
    READONLY = "READONLY"
    READONLY_OVERRIDE = "READONLY_OVERRIDE"
    IMPORT = "IMPORT"


class ModeUpdateRequest(BaseModel):
    """A new global or subject-level mode."""

    mode: Mode


BODIES: dict[tuple[str, str], type[BaseModel]] = {
    ("/subjects/{subject}/versions", "post"): RegisterSchemaRequest,
    ("/subjects/{subject}", "post"): RegisterSchemaRequest,
    ("/compatibility/subjects/{subject}/versions/{version}", "post"): RegisterSchemaRequest,
    ("/compatibility/subjects/{subject}/versions", "post"): RegisterSchemaRequest,
    ("/config", "put"): ConfigUpdateRequest,
    ("/config/{subject}", "put"): ConfigUpdateRequest,
    ("/mode", "put"): ModeUpdateRequest,
    ("/mode/{subject}", "put"): ModeUpdateRequest,
}

_MODELS: tuple[type[BaseModel], ...] = (
    ErrorMessage,
    RegisterSchemaRequest,
    ConfigUpdateRequest,
    ModeUpdateRequest,
)

_SCHEMA_BY_ID = {
    "get": {
        "summary": "Schema By Id",
        "operationId": "schema_by_id_schemas_ids__schema_id__get",
        "parameters": [{"name": "schema_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "the schema, with its references, metadata and ruleSet"}},
    }
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _error_answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {media: {"schema": _ref(ErrorMessage)} for media in RESPONSE_MEDIA_TYPES},
    }


def _components() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model in _MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found


def registry_openapi(app: FastAPI) -> dict[str, Any]:
    """The document of `app`, with bodies, Confluent errors and Basic auth added (built once)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, routes=app.routes)
    document["paths"]["/schemas/ids/{schema_id}"] = _SCHEMA_BY_ID
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(_components())
    components["securitySchemes"] = {
        "basicAuth": {
            "type": "http",
            "scheme": "basic",
            "description": "users of ACCORD_REGISTRY_USERS; every user reads, `write` users change",
        }
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            model = BODIES.get((path, method))
            if model is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {media: {"schema": _ref(model)} for media in REQUEST_MEDIA_TYPES},
                }
            responses = operation["responses"]
            responses.pop("422", None)  # FastAPI's validation answer: the routes validate themselves
            if path in OPEN_PATHS:
                operation["security"] = [{}]
                continue
            operation["security"] = [{}, {"basicAuth": []}]
            responses["401"] = _error_answer(
                "users are configured and the request has no valid Basic credentials"
            )
            responses["4XX"] = _error_answer("the request cannot be served, e.g. 404/40401, 409, 422/42201")
            responses["5XX"] = _error_answer("the registry failed or is not ready, e.g. 500/50001, 503/50002")
    app.openapi_schema = document
    return document

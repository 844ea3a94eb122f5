"""`POST /v1/schemas/resolve`: the registered id and version of a schema the SDK holds."""

from __future__ import annotations

import fastavro
from fastapi import APIRouter, Request, Response
from fastavro.schema import SchemaParseException, UnknownType, to_parsing_canonical_form

from accord.gateway import api_models
from accord.gateway.bodies import parse_json, read_body
from accord.gateway.catalog import resolve
from accord.gateway.errors import BadRequestError, ForbiddenError, NotFoundError
from accord.gateway.routes.dependencies import GatewayDep, KeysDep
from accord.gateway.routes.responses import ERROR_DOC, RETRY_AFTER_DOC, WRITE_KEY_DOC, answered, json_response
from accord.wire.error_codes import ErrorCode
from accord.wire.framing import JSON_MEDIA_TYPE as JSON

router = APIRouter()


@router.post(
    "/v1/schemas/resolve",
    summary="Find the registered version of a schema",
    response_model=None,
    responses={
        200: {"model": api_models.ResolveResult, "description": "the matching registered version"},
        400: {**ERROR_DOC, "description": "malformed request or schema"},
        401: WRITE_KEY_DOC,
        403: {**ERROR_DOC, "description": "the key may not send this subject"},
        404: {
            **ERROR_DOC,
            "description": "schema_not_registered: no version of the subject has this schema",
        },
        413: {**ERROR_DOC, "description": "body larger than the limit"},
        415: {**ERROR_DOC, "description": "unsupported Content-Encoding"},
        503: {**ERROR_DOC, "description": "the registry is unavailable", "headers": RETRY_AFTER_DOC},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/ResolveRequest"}}},
        }
    },
)
async def resolve_schema(request: Request, gateway: GatewayDep, keys: KeysDep) -> Response:
    """The id and version of the version of `subject` whose parsing canonical form equals `schema`."""

    async def handle() -> Response:
        key = keys.authenticate(request.headers.get("authorization"))
        body = await read_body(
            request.stream(),
            request.headers.get("content-length"),
            request.headers.get("content-encoding"),
            gateway.settings.max_body_bytes,
        )
        subject, canonical = _resolve_request(parse_json(body))
        if not key.allows(subject):
            raise ForbiddenError(
                ErrorCode.UNAUTHORIZED_SUBJECT, f"write key {key.key_id!r} may not send subject {subject!r}"
            )
        found = await resolve(gateway.catalog, subject, canonical)
        if found is None:
            raise NotFoundError(
                ErrorCode.SCHEMA_NOT_REGISTERED,
                f"no version of subject {subject!r} has this schema; register it first",
            )
        return json_response(200, {"subject": subject, "id": found[0], "version": found[1]})

    return await answered("resolve", gateway, handle)


def _resolve_request(document: object) -> tuple[str, str]:
    """The subject and the parsing canonical form of the schema of a resolve request."""
    if not isinstance(document, dict):
        raise BadRequestError(
            ErrorCode.INVALID_REQUEST, "the body must be an object with 'subject' and 'schema'"
        )
    subject, schema = document.get("subject"), document.get("schema")
    if not isinstance(subject, str) or not subject:
        raise BadRequestError(ErrorCode.INVALID_REQUEST, "'subject' must be a non-empty string")
    if isinstance(schema, str):
        try:
            schema = parse_json(schema, "'schema', a string,")
        except BadRequestError as exc:
            if exc.code == "malformed_json":
                raise BadRequestError(ErrorCode.INVALID_SCHEMA, exc.message) from exc
            raise
    if not isinstance(schema, dict | list | str):
        raise BadRequestError(
            ErrorCode.INVALID_SCHEMA, "'schema' must be an Avro schema (JSON object or string)"
        )
    try:
        fastavro.parse_schema(schema, _write_hint=False)
        return subject, to_parsing_canonical_form(schema)
    except (SchemaParseException, UnknownType, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadRequestError(
            ErrorCode.INVALID_SCHEMA, f"'schema' is not a valid Avro schema: {exc}"
        ) from exc

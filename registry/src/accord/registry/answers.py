"""Reading requests and writing answers the way Confluent's registry does, for every router.

Routes take the raw `Request` and parse their own query parameters so that every error has
Confluent's envelope, status, code and text (FastAPI's own validation answers would not).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord.registry.errors import MAX_VERSION, InvalidRequestError, InvalidVersionError, RegistryError
from accord.registry.protocol import V1
from accord.registry.records import SchemaValue


class BadJsonError(RegistryError):
    status, code = 400, 400


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON answer (the protocol middleware sets the negotiated media type)."""
    return Response(orjson.dumps(data), status_code=status, media_type=V1)


def flag(request: Request, name: str) -> bool:
    """A boolean query parameter; clients send `true`, `True`, `false`, `False`."""
    value = request.query_params.get(name)
    return value is not None and value.strip().lower() in ("true", "1", "yes")


def page(request: Request, items: list[Any]) -> list[Any]:
    """Apply the `offset` and `limit` query parameters (limit -1: everything)."""
    try:
        offset = max(int(request.query_params.get("offset", 0)), 0)
        limit = int(request.query_params.get("limit", -1))
    except ValueError as exc:
        raise InvalidRequestError("offset and limit must be integers") from exc
    items = items[offset:]
    return items if limit < 0 else items[:limit]


def parse_version(text: str) -> int | None:
    """A version path segment: 1..2^31-1, or `latest` / `-1` (None)."""
    if text == "latest" or text == "-1":
        return None
    try:
        version = int(text)
    except ValueError as exc:
        raise InvalidVersionError(text) from exc
    if not 1 <= version <= MAX_VERSION:
        raise InvalidVersionError(text)
    return version


def parse_id(text: str) -> int:
    """A schema id path segment; anything else is answered like an unknown path."""
    try:
        return int(text)
    except ValueError as exc:
        raise StarletteHTTPException(404) from exc


async def json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, decoded with the charset the client declared."""
    raw = await request.body()
    charset = "utf-8"
    for param in request.headers.get("content-type", "").split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip('"')
    try:
        data = orjson.loads(raw.decode(charset) if charset.lower().replace("-", "") != "utf8" else raw)
    except (orjson.JSONDecodeError, UnicodeDecodeError, LookupError) as exc:
        raise BadJsonError(f"Invalid JSON body: {exc}") from exc
    if not isinstance(data, dict):
        raise BadJsonError("Invalid JSON body: expected a JSON object")
    return data


def schema_object(value: SchemaValue) -> dict[str, Any]:
    """A version as `GET /subjects/{s}/versions/{v}` answers it."""
    data: dict[str, Any] = {"subject": value.subject, "version": value.version, "id": value.id}
    if value.references:
        data["references"] = [ref.to_json() for ref in value.references]
    if value.metadata is not None:
        data["metadata"] = value.metadata
    if value.rule_set is not None:
        data["ruleSet"] = value.rule_set
    data["schema"] = value.schema
    return data

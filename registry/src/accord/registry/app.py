"""The Confluent Schema Registry REST API (Avro), as a FastAPI application.

Routes take the raw `Request` and parse their own query parameters so that every error has
Confluent's envelope, status, code and text (FastAPI's own validation answers would not).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from accord.registry.compatibility import CompatibilityLevel, Incompatibility
from accord.registry.errors import (
    MAX_VERSION,
    InvalidRequestError,
    InvalidVersionError,
    RegistryError,
    SchemaNotFoundError,
    SchemaTooLargeError,
    SubjectConfigNotFoundError,
    SubjectModeNotFoundError,
)
from accord.registry.kafka_log import Progress
from accord.registry.metrics import install_metrics
from accord.registry.operations import Registry, SchemaRequest, validate_level
from accord.registry.protocol import V1, RegistryProtocol
from accord.registry.records import SchemaValue
from accord.registry.settings import RegistrySettings

log = logging.getLogger(__name__)

STATIC_BODY = orjson.dumps({"schema": '"string"'})


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


class BadJsonError(RegistryError):
    status, code = 400, 400


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


def compatibility_answer(request: Request, problems: list[Incompatibility]) -> Response:
    """`{"is_compatible"}`, with `messages` when `verbose=true` or when incompatible."""
    data: dict[str, Any] = {"is_compatible": not problems}
    if problems or flag(request, "verbose"):
        data["messages"] = [problem.message for problem in problems]
    return json_response(data)


def create_app(
    registry: Registry,
    settings: RegistrySettings,
    progress: Callable[[], Progress],
    lifespan: Callable[[FastAPI], Any] | None = None,
) -> FastAPI:
    """The registry's ASGI application over `registry`."""
    store = registry.store

    @asynccontextmanager
    async def default_lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(
        title="Accord schema registry", lifespan=lifespan or default_lifespan, docs_url=None, redoc_url=None
    )
    app.add_middleware(
        RegistryProtocol,
        progress=progress,
        users=settings.users,
        writer_url=settings.writer_url,
    )
    install_metrics(app, registry, progress)

    @app.exception_handler(RegistryError)
    async def registry_error(_: Request, exc: RegistryError) -> Response:
        return json_response({"error_code": exc.code, "message": exc.message}, exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        phrases = {404: "Not Found", 405: "Method Not Allowed"}
        phrase = phrases.get(exc.status_code, str(exc.detail))
        return json_response(
            {"error_code": exc.status_code, "message": f"HTTP {exc.status_code} {phrase}"}, exc.status_code
        )

    async def schema_by_id(request: Request) -> Response:
        body = store.id_bodies.get(parse_id(request.path_params["schema_id"]))
        if body is None:
            raise SchemaNotFoundError(int(request.path_params["schema_id"]))
        return Response(body, media_type=V1)

    # the hot path is a plain route, matched first: no dependency resolution or validation per request
    app.router.routes.insert(0, Route("/schemas/ids/{schema_id}", schema_by_id, methods=["GET"]))
    if settings.bench_static_route:

        async def static(_: Request) -> Response:
            return Response(STATIC_BODY, media_type=V1)

        # the baseline gets the same advantage: first in the routing table
        app.router.routes.insert(0, Route("/_bench/static", static, methods=["GET"]))

    @app.get("/")
    async def root() -> Response:
        return json_response({})

    @app.get("/_health")
    async def health() -> Response:
        state = progress()
        data = {"ready": state.ready, "records_read": state.applied, "records_at_start": state.end}
        return Response(
            orjson.dumps(data), status_code=200 if state.ready else 503, media_type="application/json"
        )

    @app.get("/schemas/types")
    async def schema_types() -> Response:
        return json_response(["AVRO"])

    @app.get("/contexts")
    async def contexts() -> Response:
        return json_response(["."])

    # ------------------------------------------------------------------ schemas

    @app.get("/schemas")
    async def schemas(request: Request) -> Response:
        prefix = request.query_params.get("subjectPrefix", "")
        deleted, latest_only = flag(request, "deleted"), flag(request, "latestOnly")
        found = [
            v for v in store.all_versions() if v.subject.startswith(prefix) and (deleted or not v.deleted)
        ]
        if latest_only:
            latest: dict[str, SchemaValue] = {}
            for value in found:
                latest[value.subject] = value
            found = list(latest.values())
        return json_response(page(request, [schema_object(v) for v in found]))

    @app.get("/schemas/ids/{schema_id}/schema")
    async def schema_text_by_id(schema_id: str) -> Response:
        return Response(store.schema_by_id(parse_id(schema_id)).schema.encode(), media_type=V1)

    @app.get("/schemas/ids/{schema_id}/subjects")
    async def subjects_by_id(request: Request, schema_id: str) -> Response:
        number = parse_id(schema_id)
        store.schema_by_id(number)
        users = store.users(number, deleted=flag(request, "deleted"))
        return json_response(page(request, sorted({v.subject for v in users})))

    @app.get("/schemas/ids/{schema_id}/versions")
    async def versions_by_id(request: Request, schema_id: str) -> Response:
        number = parse_id(schema_id)
        store.schema_by_id(number)
        users = store.users(number, deleted=flag(request, "deleted"))
        return json_response(page(request, [{"subject": v.subject, "version": v.version} for v in users]))

    # ------------------------------------------------------------------ subjects

    @app.get("/subjects")
    async def subjects(request: Request) -> Response:
        prefix = request.query_params.get("subjectPrefix", "")
        names = store.subject_names(
            deleted=flag(request, "deleted"), deleted_only=flag(request, "deletedOnly")
        )
        return json_response(page(request, [name for name in names if name.startswith(prefix)]))

    @app.get("/subjects/{subject:path}/versions/{version}/schema")
    async def version_schema(request: Request, subject: str, version: str) -> Response:
        value = store.version(subject, parse_version(version), deleted=flag(request, "deleted"))
        return Response(value.schema.encode(), media_type=V1)

    @app.get("/subjects/{subject:path}/versions/{version}/referencedby")
    async def referenced_by(request: Request, subject: str, version: str) -> Response:
        value = store.version(subject, parse_version(version), deleted=True)
        return json_response(page(request, store.referenced_by(subject, value.version)))

    @app.get("/subjects/{subject:path}/versions/{version}")
    async def get_version(request: Request, subject: str, version: str) -> Response:
        value = store.version(subject, parse_version(version), deleted=flag(request, "deleted"))
        return json_response(schema_object(value))

    @app.delete("/subjects/{subject:path}/versions/{version}")
    async def delete_version(request: Request, subject: str, version: str) -> Response:
        number = parse_version(version)
        deleted = await run_in_threadpool(
            registry.delete_version, subject, number, permanent=flag(request, "permanent")
        )
        return json_response(deleted)

    @app.get("/subjects/{subject:path}/versions")
    async def list_versions(request: Request, subject: str) -> Response:
        deleted_only = flag(request, "deletedOnly")
        values = store.versions_of(subject, deleted=flag(request, "deleted") or deleted_only)
        if deleted_only:
            values = [v for v in values if v.deleted]
        return json_response(page(request, [v.version for v in values]))

    @app.post("/subjects/{subject:path}/versions")
    async def register(request: Request, subject: str) -> Response:
        schema_request = SchemaRequest.from_body(await json_body(request))
        size = len(schema_request.schema.encode())
        if size > settings.max_schema_bytes:
            raise SchemaTooLargeError(size, settings.max_schema_bytes)
        value = await run_in_threadpool(
            registry.register, subject, schema_request, force=flag(request, "force")
        )
        return json_response({"id": value.id, "version": value.version})

    @app.post("/subjects/{subject:path}")
    async def lookup(request: Request, subject: str) -> Response:
        schema_request = SchemaRequest.from_body(await json_body(request), allow_empty=True)
        value = registry.lookup(subject, schema_request, deleted=flag(request, "deleted"))
        return json_response(schema_object(value))

    @app.delete("/subjects/{subject:path}")
    async def delete_subject(request: Request, subject: str) -> Response:
        versions = await run_in_threadpool(
            registry.delete_subject, subject, permanent=flag(request, "permanent")
        )
        return json_response(versions)

    # ------------------------------------------------------------------ compatibility

    @app.post("/compatibility/subjects/{subject:path}/versions/{version}")
    async def compatibility_with_version(request: Request, subject: str, version: str) -> Response:
        number = parse_version(version)
        schema_request = SchemaRequest.from_body(await json_body(request))
        problems = await run_in_threadpool(
            registry.test_compatibility, subject, schema_request, number, all_versions=False
        )
        return compatibility_answer(request, problems)

    @app.post("/compatibility/subjects/{subject:path}/versions")
    async def compatibility_with_all(request: Request, subject: str) -> Response:
        schema_request = SchemaRequest.from_body(await json_body(request))
        problems = await run_in_threadpool(
            registry.test_compatibility, subject, schema_request, None, all_versions=True
        )
        return compatibility_answer(request, problems)

    # ------------------------------------------------------------------ config and mode

    def config_answer(level: CompatibilityLevel) -> Response:
        return json_response({"compatibilityLevel": level.value})

    @app.get("/config")
    async def get_global_config() -> Response:
        return config_answer(store.compatibility(None))

    @app.get("/config/{subject:path}")
    async def get_config(request: Request, subject: str) -> Response:
        if subject not in store.configs and not flag(request, "defaultToGlobal"):
            raise SubjectConfigNotFoundError(subject)
        return config_answer(store.compatibility(subject))

    async def put_config(request: Request, subject: str | None) -> Response:
        body = await json_body(request)
        level = validate_level(body.get("compatibility") or body.get("compatibilityLevel"))
        await run_in_threadpool(registry.set_config, subject, level)
        return json_response({"compatibility": level.value})

    @app.put("/config")
    async def put_global_config(request: Request) -> Response:
        return await put_config(request, None)

    @app.put("/config/{subject:path}")
    async def put_subject_config(request: Request, subject: str) -> Response:
        return await put_config(request, subject)

    @app.delete("/config")
    async def delete_global_config() -> Response:
        return config_answer(await run_in_threadpool(registry.delete_config, None))

    @app.delete("/config/{subject:path}")
    async def delete_subject_config(subject: str) -> Response:
        return config_answer(await run_in_threadpool(registry.delete_config, subject))

    @app.get("/mode")
    async def get_global_mode() -> Response:
        return json_response({"mode": store.mode(None)})

    @app.get("/mode/{subject:path}")
    async def get_mode(request: Request, subject: str) -> Response:
        if subject not in store.modes and not flag(request, "defaultToGlobal"):
            raise SubjectModeNotFoundError(subject)
        return json_response({"mode": store.mode(subject)})

    async def put_mode(request: Request, subject: str | None) -> Response:
        body = await json_body(request)
        mode = await run_in_threadpool(
            registry.set_mode, subject, body.get("mode"), force=flag(request, "force")
        )
        return json_response({"mode": mode})

    @app.put("/mode")
    async def put_global_mode(request: Request) -> Response:
        return await put_mode(request, None)

    @app.put("/mode/{subject:path}")
    async def put_subject_mode(request: Request, subject: str) -> Response:
        return await put_mode(request, subject)

    @app.delete("/mode")
    async def delete_global_mode() -> Response:
        return json_response({"mode": await run_in_threadpool(registry.delete_mode, None)})

    @app.delete("/mode/{subject:path}")
    async def delete_subject_mode(subject: str) -> Response:
        return json_response({"mode": await run_in_threadpool(registry.delete_mode, subject)})

    return app

"""The gateway's HTTP API (FastAPI): the routers of `accord.gateway.routes`, assembled.

Shared state lives on `app.state` (`keys` from the start, `gateway` once the lifespan has
connected to Kafka and the registry); routes read it through `routes.dependencies`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException

from accord.gateway import api_models
from accord.gateway.auth import WriteKeyStore
from accord.gateway.catalog import SchemaCatalog
from accord.gateway.ingest import Gateway
from accord.gateway.publisher import Publisher
from accord.gateway.routes import events, health, preflight, schemas, segment, stats
from accord.gateway.routes.responses import json_response
from accord.gateway.segment import SegmentMapping
from accord.gateway.settings import GatewaySettings
from accord.runtime.logs import configure_logging
from accord.wire.error_codes import ErrorCode

log = logging.getLogger(__name__)

_AUTHENTICATED = (
    "/v1/events",
    "/v1/schemas/resolve",
    "/v1/stats",
    *(f"/v1/{call}" for call in ("batch", "track", "page", "screen", "identify")),
)
"""Paths documented as requiring the write key (security scheme `writeKey`)."""


def build_gateway(settings: GatewaySettings) -> Gateway:
    """The gateway's parts, connected to the registry and Kafka named by `settings`."""
    catalog = SchemaCatalog(settings.registry_url, latest_ttl_s=settings.latest_ttl_s)
    publisher = Publisher(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            **settings.kafka_security.librdkafka(),
            "linger.ms": settings.producer_linger_ms,
            "queue.buffering.max.messages": settings.producer_queue_max_messages,
            "message.timeout.ms": int(settings.delivery_timeout_s * 1000),
        }
    )
    return Gateway(settings, catalog, publisher)


def load_keys(settings: GatewaySettings) -> WriteKeyStore:
    """The configured write keys, or the development key when no file is configured."""
    if settings.write_keys_file is None:
        log.warning("no write keys file configured: only the development key is accepted")
        return WriteKeyStore.development()
    return WriteKeyStore.from_file(settings.write_keys_file)


def load_segment_mapping(settings: GatewaySettings) -> SegmentMapping:
    """The configured Segment mapping; without one every Segment message is unmapped."""
    if settings.segment_mapping_file is None:
        return SegmentMapping.empty()
    return SegmentMapping.from_file(settings.segment_mapping_file)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The FastAPI application; Kafka and registry connections open at startup and close at shutdown."""
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = build_gateway(settings)
        app.state.gateway = gateway
        log.info(
            "gateway started",
            extra={"kafka": settings.kafka_bootstrap, "registry": settings.registry_url, "pid": os.getpid()},
        )
        try:
            yield
        finally:
            await gateway.catalog.close()
            await asyncio.to_thread(gateway.publisher.close)

    app = FastAPI(
        title="Accord ingestion gateway",
        version="1",
        description="Validates product events against their registered Avro schemas and publishes them to "
        "Kafka. Authenticate with `Authorization: Bearer <write key>`, or `Authorization: Basic` of "
        "`<write key>:` as Segment's clients do; browser beacons (`text/plain` bodies) may name the key "
        "in the `writeKey` query parameter or body field. Every request-level error, unknown routes and "
        'methods included, is answered `{"error": {"code", "message"}}`.',
        lifespan=lifespan,
    )
    app.state.keys = load_keys(settings)
    app.state.segment = load_segment_mapping(settings)
    for module in (events, segment, schemas, stats, health, preflight):
        app.include_router(module.router)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def worker_app() -> FastAPI:
    """The application of one of several gateway processes on one port (uvicorn's app factory).

    Each worker is a fresh interpreter: it reads its settings from the environment and sets up
    its own logging.
    """
    settings = GatewaySettings()
    configure_logging(settings.log_level)
    return create_app(settings)


_HTTP_CODES = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no route, wrong method) in the gateway's error envelope."""
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.INVALID_PARAMETERS)
    message = {
        ErrorCode.NOT_FOUND: f"no route {request.url.path[:200]!r}; see /docs for the API",
        ErrorCode.METHOD_NOT_ALLOWED: f"{request.method} is not answered at {request.url.path[:200]!r}",
    }.get(code, str(exc.detail))
    return json_response(
        exc.status_code, {"error": {"code": code, "message": message}}, dict(exc.headers or {})
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's parameter validation errors in the gateway's error envelope, naming the first."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid request"))
    return json_response(400, {"error": {"code": ErrorCode.INVALID_PARAMETERS, "message": message}})


async def _internal_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure, logged with its traceback, answered in the error envelope."""
    log.exception("request failed", extra={"path": request.url.path, "method": request.method})
    message = "the gateway failed unexpectedly; the failure is logged"
    return json_response(500, {"error": {"code": ErrorCode.INTERNAL_ERROR, "message": message}})


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document, with the request body models and the write-key security scheme."""
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = spec.setdefault("components", {})
        component_schemas = components.setdefault("schemas", {})
        for model in (
            api_models.JsonBatch,
            api_models.ResolveRequest,
            api_models.SegmentBatch,
            api_models.SegmentMessage,
        ):
            definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
            component_schemas.update(definition.pop("$defs", {}))
            component_schemas[model.__name__] = definition
        components["securitySchemes"] = {"writeKey": {"type": "http", "scheme": "bearer"}}
        for path in _AUTHENTICATED:
            for method, operation in spec["paths"][path].items():
                if method != "options":  # a preflight carries no credentials
                    operation["security"] = [{"writeKey": []}]
        app.openapi_schema = spec
    return app.openapi_schema

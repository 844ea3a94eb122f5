"""The Confluent Schema Registry REST API (Avro), as a FastAPI application.

The routes live in `accord.registry.routers`, one module per resource; this module puts the
shared state on the application, installs the protocol middleware and the Prometheus metrics
(`/metrics`), and maps errors to Confluent's envelope `{"error_code", "message"}`.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from accord.registry.answers import json_response
from accord.registry.dependencies import AppState
from accord.registry.errors import RegistryError
from accord.registry.kafka_log import Progress
from accord.registry.metrics import install_metrics
from accord.registry.openapi import registry_openapi
from accord.registry.operations import Registry
from accord.registry.protocol import RegistryProtocol
from accord.registry.routers import compatibility, config, health, schemas, subjects
from accord.registry.settings import RegistrySettings

_PHRASES = {404: "Not Found", 405: "Method Not Allowed"}


@asynccontextmanager
async def _no_lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield


async def _registry_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    return json_response({"error_code": exc.code, "message": exc.message}, exc.status)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    phrase = _PHRASES.get(exc.status_code, str(exc.detail))
    return json_response(
        {"error_code": exc.status_code, "message": f"HTTP {exc.status_code} {phrase}"}, exc.status_code
    )


def create_app(
    registry: Registry,
    settings: RegistrySettings,
    progress: Callable[[], Progress],
    lifespan: Callable[[FastAPI], Any] | None = None,
) -> FastAPI:
    """The registry's ASGI application over `registry`."""
    app = FastAPI(
        title="Accord schema registry", lifespan=lifespan or _no_lifespan, docs_url=None, redoc_url=None
    )
    app.state.accord = AppState(registry, settings, progress)
    app.add_middleware(
        RegistryProtocol, progress=progress, users=settings.users, writer_url=settings.writer_url
    )
    install_metrics(app, registry, progress)
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.router.routes.insert(0, schemas.schema_by_id_route)
    for module in (health, schemas, subjects, compatibility, config):
        app.include_router(module.router)
    app.openapi = functools.partial(registry_openapi, app)  # type: ignore[method-assign]
    return app

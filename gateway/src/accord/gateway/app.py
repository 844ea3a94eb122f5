"""The gateway's HTTP API (FastAPI): the routers of `accord.gateway.routes`, assembled.

Shared state lives on `app.state` (`keys` from the start, `gateway` once the lifespan has
connected to Kafka and the registry); routes read it through `routes.dependencies`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from accord.gateway import api_models
from accord.gateway.auth import WriteKeyStore
from accord.gateway.catalog import SchemaCatalog
from accord.gateway.ingest import Gateway
from accord.gateway.publisher import Publisher
from accord.gateway.routes import events, health, schemas, stats
from accord.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

_AUTHENTICATED = ("/v1/events", "/v1/schemas/resolve", "/v1/stats")
"""Paths documented as requiring the write key (security scheme `writeKey`)."""


def build_gateway(settings: GatewaySettings) -> Gateway:
    """The gateway's parts, connected to the registry and Kafka named by `settings`."""
    catalog = SchemaCatalog(settings.registry_url, latest_ttl_s=settings.latest_ttl_s)
    publisher = Publisher(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
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


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The FastAPI application; Kafka and registry connections open at startup and close at shutdown."""
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = build_gateway(settings)
        app.state.gateway = gateway
        log.info(
            "gateway started", extra={"kafka": settings.kafka_bootstrap, "registry": settings.registry_url}
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
        "Kafka. Authenticate with `Authorization: Bearer <write key>`.",
        lifespan=lifespan,
    )
    app.state.keys = load_keys(settings)
    for module in (events, schemas, stats, health):
        app.include_router(module.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document, with the request body models and the write-key security scheme."""
    if app.openapi_schema is None:
        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = spec.setdefault("components", {})
        component_schemas = components.setdefault("schemas", {})
        for model in (api_models.JsonBatch, api_models.ResolveRequest):
            definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
            component_schemas.update(definition.pop("$defs", {}))
            component_schemas[model.__name__] = definition
        components["securitySchemes"] = {"writeKey": {"type": "http", "scheme": "bearer"}}
        for path in _AUTHENTICATED:
            for operation in spec["paths"][path].values():
                operation["security"] = [{"writeKey": []}]
        app.openapi_schema = spec
    return app.openapi_schema

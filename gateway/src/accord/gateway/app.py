"""The gateway's HTTP API (FastAPI): events in, per-event results out, plus operations endpoints."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import fastavro
import orjson
from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastavro.schema import SchemaParseException, UnknownType, to_parsing_canonical_form
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from accord.gateway import api_models
from accord.gateway.auth import WriteKeyStore
from accord.gateway.bodies import media_type, parse_json, read_body, sent_at_ms
from accord.gateway.catalog import SchemaCatalog, resolve
from accord.gateway.errors import (
    BadRequestError,
    ForbiddenError,
    NotFoundError,
    RequestRejectedError,
    UnsupportedMediaTypeError,
)
from accord.gateway.ingest import Gateway
from accord.gateway.publisher import Publisher
from accord.gateway.settings import GatewaySettings
from accord.wire.error_codes import ErrorCode
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE as AVRO_BATCH
from accord.wire.framing import JSON_MEDIA_TYPE as JSON

log = logging.getLogger(__name__)

_ERROR = {"model": api_models.ErrorBody}
_RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}
}
_AVRO_BATCH_DOC = (
    "A sequence of events, each a 4-byte big-endian length followed by that many bytes of the event "
    "in Confluent framing: magic byte 0, 4-byte big-endian schema id, Avro binary encoding of the "
    "record. Requires the header `Accord-Sent-At`."
)


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


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _error_response(error: RequestRejectedError, default_retry_after_s: int) -> Response:
    headers = None
    if error.status in (429, 503):
        headers = {"Retry-After": str(error.retry_after_s or default_retry_after_s)}
    return _json(error.status, {"error": {"code": error.code, "message": error.message}}, headers)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    """The FastAPI application; Kafka and registry connections open at startup and close at shutdown."""
    settings = settings or GatewaySettings()
    keys = load_keys(settings)

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

    async def answered(
        route: str, request: Request, handle: Callable[[Gateway], Awaitable[Response]]
    ) -> Response:
        gateway: Gateway = request.app.state.gateway
        gateway.metrics.in_flight.inc()
        try:
            response = await handle(gateway)
        except RequestRejectedError as error:
            response = _error_response(error, settings.retry_after_s)
            if error.status >= 500:
                log.warning(
                    "request refused", extra={"route": route, "code": error.code, "reason": error.message}
                )
        finally:
            gateway.metrics.in_flight.dec()
        gateway.metrics.requests.labels(route, str(response.status_code)).inc()
        return response

    @app.post(
        "/v1/events",
        summary="Send a batch of events",
        response_model=None,
        responses={
            200: {"model": api_models.BatchResult, "description": "every event accepted"},
            207: {
                "model": api_models.BatchResult,
                "description": "some events rejected; the others accepted",
            },
            422: {"model": api_models.BatchResult, "description": "every event rejected"},
            400: {**_ERROR, "description": "malformed body, empty batch, missing or invalid sent_at"},
            401: {**_ERROR, "description": "missing or unknown write key"},
            403: {**_ERROR, "description": "every event is for a subject the key may not send"},
            413: {**_ERROR, "description": "body or batch larger than the limits"},
            415: {**_ERROR, "description": "unsupported Content-Type or Content-Encoding"},
            429: {**_ERROR, "description": "rate limit of the write key exceeded", "headers": _RETRY_AFTER},
            503: {**_ERROR, "description": "Kafka or the registry unavailable", "headers": _RETRY_AFTER},
        },
        openapi_extra={
            "parameters": [
                {
                    "name": "Accord-Sent-At",
                    "in": "header",
                    "required": False,
                    "description": "Avro bodies: the client's clock when the batch left (RFC 3339)",
                    "schema": {"type": "string"},
                },
            ],
            "requestBody": {
                "required": True,
                "description": "Either body may be sent with `Content-Encoding: gzip`.",
                "content": {
                    JSON: {"schema": {"$ref": "#/components/schemas/JsonBatch"}},
                    AVRO_BATCH: {
                        "schema": {"type": "string", "format": "binary", "description": _AVRO_BATCH_DOC}
                    },
                },
            },
        },
    )
    async def post_events(request: Request) -> Response:
        """Validate each event against its registered schema and produce the valid ones to Kafka.

        The answer comes once Kafka acknowledged every accepted event (acks=all); rejected events
        are answered one by one and written to the dead-letter topic.
        """
        received_at_s = time.time()

        async def handle(gateway: Gateway) -> Response:
            headers = request.headers
            key = keys.authenticate(headers.get("authorization"))
            kind = media_type(headers.get("content-type"))
            if kind not in (AVRO_BATCH, JSON):
                raise UnsupportedMediaTypeError(
                    ErrorCode.UNSUPPORTED_CONTENT_TYPE,
                    f"Content-Type must be {AVRO_BATCH} or {JSON}; got {kind or 'none'!r}",
                )
            body = await read_body(
                request.stream(),
                headers.get("content-length"),
                headers.get("content-encoding"),
                settings.max_body_bytes,
            )
            if kind == AVRO_BATCH:
                sent = sent_at_ms(headers.get("accord-sent-at"), "header Accord-Sent-At")
                outcome = await gateway.ingest_avro(key, body, sent, received_at_s)
            else:
                document = parse_json(body)
                if not isinstance(document, dict):
                    raise BadRequestError(
                        ErrorCode.INVALID_BATCH, "the body must be an object with 'sent_at' and 'events'"
                    )
                sent = sent_at_ms(document.get("sent_at"), "field sent_at")
                outcome = await gateway.ingest_json(key, document, received_at_s, sent)
            return _json(outcome.status, outcome.answer())

        return await answered("events", request, handle)

    @app.post(
        "/v1/schemas/resolve",
        summary="Find the registered version of a schema",
        response_model=None,
        responses={
            200: {"model": api_models.ResolveResult, "description": "the matching registered version"},
            400: {**_ERROR, "description": "malformed request or schema"},
            401: {**_ERROR, "description": "missing or unknown write key"},
            403: {**_ERROR, "description": "the key may not send this subject"},
            404: {
                **_ERROR,
                "description": "schema_not_registered: no version of the subject has this schema",
            },
            413: {**_ERROR, "description": "body larger than the limit"},
            415: {**_ERROR, "description": "unsupported Content-Encoding"},
            503: {**_ERROR, "description": "the registry is unavailable", "headers": _RETRY_AFTER},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": {"$ref": "#/components/schemas/ResolveRequest"}}},
            }
        },
    )
    async def resolve_schema(request: Request) -> Response:
        """The id and version of the version of `subject` whose parsing canonical form equals `schema`."""

        async def handle(gateway: Gateway) -> Response:
            key = keys.authenticate(request.headers.get("authorization"))
            body = await read_body(
                request.stream(),
                request.headers.get("content-length"),
                request.headers.get("content-encoding"),
                settings.max_body_bytes,
            )
            subject, canonical = _resolve_request(parse_json(body))
            if not key.allows(subject):
                raise ForbiddenError(
                    ErrorCode.UNAUTHORIZED_SUBJECT,
                    f"write key {key.key_id!r} may not send subject {subject!r}",
                )
            found = await resolve(gateway.catalog, subject, canonical)
            if found is None:
                raise NotFoundError(
                    ErrorCode.SCHEMA_NOT_REGISTERED,
                    f"no version of subject {subject!r} has this schema; register it first",
                )
            return _json(200, {"subject": subject, "id": found[0], "version": found[1]})

        return await answered("resolve", request, handle)

    @app.get("/v1/stats", summary="Events per hour of receipt", response_model=api_models.Stats)
    async def stats(request: Request) -> Response:
        """Accepted, duplicate and rejected events per hour of receipt since the gateway started."""
        gateway: Gateway = request.app.state.gateway
        return _json(200, {"hours": gateway.counts.snapshot()})

    @app.get("/healthz", summary="Liveness", response_model=api_models.Health)
    async def healthz() -> Response:
        """The process serves requests."""
        return _json(200, {"status": "ok", "checks": {}})

    @app.get(
        "/readyz",
        summary="Readiness",
        response_model=api_models.Health,
        responses={503: {"model": api_models.Health, "description": "Kafka or the registry unreachable"}},
    )
    async def readyz(request: Request) -> Response:
        """Ready when both Kafka and the registry answer."""
        gateway: Gateway = request.app.state.gateway
        kafka, registry = await asyncio.gather(
            asyncio.to_thread(gateway.publisher.reachable), gateway.catalog.ping()
        )
        ready = kafka and registry
        return _json(
            200 if ready else 503,
            {"status": "ready" if ready else "unavailable", "checks": {"kafka": kafka, "registry": registry}},
        )

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={
            200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "metrics"}
        },
    )
    async def metrics(request: Request) -> Response:
        """Requests, events by outcome and reason, produce latency, requests in flight."""
        gateway: Gateway = request.app.state.gateway
        return Response(generate_latest(gateway.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = spec.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            for model in (api_models.JsonBatch, api_models.ResolveRequest):
                definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(definition.pop("$defs", {}))
                schemas[model.__name__] = definition
            components["securitySchemes"] = {"writeKey": {"type": "http", "scheme": "bearer"}}
            for path in ("/v1/events", "/v1/schemas/resolve"):
                spec["paths"][path]["post"]["security"] = [{"writeKey": []}]
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


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
            schema = orjson.loads(schema)
        except orjson.JSONDecodeError as exc:
            raise BadRequestError(
                ErrorCode.INVALID_SCHEMA, f"'schema' is a string but not JSON: {exc}"
            ) from exc
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

"""`POST /v1/events`: a batch of events in, one result per event out."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response

from accord.gateway import api_models
from accord.gateway.bodies import BEACON, media_type, parse_json, read_body, request_credentials, sent_at_ms
from accord.gateway.cors import admit_origin
from accord.gateway.errors import BadRequestError, UnsupportedMediaTypeError
from accord.gateway.routes.dependencies import GatewayDep, KeysDep
from accord.gateway.routes.responses import answered, batch_responses, json_response
from accord.wire.error_codes import ErrorCode
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE as AVRO_BATCH
from accord.wire.framing import JSON_MEDIA_TYPE as JSON

router = APIRouter()

_AVRO_BATCH_DOC = (
    "A sequence of events, each a 4-byte big-endian length followed by that many bytes of the event "
    "in Confluent framing: magic byte 0, 4-byte big-endian schema id, Avro binary encoding of the "
    "record. Requires the header `Accord-Sent-At`."
)


@router.post(
    "/v1/events",
    summary="Send a batch of events",
    response_model=None,
    responses=batch_responses(
        api_models.BatchResult,
        "event",
        malformed="malformed body, empty batch, missing or invalid sent_at",
        forbidden="every event is for a subject the key may not send",
        unsupported="unsupported Content-Type or Content-Encoding",
    ),
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
async def post_events(request: Request, gateway: GatewayDep, keys: KeysDep) -> Response:
    """Validate each event against its registered schema and produce the valid ones to Kafka.

    The answer comes once Kafka acknowledged every accepted event (acks=all); rejected events
    are answered one by one and written to the dead-letter topic.
    """
    received_at_s = time.time()

    async def handle() -> Response:
        headers = request.headers
        kind = media_type(headers.get("content-type"))
        if kind not in (AVRO_BATCH, JSON, BEACON):
            raise UnsupportedMediaTypeError(
                ErrorCode.UNSUPPORTED_CONTENT_TYPE,
                f"Content-Type must be {AVRO_BATCH}, {JSON} or {BEACON} (JSON); got {kind or 'none'!r}",
            )
        credentials = request_credentials(request, kind)
        key = None if credentials is None else keys.authenticate(*credentials)
        if key is not None:
            admit_origin(request, key)
        body = await read_body(
            request.stream(),
            headers.get("content-length"),
            headers.get("content-encoding"),
            gateway.settings.max_body_bytes,
        )
        if kind == AVRO_BATCH:
            assert key is not None  # only beacon bodies carry their key
            sent = sent_at_ms(headers.get("accord-sent-at"), "header Accord-Sent-At")
            outcome = await gateway.ingest_avro(key, body, sent, received_at_s)
        else:
            document = parse_json(body)
            if not isinstance(document, dict):
                raise BadRequestError(
                    ErrorCode.INVALID_BATCH, "the body must be an object with 'sent_at' and 'events'"
                )
            if key is None:
                key = keys.authenticate(None, document.get("writeKey"))
                admit_origin(request, key)
            sent = sent_at_ms(document.get("sent_at"), "field sent_at")
            outcome = await gateway.ingest_json(key, document, received_at_s, sent)
        return json_response(outcome.status, outcome.answer())

    return await answered("events", gateway, handle, request)

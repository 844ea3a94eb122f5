"""The Segment-spec HTTP API: `POST /v1/batch`, `/v1/track`, `/v1/page`, `/v1/screen`, `/v1/identify`.

Each message is translated by the Segment mapping (`accord.gateway.segment`) into a native JSON
event and goes through the same path as `POST /v1/events`: validation against its contract,
per-event results (200/207/422), dead letters, deduplication by event id.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from accord.gateway import api_models
from accord.gateway.auth import WriteKey, WriteKeyStore
from accord.gateway.bodies import BEACON, media_type, parse_json, read_body, sent_at_ms
from accord.gateway.cors import admit_origin
from accord.gateway.errors import BadRequestError, UnsupportedMediaTypeError
from accord.gateway.ingest import Refused
from accord.gateway.rejections import EventInvalidError
from accord.gateway.routes.dependencies import GatewayDep, KeysDep
from accord.gateway.routes.responses import answered, batch_responses, json_response
from accord.gateway.segment import SegmentMapping, merged_context
from accord.wire.error_codes import ErrorCode, FailureType
from accord.wire.framing import JSON_MEDIA_TYPE as JSON

router = APIRouter(tags=["Segment spec"])

_RESPONSES = batch_responses(
    api_models.SegmentResult,
    "message",
    accepted=" (or dead-lettered)",
    malformed="malformed body, empty batch, invalid sentAt",
    forbidden="origin not allowed for the key, or no subject the key may send",
    unsupported="Content-Type is neither application/json nor text/plain",
)


def _body_doc(model: str) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model}"}
    return {
        "requestBody": {
            "required": True,
            "description": "JSON, as `application/json` or `text/plain` (navigator.sendBeacon); "
            "gzip allowed. The write key may be the body's `writeKey` when no Authorization header is sent.",
            "content": {JSON: {"schema": schema}, BEACON: {"schema": schema}},
        }
    }


@router.post(
    "/v1/batch",
    summary="Segment spec: a batch of calls",
    response_model=None,
    responses=_RESPONSES,
    openapi_extra=_body_doc("SegmentBatch"),
)
async def segment_batch(request: Request, gateway: GatewayDep, keys: KeysDep) -> Response:
    """Segment's batch endpoint: each message of `batch` (track, page, screen or identify) is one event.

    `messageId` becomes the event id (UUIDv5, so resends are duplicates), `timestamp` the event
    time, `sentAt` the client's clock at sending; results are per message, by index in `batch`.
    """
    return await _handle(request, gateway, keys, None)


def _single(call: str) -> Any:
    async def endpoint(request: Request, gateway: GatewayDep, keys: KeysDep) -> Response:
        return await _handle(request, gateway, keys, call)

    endpoint.__name__ = f"segment_{call}"
    endpoint.__doc__ = (
        f"Segment's `{call}` call: one message, mapped and validated like a message of `/v1/batch`."
    )
    return endpoint


for _call in ("track", "page", "screen", "identify"):
    router.post(
        f"/v1/{_call}",
        summary=f"Segment spec: {_call}",
        response_model=None,
        responses=_RESPONSES,
        openapi_extra=_body_doc("SegmentMessage"),
    )(_single(_call))


async def _handle(request: Request, gateway: GatewayDep, keys: WriteKeyStore, call: str | None) -> Response:
    received_at_s = time.time()

    async def handle() -> Response:
        headers = request.headers
        kind = media_type(headers.get("content-type"))
        if kind not in (JSON, BEACON):
            raise UnsupportedMediaTypeError(
                ErrorCode.UNSUPPORTED_CONTENT_TYPE,
                f"Content-Type must be {JSON} or {BEACON} (JSON); got {kind or 'none'!r}",
            )
        authorization, query_key = headers.get("authorization"), request.query_params.get("writeKey")
        key: WriteKey | None = None
        if authorization or query_key:
            key = keys.authenticate(authorization, query_key)
            admit_origin(request, key)
        body = await read_body(
            request.stream(),
            headers.get("content-length"),
            headers.get("content-encoding"),
            gateway.settings.max_body_bytes,
        )
        document = parse_json(body)
        if not isinstance(document, dict):
            raise BadRequestError(ErrorCode.INVALID_BATCH, "the body must be a JSON object")
        if key is None:
            key = keys.authenticate(None, document.get("writeKey"))
            admit_origin(request, key)
        messages = _messages(document, call)
        received_at_ms = int(received_at_s * 1000)
        first = messages[0] if messages and isinstance(messages[0], dict) else {}
        sent_value = document.get("sentAt") or first.get("sentAt")
        sent = received_at_ms if sent_value is None else sent_at_ms(sent_value, "field sentAt")
        mapping: SegmentMapping = request.app.state.segment
        quiet = gateway.settings.segment_unmapped == "deadletter"
        events = [_translated(mapping, message, call, received_at_ms, quiet) for message in messages]
        outcome = await gateway.ingest_json_events(key, events, received_at_s, sent, messages)
        return json_response(outcome.status, {**outcome.answer(), "deadlettered": outcome.deadlettered})

    return await answered("segment", gateway, handle, request)


def _messages(document: dict[str, Any], call: str | None) -> list[Any]:
    if call is not None:
        return [merged_context(None, {**document, "type": call})]
    batch = document.get("batch")
    if not isinstance(batch, list):
        raise BadRequestError(ErrorCode.INVALID_BATCH, "the body must be an object with a 'batch' array")
    context = document.get("context")
    return [merged_context(context, m) if isinstance(m, dict) else m for m in batch]


def _translated(
    mapping: SegmentMapping,
    message: object,
    call: str | None,
    received_at_ms: int,
    quiet: bool,
) -> object:
    """The native event of `message`, or its refusal (quiet for an unmapped one when so configured)."""
    if not isinstance(message, dict) or message.get("type", call) not in (
        "track",
        "page",
        "screen",
        "identify",
    ):
        error = EventInvalidError(
            FailureType.FORMAT_VIOLATION,
            ErrorCode.INVALID_SEGMENT_MESSAGE,
            "each message must be an object whose 'type' is track, page, screen or identify",
            "type",
        )
        return Refused(error, orjson.dumps(message))
    try:
        return mapping.translate(message, str(message.get("type", call)), received_at_ms)
    except EventInvalidError as error:
        unmapped = error.code is ErrorCode.UNMAPPED_SEGMENT_EVENT
        return Refused(error, orjson.dumps(message), answered=not (unmapped and quiet))

"""How the routes answer: JSON bodies, request-level errors, and the per-route request metrics."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request, Response
from pydantic import BaseModel

from accord.gateway import api_models
from accord.gateway.cors import expose
from accord.gateway.errors import RequestRejectedError
from accord.gateway.ingest import Gateway

log = logging.getLogger(__name__)

ERROR_DOC: dict[str, Any] = {"model": api_models.ErrorBody}
RETRY_AFTER_DOC = {
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}
}

WRITE_KEY_DOC = {**ERROR_DOC, "description": "missing or unknown write key"}


def batch_responses(
    result: type[BaseModel],
    item: str,
    *,
    malformed: str,
    forbidden: str,
    unsupported: str,
    accepted: str = "",
) -> dict[int | str, dict[str, Any]]:
    """The documented answers of a route that takes a batch of `item`s: per-item results or one error.

    `malformed`, `forbidden` and `unsupported` say what makes the route answer 400, 403 and 415;
    `accepted` completes the 200's "every <item> accepted".
    """
    return {
        200: {"model": result, "description": f"every {item} accepted{accepted}"},
        207: {"model": result, "description": f"some {item}s rejected; the others accepted"},
        422: {"model": result, "description": f"every {item} rejected"},
        400: {**ERROR_DOC, "description": malformed},
        401: WRITE_KEY_DOC,
        403: {**ERROR_DOC, "description": forbidden},
        413: {**ERROR_DOC, "description": "body or batch larger than the limits"},
        415: {**ERROR_DOC, "description": unsupported},
        429: {**ERROR_DOC, "description": "rate limit of the write key exceeded", "headers": RETRY_AFTER_DOC},
        503: {**ERROR_DOC, "description": "Kafka or the registry unavailable", "headers": RETRY_AFTER_DOC},
    }


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """`body` serialised by orjson (no response model on the hot path)."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def error_response(error: RequestRejectedError, default_retry_after_s: int) -> Response:
    """`{"error": {"code", "message"}}` with the error's status; 429 and 503 carry `Retry-After`."""
    headers = None
    if error.status in (429, 503):
        headers = {"Retry-After": str(error.retry_after_s or default_retry_after_s)}
    return json_response(error.status, {"error": {"code": error.code, "message": error.message}}, headers)


async def answered(
    route: str, gateway: Gateway, handle: Callable[[], Awaitable[Response]], request: Request | None = None
) -> Response:
    """The answer of `handle`, or of the request-level error it raised, counted under `route`.

    With `request`, the answer carries the CORS headers of the origin the request was admitted from.
    """
    gateway.metrics.in_flight.inc()
    try:
        response = await handle()
    except RequestRejectedError as error:
        response = error_response(error, gateway.settings.retry_after_s)
        if error.status >= 500:
            log.warning(
                "request refused", extra={"route": route, "code": error.code, "reason": error.message}
            )
    finally:
        gateway.metrics.in_flight.dec()
    gateway.metrics.requests.labels(route, str(response.status_code)).inc()
    return response if request is None else expose(request, response)

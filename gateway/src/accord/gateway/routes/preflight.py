"""`OPTIONS /v1/...`: CORS preflight requests of browser pages."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from accord.gateway.cors import preflight_allowed, preflight_headers
from accord.gateway.errors import RequestRejectedError
from accord.gateway.routes.dependencies import KeysDep
from accord.gateway.routes.responses import ERROR_DOC, error_response

router = APIRouter()


BROWSER_ROUTES = (
    "/v1/events",
    "/v1/batch",
    "/v1/track",
    "/v1/page",
    "/v1/screen",
    "/v1/identify",
    "/v1/schemas/resolve",
    "/v1/stats",
)
"""The routes a browser page may call; a preflight of any other path is answered 404."""


async def preflight(request: Request, keys: KeysDep) -> Response:
    """Allow a browser page to send when its origin is configured with a write key.

    With the query parameter `writeKey`, the origins of that key are used; without it, those
    of any key (each request is still checked against its own key's origins).
    """
    try:
        origin = preflight_allowed(request, keys)
    except RequestRejectedError as error:
        return error_response(error, 0)
    return Response(status_code=204, headers=preflight_headers(origin))


for _path in BROWSER_ROUTES:
    router.options(
        _path,
        summary="CORS preflight",
        status_code=204,
        response_class=Response,
        responses={
            204: {"description": "the origin may send: the Access-Control-Allow-* headers say how"},
            403: {
                **ERROR_DOC,
                "description": "origin_not_allowed: no write key (or not the `writeKey` named) allows it",
            },
        },
    )(preflight)

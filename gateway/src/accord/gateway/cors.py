"""CORS: browser pages send events only from the origins configured with their write key.

A browser sends `Origin` with every cross-origin request. A request whose key does not allow
that origin is refused (403 `origin_not_allowed`), not merely hidden from the page, so a write
key copied onto another site sends nothing. An allowed origin is echoed in
`Access-Control-Allow-Origin` on every answer of the request, errors included. A preflight
carries no credentials: it is answered for the key of the `writeKey` query parameter when there
is one, otherwise for an origin some key allows; the request itself is then checked against its
own key.
"""

from __future__ import annotations

from fastapi import Request, Response

from accord.gateway.auth import WriteKey, WriteKeyStore
from accord.gateway.errors import ForbiddenError
from accord.wire.error_codes import ErrorCode

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Content-Encoding, Accord-Sent-At"
EXPOSED_HEADERS = "Retry-After"
PREFLIGHT_MAX_AGE_S = 600

_STATE = "cors_origin"


def admit_origin(request: Request, key: WriteKey) -> None:
    """Refuse the request unless its `Origin` (when it has one) is allowed for `key`."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    if not key.allows_origin(origin):
        raise ForbiddenError(
            ErrorCode.ORIGIN_NOT_ALLOWED,
            f"write key {key.key_id!r} may not send from origin {origin[:200]!r}; "
            "add it to the key's 'origins'",
        )
    setattr(request.state, _STATE, origin)


def expose(request: Request, response: Response) -> Response:
    """`response` with the CORS headers of an origin `admit_origin` allowed for this request."""
    origin: str | None = getattr(request.state, _STATE, None)
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response.headers["Vary"] = "Origin"
    return response


def preflight_allowed(request: Request, keys: WriteKeyStore) -> str:
    """The origin of a preflight request that may go ahead, or `ForbiddenError`."""
    origin = request.headers.get("origin")
    if origin is None:
        raise ForbiddenError(ErrorCode.ORIGIN_NOT_ALLOWED, "a CORS preflight must carry an Origin header")
    named = keys.key_named(request.query_params.get("writeKey"))
    allowed = named.allows_origin(origin) if named is not None else keys.any_allows_origin(origin)
    if not allowed:
        raise ForbiddenError(
            ErrorCode.ORIGIN_NOT_ALLOWED, f"no write key may send from origin {origin[:200]!r}"
        )
    return origin


def preflight_headers(origin: str) -> dict[str, str]:
    """The headers of an allowed preflight's answer."""
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
        "Vary": "Origin",
    }

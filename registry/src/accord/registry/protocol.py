"""HTTP concerns in front of every route: readiness, Basic auth, content negotiation, forwarding.

A pure ASGI middleware (no per-request task or body copy) so that it costs little on the hot
`GET /schemas/ids/{id}` path.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import orjson

from accord.registry.kafka_log import Progress
from accord.registry.settings import RegistryUser

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

V1 = "application/vnd.schemaregistry.v1+json"
RESPONSE_TYPES = (V1, "application/vnd.schemaregistry+json", "application/json")
REQUEST_TYPES = (*RESPONSE_TYPES, "application/octet-stream")
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})
OPEN_PATHS = frozenset({"/_health", "/metrics"})


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header (None: nothing acceptable, answer 406)."""
    if not accept:
        return V1
    choices: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")):
        media, _, params = item.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media in RESPONSE_TYPES:
            choices.append((quality, -position, media))
        elif media in ("*", "*/*", "application/*") or (media.startswith("*/")):
            choices.append((quality, -position, V1))
    if not choices:
        return None
    return max(choices)[2]


def request_type_supported(content_type: str | None) -> bool:
    """True for the request media types Confluent's registry consumes (absent counts as JSON)."""
    if not content_type:
        return True
    return content_type.split(";")[0].strip().lower() in REQUEST_TYPES


def is_read(method: str, path: str) -> bool:
    """True for requests that only read: GETs, lookups and compatibility tests."""
    if method not in WRITE_METHODS:
        return True
    if method == "POST" and path.startswith("/compatibility/"):
        return True
    return method == "POST" and path.startswith("/subjects/") and not path.rstrip("/").endswith("/versions")


class RegistryProtocol:
    """The middleware; `progress` tells readiness, `users` enables auth, `writer_url` forwarding."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        progress: Callable[[], Progress],
        users: Mapping[str, RegistryUser],
        writer_url: str | None,
    ) -> None:
        self.app = app
        self.progress = progress
        self.users = dict(users)
        self.writer_url = writer_url.rstrip("/") if writer_url else None
        self._forwarder = httpx.AsyncClient(base_url=self.writer_url, timeout=60) if self.writer_url else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        method: str = scope["method"]
        if self.users:
            denied = self._authorise(headers.get("authorization"), method, path)
            if denied is not None:
                await denied(send)
                return
        media = negotiate(headers.get("accept"))
        if media is None:
            await _error(send, 406, 406, "HTTP 406 Not Acceptable", V1)
            return
        if method in ("POST", "PUT") and not request_type_supported(headers.get("content-type")):
            await _error(send, 415, 415, "HTTP 415 Unsupported Media Type", media)
            return
        progress = self.progress()
        if progress.failure is not None:
            message = f"Registry stopped reading its schemas topic: {progress.failure}"
            await _error(send, 503, 50001, message, media, retry_after=True)
            return
        if not progress.ready:
            message = f"Registry is reading its schemas topic: {progress.applied} of {progress.end} records"
            await _error(send, 503, 50002, message, media, retry_after=True)
            return
        if self._forwarder is not None and not is_read(method, path):
            await self._forward(scope, receive, send, headers, media)
            return

        async def typed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (name, media.encode()) if name == b"content-type" else (name, value)
                    for name, value in message.get("headers", [])
                ]
            await send(message)

        await self.app(scope, receive, typed_send)

    def _authorise(
        self, authorization: str | None, method: str, path: str
    ) -> Callable[[Send], Awaitable[None]] | None:
        user = self._user(authorization)
        if user is None:

            async def unauthorised(send: Send) -> None:
                await _error(send, 401, 401, "Unauthorized", V1, authenticate=True)

            return unauthorised
        name, entry = user
        if not entry.write and not is_read(method, path):

            async def forbidden(send: Send) -> None:
                await _error(send, 403, 40301, f"User '{name}' is not allowed to write to the registry", V1)

            return forbidden
        return None

    def _user(self, authorization: str | None) -> tuple[str, RegistryUser] | None:
        if not authorization or not authorization.lower().startswith("basic "):
            return None
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        name, _, password = decoded.partition(":")
        entry = self.users.get(name)
        if entry is None or not hmac.compare_digest(entry.password.encode(), password.encode()):
            return None
        return name, entry

    async def _forward(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], media: str
    ) -> None:
        assert self._forwarder is not None
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        passed = {k: v for k, v in headers.items() if k in ("authorization", "content-type", "accept")}
        query = scope.get("query_string", b"").decode()
        try:
            answer = await self._forwarder.request(
                scope["method"], scope["path"] + (f"?{query}" if query else ""), content=body, headers=passed
            )
        except httpx.HTTPError as exc:
            # the writer is down (or went down mid-request): nothing was answered, so the write
            # may or may not be in the topic; a retry once the writer is back gets the same id
            refusal = (
                f"Error while forwarding the request to the leader at {self.writer_url} "
                f"({type(exc).__name__}: {exc}); writes are refused until it is back, reads are served"
            )
            await _error(send, 503, 50003, refusal, media, retry_after=True)
            return
        relayed = [
            (b"content-type", media.encode()),
            (b"content-length", str(len(answer.content)).encode()),
        ]
        # a writer still reading its topic after a restart answers 503 with the wait a client must keep
        if (retry_after := answer.headers.get("retry-after")) is not None:
            relayed.append((b"retry-after", retry_after.encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": relayed})
        await send({"type": "http.response.body", "body": answer.content})

    async def aclose(self) -> None:
        """Close the forwarding client."""
        if self._forwarder is not None:
            await self._forwarder.aclose()


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}


async def _error(
    send: Send,
    status: int,
    code: int,
    message: str,
    media: str,
    *,
    retry_after: bool = False,
    authenticate: bool = False,
) -> None:
    body = orjson.dumps({"error_code": code, "message": message})
    headers = [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode())]
    if retry_after:
        headers.append((b"retry-after", b"1"))
    if authenticate:
        headers.append((b"www-authenticate", b'Basic realm="accord-registry"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

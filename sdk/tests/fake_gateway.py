"""An in-memory stand-in for the gateway's HTTP API, for unit tests through httpx.MockTransport."""

from __future__ import annotations

import gzip
import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from fastavro import parse_schema, schemaless_reader

from accord.wire.framing import split_batch, unframe

Behaviour = Callable[["Request"], httpx.Response | None]


@dataclass
class Request:
    """One POST /v1/events as the gateway saw it."""

    headers: httpx.Headers
    events: list[dict[str, Any]]
    schema_ids: list[int]
    json_body: dict[str, Any] | None = None


@dataclass
class FakeGateway:
    """Answers like the gateway: resolves schema ids, decodes batches, accepts everything.

    `behaviours` are consulted in turn for each events request; one may return a response (an
    outage, a rejection) instead of the default 200, or None to accept.
    """

    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    behaviours: list[Behaviour] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    resolves: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, subject: str, schema: dict[str, Any]) -> int:
        self.schemas[subject] = schema
        return self.schema_id(subject)

    def schema_id(self, subject: str) -> int:
        return 100 + sorted(self.schemas).index(subject)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def event_ids(self) -> list[str]:
        return [str(e["envelope"]["event_id"]) for r in self.requests for e in r.events]

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/schemas/resolve":
            asked = json.loads(request.content)
            self.resolves.append(asked["subject"])
            if asked["subject"] not in self.schemas:
                return httpx.Response(404, json={"error": {"code": "schema_not_registered", "message": "no"}})
            return httpx.Response(
                200, json={"subject": asked["subject"], "id": self.schema_id(asked["subject"])}
            )
        body = request.content
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        seen = self._decode(request.headers, body)
        with self.lock:
            behaviour = self.behaviours.pop(0) if self.behaviours else None
        answer = behaviour(seen) if behaviour is not None else None
        if answer is not None:
            return answer
        self.requests.append(seen)
        return httpx.Response(200, json={"accepted": len(seen.events), "duplicates": 0, "rejected": []})

    def _decode(self, headers: httpx.Headers, body: bytes) -> Request:
        if headers["content-type"] == "application/json":
            document = json.loads(body)
            return Request(headers, [e["payload"] for e in document["events"]], [], document)
        events, ids = [], []
        by_id = {self.schema_id(s): schema for s, schema in self.schemas.items()}
        framed_events, tail = split_batch(body)
        assert tail is None, "the body ends inside an event"
        for framed in framed_events:
            event = unframe(framed)
            ids.append(event.schema_id)
            events.append(
                cast(
                    "dict[str, Any]",
                    schemaless_reader(
                        io.BytesIO(event.avro_body), parse_schema(by_id[event.schema_id]), None
                    ),
                )
            )
        return Request(headers, events, ids)


def outage(status: int = 503, retry_after: str | None = None) -> Behaviour:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return lambda _request: httpx.Response(
        status, headers=headers, json={"error": {"code": "x", "message": "y"}}
    )


def network_error() -> Behaviour:
    def fail(request: Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    return fail

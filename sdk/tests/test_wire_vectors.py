"""What the SDK puts on the wire, against the shared wire vectors: batch bodies, media type, codes."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import httpx
import pytest

from accord.sdk import Client, ClientConfig, RejectedEvent
from accord.sdk.events import PageView
from accord.wire.error_codes import ErrorCode
from accord.wire.vectors import wire_vectors

pytestmark = pytest.mark.unit

VECTORS = wire_vectors()


class _Recorder:
    """A gateway that resolves every subject to `schema_id` and keeps each events request."""

    def __init__(self, schema_id: int, answer: dict[str, object] | None = None) -> None:
        self.schema_id = schema_id
        self.answer = answer
        self.bodies: list[bytes] = []
        self.content_types: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/schemas/resolve":
            subject = json.loads(request.content)["subject"]
            return httpx.Response(200, json={"subject": subject, "id": self.schema_id, "version": 1})
        body = request.content
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        self.bodies.append(body)
        self.content_types.append(request.headers["content-type"])
        return httpx.Response(200, json=self.answer or {"accepted": 1, "duplicates": 0, "rejected": []})


def _config() -> ClientConfig:
    return ClientConfig(linger_s=0.01, backoff_base_s=0.01, backoff_max_s=0.05)


FRAMED = {case["framed_hex"]: case for case in VECTORS["framing"]["framed"]}
SINGLE_EVENT_BATCHES = [b for b in VECTORS["batches"] if len(b["events_hex"]) == 1]


@pytest.mark.parametrize("batch", SINGLE_EVENT_BATCHES, ids=lambda b: b["body_hex"])
def test_an_encoded_event_is_sent_as_the_vectors_frame_it(batch: dict[str, Any]) -> None:
    case = FRAMED[batch["events_hex"][0]]
    gateway = _Recorder(case["schema_id"])
    transport = httpx.MockTransport(gateway.handle)
    with Client("http://gateway.test", "key", _config(), http_transport=transport) as client:
        client.track_encoded(PageView, bytes.fromhex(case["avro_hex"]), str(uuid.uuid4()))
    assert [body.hex() for body in gateway.bodies] == [batch["body_hex"]]
    assert gateway.content_types == [VECTORS["media_types"]["avro_batch"]]


@pytest.mark.parametrize("code", list(ErrorCode), ids=str)
def test_a_rejection_carries_the_gateways_code_as_an_error_code(code: ErrorCode) -> None:
    event_id = str(uuid.uuid4())
    answer = {
        "accepted": 0,
        "duplicates": 0,
        "rejected": [{"index": 0, "event_id": event_id, "code": code.value, "field": None, "message": "m"}],
    }
    gateway = _Recorder(1, answer)
    rejected: list[RejectedEvent] = []
    with Client(
        "http://gateway.test",
        "key",
        _config(),
        http_transport=httpx.MockTransport(gateway.handle),
        on_rejected=rejected.append,
    ) as client:
        client.track_encoded(PageView, b"\x02", event_id)
    assert [r.error_code for r in rejected] == [code]


def test_a_code_the_gateway_does_not_send_is_no_error_code() -> None:
    assert RejectedEvent("e", "s", "http_418", None, "teapot").error_code is None

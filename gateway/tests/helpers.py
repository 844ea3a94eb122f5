"""What the gateway's integration tests share: registering schemas, encoding, reading Kafka back."""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastavro
import httpx

from accord.gateway.testing import GatewayHandle, now_rfc3339
from accord.runtime.waiting import wait_until
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE as AVRO_BATCH
from accord.wire.framing import batch_body, frame

from .schemas import click, click_schema


@dataclass(frozen=True)
class Registered:
    """A schema registered for a test: subject, id, version and its parsed form."""

    subject: str
    schema_id: int
    version: int
    schema: dict[str, Any]
    parsed: Any

    def framed(self, record: dict[str, Any]) -> bytes:
        """`record` in Confluent framing under this schema's id."""
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, self.parsed, record)
        return frame(self.schema_id, buffer.getvalue())

    def decode(self, value: bytes) -> dict[str, Any]:
        """The record of a framed value."""
        record = fastavro.schemaless_reader(io.BytesIO(value[5:]), self.parsed, None)
        assert isinstance(record, dict)
        return record


def register(registry_url: str, schema: dict[str, Any], subject: str | None = None) -> Registered:
    """Register `schema` under `subject` (default `events-<full name>`) through the registry's HTTP API."""
    subject = subject or f"events-{schema['namespace']}.{schema['name']}"
    response = httpx.post(
        f"{registry_url}/subjects/{subject}/versions", json={"schema": json.dumps(schema)}, timeout=30
    )
    response.raise_for_status()
    schema_id = response.json()["id"]
    version = httpx.get(f"{registry_url}/subjects/{subject}/versions/latest", timeout=10).json()["version"]
    return Registered(subject, schema_id, version, schema, fastavro.parse_schema(schema))


def register_click(registry_url: str) -> Registered:
    """A Click schema in a namespace of its own, registered as `events-<namespace>.Click`."""
    return register(registry_url, click_schema(f"test.gw{uuid.uuid4().hex[:10]}"))


def post_avro(
    url: str,
    key: str,
    framed_events: list[bytes],
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST an Avro batch of `framed_events` (or the raw `body`) to the gateway."""
    return httpx.post(
        f"{url}/v1/events",
        content=batch_body(framed_events) if body is None else body,
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": AVRO_BATCH,
            "Accord-Sent-At": now_rfc3339(),
            **(headers or {}),
        },
        timeout=30,
    )


def post_raw(handle: GatewayHandle, content: bytes, **headers: str) -> httpx.Response:
    """POST `content` as it is to the gateway's `/v1/events`, with the handle's key and `headers`."""
    return httpx.post(
        f"{handle.url}/v1/events",
        content=content,
        headers={"Authorization": f"Bearer {handle.write_key}", **headers},
        timeout=60,
    )


CONTRACTS = Path(__file__).resolve().parents[2] / "schemas" / "avro"
SEGMENT_MAPPING = Path(__file__).resolve().parents[2] / "schemas" / "segment.json"


def _inlined(node: Any, defined: set[str]) -> Any:
    """`node` with each `accord.common.*` reference replaced by its definition (once, then by name)."""
    if isinstance(node, str) and node.startswith("accord.common.") and node not in defined:
        defined.add(node)
        return _inlined(json.loads((CONTRACTS / (node.replace(".", "/") + ".avsc")).read_text()), defined)
    if isinstance(node, dict):
        return {k: _inlined(v, defined) for k, v in node.items()}
    if isinstance(node, list):
        return [_inlined(v, defined) for v in node]
    return node


def register_contract(registry_url: str, name: str) -> Registered:
    """The platform's contract `accord.events.<name>`, registered as `accord schemas register` does.

    The contracts are registered with their shared types referenced, the one form the session's
    registry holds them in (other tests register them so too); the schema kept for decoding is
    the same contract with the references inlined.
    """
    from accord.streaming.testing import register_event_schemas

    subject = f"events-accord.events.{name}"
    schema_id = register_event_schemas(registry_url, CONTRACTS)[subject]
    schema = _inlined(json.loads((CONTRACTS / "accord" / "events" / f"{name}.avsc").read_text()), set())
    version = httpx.get(f"{registry_url}/subjects/{subject}/versions/latest", timeout=10).json()["version"]
    return Registered(subject, schema_id, version, schema, fastavro.parse_schema(schema))


def register_page_view_copy(registry_url: str) -> Registered:
    """The PageView contract in a namespace of its own: a schema new to the gateway that Silver decodes."""
    schema = _inlined(json.loads((CONTRACTS / "accord" / "events" / "PageView.avsc").read_text()), set())
    return register(registry_url, {**schema, "namespace": f"test.gw{uuid.uuid4().hex[:10]}"})


@dataclass
class Sender:
    """Sends batches of `batch` events (`record`, Click by default) in a loop; remembers each answer."""

    url: str
    key: str
    encode: Callable[[dict[str, object]], bytes]
    batch: int = 10
    record: Callable[..., dict[str, Any]] = click
    answers: list[tuple[int, list[str], str | None]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stopping.is_set():
                records = [self.record(user_id=f"u{i}") for i in range(self.batch)]
                response = client.post(
                    f"{self.url}/v1/events",
                    content=batch_body([self.encode(r) for r in records]),
                    headers={
                        "Authorization": f"Bearer {self.key}",
                        "Content-Type": AVRO_BATCH,
                        "Accord-Sent-At": now_rfc3339(),
                    },
                )
                ids = [str(r["envelope"]["event_id"]) for r in records]
                self.answers.append((response.status_code, ids, response.headers.get("Retry-After")))
                time.sleep(0.05)  # a steady client, not a flood: the outage must fall between requests

    def count(self, status: int) -> int:
        return sum(1 for answer in self.answers if answer[0] == status)

    def wait_for(self, status: int, more: int, timeout_s: float = 60) -> None:
        target = self.count(status) + more
        wait_until(
            lambda: self.count(status),
            until=lambda count: count >= target,
            timeout_s=timeout_s,
            interval_s=0.1,
            describe=f"{more} more answers {status}",
        )

    def acknowledged(self) -> set[str]:
        """The event ids of every request answered 200."""
        return {event_id for status, ids, _ in self.answers if status == 200 for event_id in ids}

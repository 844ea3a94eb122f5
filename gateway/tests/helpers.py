"""What the gateway's integration tests share: registering schemas, encoding, reading Kafka back."""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import fastavro
import httpx
from confluent_kafka import Consumer, TopicPartition

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


def now_rfc3339() -> str:
    """The current time as the SDK sends it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


def post_json(url: str, key: str, events: list[Any]) -> httpx.Response:
    """POST a JSON batch of `events` (each `{"schema", "payload", ["version"]}`) to the gateway."""
    return httpx.post(
        f"{url}/v1/events",
        json={"sent_at": now_rfc3339(), "events": events},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )


@dataclass(frozen=True)
class KafkaRecord:
    """A record read back from Kafka."""

    key: bytes | None
    value: bytes
    headers: dict[str, str]


class TopicReader:
    """Reads what was produced to a topic after this reader was created (or all of it: `from_start`)."""

    def __init__(self, bootstrap: str, topic: str, *, from_start: bool = False) -> None:
        self.topic = topic
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"gw-test-{uuid.uuid4()}",
                "enable.auto.commit": False,
            }
        )
        partitions = self._consumer.list_topics(topic, timeout=10).topics[topic].partitions
        self._start = []
        for partition in partitions:
            low, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            self._start.append(TopicPartition(topic, partition, low if from_start else high))

    def read(self, expected: int, timeout_s: float = 15.0) -> list[KafkaRecord]:
        """Everything produced since the reader was created, waiting for at least `expected` records."""
        self._consumer.assign(self._start)
        records: list[KafkaRecord] = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = self._consumer.poll(0.2)
            if message is None:
                if len(records) >= expected:
                    break
                continue
            if message.error():
                continue
            raw_headers: list[tuple[str, bytes]] = message.headers() or []  # type: ignore[assignment]
            headers = {name: value.decode() for name, value in raw_headers}
            records.append(KafkaRecord(message.key(), message.value() or b"", headers))
        return records

    def __enter__(self) -> TopicReader:
        return self

    def __exit__(self, *_: object) -> None:
        self._consumer.close()


@dataclass
class Sender:
    """Sends batches of `batch` Click events in a loop and remembers how each request was answered."""

    url: str
    key: str
    encode: Callable[[dict[str, object]], bytes]
    batch: int = 10
    answers: list[tuple[int, list[str], str | None]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stopping.is_set():
                records = [click(user_id=f"u{i}") for i in range(self.batch)]
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
                time.sleep(0.05)

    def count(self, status: int) -> int:
        return sum(1 for answer in self.answers if answer[0] == status)

    def wait_for(self, status: int, more: int, timeout_s: float = 60) -> None:
        target = self.count(status) + more
        deadline = time.monotonic() + timeout_s
        while self.count(status) < target:
            assert time.monotonic() < deadline, f"no {more} more answers {status}: {self.answers[-3:]}"
            time.sleep(0.1)

    def acknowledged(self) -> set[str]:
        """The event ids of every request answered 200."""
        return {event_id for status, ids, _ in self.answers if status == 200 for event_id in ids}

"""Reading back, from the real `events` topic, what the SDK sent through the real gateway."""

from __future__ import annotations

import io
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, cast

from confluent_kafka import Consumer
from fastavro import parse_schema, schemaless_reader

from accord.registry_client import RegistryClient
from accord.schemas.catalog import load_catalog
from accord.schemas.register import register_catalog
from accord.schemas.settings import SchemasSettings
from accord.wire.framing import unframe
from accord.wire.headers import EVENT_ID


@dataclass(frozen=True)
class Delivered:
    """One record of the `events` topic."""

    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def schema_id(self) -> int:
        return unframe(self.value).schema_id

    def decode(self, schema: dict[str, Any]) -> dict[str, Any]:
        body = unframe(self.value).avro_body
        return cast("dict[str, Any]", schemaless_reader(io.BytesIO(body), parse_schema(schema), None))


def register_event_schemas(registry_url: str) -> dict[str, int]:
    """Register the contracts the way `accord schemas register` does (shared types referenced)."""
    settings = SchemasSettings()
    catalog = load_catalog(settings.schemas_dir, settings.events_topic)
    return {r.subject: r.schema_id for r in register_catalog(catalog, RegistryClient(registry_url))}


def read_events(bootstrap: str, event_ids: set[str], timeout_s: float = 60.0) -> dict[str, list[Delivered]]:
    """Every record of `events` whose `accord.event_id` header is in `event_ids`, by id.

    Reads until all ids were seen and the topic has nothing more to give (so duplicates would
    show), or until `timeout_s`.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"sdk-test-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(["events"])
    found: dict[str, list[Delivered]] = defaultdict(list)
    deadline = time.monotonic() + timeout_s
    idle = 0
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                idle += 1
                if idle >= 4 and event_ids <= found.keys():
                    break
                continue
            if message.error():
                continue
            idle = 0
            raw_headers = cast("list[tuple[str, bytes | None]]", message.headers() or [])
            headers = {name: _text(value) for name, value in raw_headers}
            event_id = headers.get(EVENT_ID)
            if event_id in event_ids:
                found[event_id].append(Delivered(message.key(), message.value() or b"", headers))
    finally:
        consumer.close()
    return dict(found)


def _text(value: bytes | None) -> str:
    return value.decode() if value is not None else ""

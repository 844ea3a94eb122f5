"""Avro schemas the gateway tests register: an envelope-carrying event, in a test namespace per run."""

from __future__ import annotations

import time
import uuid
from typing import Any


def envelope_schema() -> dict[str, Any]:
    """A self-contained envelope like the platform's `accord.common.Envelope` (fields the gateway reads)."""
    return {
        "type": "record",
        "name": "Envelope",
        "namespace": "accord.common",
        "fields": [
            {"name": "event_id", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "user_id", "type": ["null", "string"], "default": None},
            {"name": "anonymous_id", "type": ["null", "string"], "default": None},
            {"name": "session_id", "type": ["null", "string"], "default": None},
        ],
    }


def click_schema(namespace: str) -> dict[str, Any]:
    """A small event record `<namespace>.Click` with an envelope, a long, an enum and an optional field."""
    return {
        "type": "record",
        "name": "Click",
        "namespace": namespace,
        "fields": [
            {"name": "envelope", "type": envelope_schema()},
            {"name": "button", "type": "string"},
            {"name": "count", "type": "long"},
            {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["PRIMARY", "SECONDARY"]}},
            {"name": "label", "type": ["null", "string"], "default": None},
        ],
    }


def click(user_id: str | None = "user-1", **fields: Any) -> dict[str, Any]:
    """A valid Click record (new event_id, happened now); `fields` override the defaults."""
    record: dict[str, Any] = {
        "envelope": {
            "event_id": str(uuid.uuid4()),
            "event_time": int(time.time() * 1000),
            "user_id": user_id,
            "anonymous_id": None if user_id else "anon-1",
            "session_id": None,
        },
        "button": "buy",
        "count": 3,
        "kind": "PRIMARY",
        "label": None,
    }
    record.update(fields)
    return record


def order_schema(namespace: str) -> dict[str, Any]:
    """An event record `<namespace>.Order` with an envelope and a `decimal(12, 2)` amount."""
    return {
        "type": "record",
        "name": "Order",
        "namespace": namespace,
        "fields": [
            {"name": "envelope", "type": envelope_schema()},
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2},
            },
        ],
    }


def page_view(user_id: str | None = "user-1") -> dict[str, Any]:
    """A valid record of the platform's `accord.events.PageView` contract (new event_id, happened now)."""
    return {
        "envelope": {
            "event_id": str(uuid.uuid4()),
            "event_time": int(time.time() * 1000),
            "user_id": user_id,
            "anonymous_id": None if user_id else "anon-1",
            "session_id": None,
            "context": {"app_name": "drills", "platform": "SERVER"},
        },
        "url": "https://drill.example/",
    }

"""Turning a typed event into the bytes (or JSON) the gateway reads, once per event class.

Everything that depends only on the class (parsed schema, compiled checks) is built on first
use and cached, so `encode` does no per-call schema work.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from fastavro import parse_schema, schemaless_writer

from accord.sdk.errors import InvalidEventError, NotAnEventError
from accord.sdk.validation import Check, FieldProblemError, compile_diagnosis, compile_guard


@dataclass(frozen=True)
class EventCodec:
    """Encoding of one event class: its subject, schema and checks."""

    subject: str
    event_type: str
    schema: dict[str, Any]
    parsed: Any
    guard: Check | None
    diagnosis: Check

    def check(self, record: dict[str, Any]) -> None:
        """Run the full validation; `InvalidEventError` naming the field if `record` is wrong."""
        try:
            self.diagnosis(record)
        except FieldProblemError as problem:
            raise problem.to_error(self.event_type) from None

    def encode(self, record: dict[str, Any]) -> bytes:
        """The Avro binary body of `record`; `InvalidEventError` naming the field if it is wrong."""
        try:
            if self.guard is not None:
                self.guard(record)
            buffer = io.BytesIO()
            schemaless_writer(buffer, self.parsed, record)
        except FieldProblemError as problem:
            raise problem.to_error(self.event_type) from None
        except (TypeError, ValueError, AttributeError, OverflowError, KeyError) as exc:
            self.check(record)
            # The diagnosis found nothing: report fastavro's own words rather than lose them.
            raise InvalidEventError(self.event_type, "", f"cannot be encoded: {exc}") from exc
        return buffer.getvalue()

    def to_json(self, record: dict[str, Any]) -> str:
        """The event as the JSON payload the gateway reads, after the full validation.

        Unions are written as their plain value, timestamps as epoch milliseconds, enums as
        their symbol (the gateway's JSON form); decimals as strings, bytes as latin-1 text.
        """
        self.check(record)
        return json.dumps(record, default=_json_value, separators=(",", ":"))


_EPOCH = datetime(1970, 1, 1).date()


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return (value - _EPOCH).days
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes | bytearray):
        return value.decode("latin-1")
    raise TypeError(f"{type(value).__name__} has no JSON form")


_codecs: dict[type, EventCodec] = {}
_codecs_lock = threading.Lock()


def codec_for(event: object) -> EventCodec:
    """The codec of `event`'s class, built on first use; `NotAnEventError` for other objects."""
    codec = _codecs.get(type(event))
    if codec is not None:
        return codec
    if not is_event_class(type(event)):
        raise NotAnEventError(event)
    return codec_for_class(type(event))


def is_event_class(cls: type) -> bool:
    """True for classes that follow the generated event classes' protocol."""
    return all(hasattr(cls, name) for name in ("SUBJECT", "AVRO_SCHEMA", "to_avro"))


def codec_for_class(cls: type) -> EventCodec:
    """The codec of an event class (see `is_event_class`), built on first use."""
    codec = _codecs.get(cls)
    if codec is not None:
        return codec
    with _codecs_lock:
        codec = _codecs.get(cls)
        if codec is None:
            codec = _build(cls)
            _codecs[cls] = codec
    return codec


def _build(cls: type) -> EventCodec:
    schema: dict[str, Any] = getattr(cls, "AVRO_SCHEMA")  # noqa: B009 - checked by codec_for, not typed
    parsed = parse_schema(schema)
    return EventCodec(
        subject=getattr(cls, "SUBJECT"),  # noqa: B009
        event_type=cls.__name__,
        schema=schema,
        parsed=parsed,
        guard=compile_guard(schema),
        diagnosis=compile_diagnosis(schema),
    )


FRAME_HEADER_BYTES = 5
"""Magic byte and schema id in front of each event's Avro body."""


def frame(schema_id: int, body: bytes) -> bytes:
    """`body` in Confluent framing: magic byte 0, 4-byte big-endian schema id, Avro binary."""
    return b"\x00" + schema_id.to_bytes(4, "big") + body


def length_prefixed(framed: list[bytes]) -> bytes:
    """An Avro batch body: each framed event preceded by its 4-byte big-endian length."""
    return b"".join(len(event).to_bytes(4, "big") + event for event in framed)

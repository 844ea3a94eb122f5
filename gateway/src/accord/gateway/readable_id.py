"""The event id of a refused event, read from its original as far as the original decodes.

A dead-letter record that keeps the id lets `accord trace ID` say where the event went. An Avro
event is decoded with its writer schema cut right after `envelope.event_id`: the fields before
it are read, nothing after, so a body that is truncated or corrupt further on still yields it.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

import fastavro

from accord.gateway.catalog import without_logical_types
from accord.wire.framing import FRAME_HEADER_BYTES

ENVELOPE_FIELD = "envelope"
EVENT_ID_FIELD = "event_id"

# schema id -> the parsed schema that stops after envelope.event_id (None: the schema has none);
# registered ids never change their schema, and a gateway knows few of them
_prefix_readers: dict[int, Any] = {}


def _through_event_id(schema: Any) -> dict[str, Any] | None:
    """`schema` with the fields after `envelope.event_id` left out, or None when it has no such field."""
    fields = schema.get("fields") if isinstance(schema, dict) else None
    if not isinstance(fields, list):
        return None
    for index, field in enumerate(fields):
        if not isinstance(field, dict) or field.get("name") != ENVELOPE_FIELD:
            continue
        envelope = field.get("type")
        envelope_fields = envelope.get("fields") if isinstance(envelope, dict) else None
        if not isinstance(envelope, dict) or not isinstance(envelope_fields, list):
            return None
        names = [f.get("name") if isinstance(f, dict) else None for f in envelope_fields]
        if EVENT_ID_FIELD not in names:
            return None
        cut = {**envelope, "fields": envelope_fields[: names.index(EVENT_ID_FIELD) + 1]}
        return {**schema, "fields": [*fields[:index], {**field, "type": cut}]}
    return None


def _prefix_reader(schema_id: int, schema: dict[str, Any]) -> Any:
    if schema_id not in _prefix_readers:
        prefix = _through_event_id(without_logical_types(schema))
        _prefix_readers[schema_id] = None if prefix is None else fastavro.parse_schema(prefix)
    return _prefix_readers[schema_id]


def avro_event_id(framed: bytes, schema_id: int, schema: dict[str, Any]) -> str | None:
    """`envelope.event_id` of a framed Avro event written with `schema`, None when it does not decode."""
    reader = _prefix_reader(schema_id, schema)
    if reader is None:
        return None
    body = BytesIO(framed)
    body.seek(FRAME_HEADER_BYTES)
    try:
        record = fastavro.schemaless_reader(body, reader, None)
    except (EOFError, ValueError, TypeError, IndexError, UnicodeDecodeError, OverflowError):
        return None
    return _event_id_of(record)


def _event_id_of(record: object) -> str | None:
    envelope = record.get(ENVELOPE_FIELD) if isinstance(record, dict) else None
    event_id = envelope.get(EVENT_ID_FIELD) if isinstance(envelope, dict) else None
    return event_id if isinstance(event_id, str) else None


def json_event_id(item: object) -> str | None:
    """`payload.envelope.event_id` of a JSON batch item, None when it has no such string."""
    return _event_id_of(item.get("payload") if isinstance(item, dict) else None)

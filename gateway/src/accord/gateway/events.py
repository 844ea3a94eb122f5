"""Turning one event into the bytes produced to Kafka, or into the reason it is refused.

Avro events are validated by decoding them with their writer schema and forwarded unchanged;
JSON events are validated by encoding them with fastavro (strict: no unknown fields, no missing
field without default) and framed. Both then keep the shared event rules (`accord.wire.rules`:
canonical event id, an identity, an event time Silver accepts). Only when a check fails does
`explain_invalid` walk the payload to name the field and rule at fault, so valid events pay for
nothing but fastavro and the rules. Last come the schema's data-contract rules (CEL conditions
of its `ruleSet`), only for schemas that have some, on the record as fastavro reads it back
with logical types, the form a Confluent deserializer gives its rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any

import fastavro
from fastavro.validation import validate

from accord.gateway.catalog import WriterSchema
from accord.gateway.json_decimals import DecimalOutOfRangeError, field_path, with_decimals
from accord.gateway.json_times import InvalidTimestampError, with_times
from accord.gateway.rejections import EventInvalidError
from accord.wire.error_codes import ErrorCode, FailureType
from accord.wire.framing import FRAME_HEADER_BYTES, frame
from accord.wire.rules import DEFAULT_HORIZON, DEFAULT_SKEW, event_time_rules, identity_rule, uuid_rule


@dataclass(frozen=True, slots=True)
class ValidEvent:
    """An event ready to produce: its framed bytes, Kafka key and event id."""

    value: bytes
    key: bytes | None
    event_id: str


@dataclass(frozen=True, slots=True)
class EventClock:
    """What the time rules judge an event by: its request's reception and sending, and the limits."""

    received_at_ms: int
    sent_at_ms: int
    horizon: timedelta = DEFAULT_HORIZON
    skew: timedelta = DEFAULT_SKEW


def _schema_error(
    code: ErrorCode, message: str, field: str | None = None, event_id: str | None = None
) -> EventInvalidError:
    return EventInvalidError(FailureType.SCHEMA_VIOLATION, code, message, field, event_id=event_id)


def envelope_facts(record: dict[str, Any], clock: EventClock) -> tuple[str, bytes | None]:
    """The event id and user key held by the record's envelope, once it keeps the event rules.

    The rules are checked in Silver's order: event id, identity, event time.
    """
    envelope = record.get("envelope")
    if not isinstance(envelope, dict) or envelope.get("event_id") is None:
        raise _schema_error(
            ErrorCode.MISSING_EVENT_ID, "every event needs envelope.event_id", "envelope.event_id"
        )
    event_id = envelope["event_id"]
    if not isinstance(event_id, str):
        raise _schema_error(
            ErrorCode.INVALID_UUID, f"envelope.event_id must be a UUID; got {event_id!r}", "envelope.event_id"
        )
    user_id, anonymous_id = _text(envelope.get("user_id")), _text(envelope.get("anonymous_id"))
    event_time = envelope.get("event_time")
    violation = (
        uuid_rule(event_id)
        or identity_rule(user_id, anonymous_id)
        or (
            event_time_rules(
                event_time, clock.sent_at_ms, clock.received_at_ms, horizon=clock.horizon, skew=clock.skew
            )
            if isinstance(event_time, int)
            else None
        )
    )
    if violation is not None:
        raise EventInvalidError.breaking(violation, event_id)
    user = user_id or anonymous_id
    return event_id, user.encode() if user else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def decode_avro_event(framed: bytes, writer: WriterSchema, clock: EventClock) -> ValidEvent:
    """Check that `framed` decodes completely with its writer schema; the bytes are kept as sent."""
    body = BytesIO(framed)
    body.seek(FRAME_HEADER_BYTES)
    try:
        record = fastavro.schemaless_reader(body, writer.checker, None)
    except (EOFError, ValueError, TypeError, IndexError, UnicodeDecodeError, OverflowError) as exc:
        raise _schema_error(
            ErrorCode.UNDECODABLE_AVRO,
            f"the Avro body does not decode with schema id {writer.schema_id}: {exc or type(exc).__name__}",
        ) from exc
    if body.tell() != len(framed):
        raise _schema_error(
            ErrorCode.TRAILING_BYTES,
            f"{len(framed) - body.tell()} bytes remain after decoding with schema id {writer.schema_id}",
        )
    if not isinstance(record, dict):
        raise _schema_error(ErrorCode.NOT_A_RECORD, "an event's schema must be an Avro record")
    event_id, key = envelope_facts(record, clock)
    if writer.rules is not None:
        keep_contract_rules(framed, writer, event_id)
    return ValidEvent(framed, key, event_id)


def keep_contract_rules(framed: bytes, writer: WriterSchema, event_id: str) -> None:
    """Refuse the event when it breaks one of its schema's data-contract rules."""
    assert writer.rules is not None, "called for schemas with rules only"
    body = BytesIO(framed)
    body.seek(FRAME_HEADER_BYTES)
    violation = writer.rules.first_violation(fastavro.schemaless_reader(body, writer.parsed, None))
    if violation is not None:
        raise EventInvalidError(
            FailureType.SCHEMA_VIOLATION,
            ErrorCode.CONTRACT_RULE_VIOLATION,
            violation.message,
            violation.field,
            event_id=event_id,
            rule=violation.rule,
        )


def encode_json_event(payload: Any, writer: WriterSchema, clock: EventClock) -> ValidEvent:
    """Validate a JSON payload against the writer schema and encode it in Confluent framing."""
    if not isinstance(payload, dict):
        raise _schema_error(ErrorCode.WRONG_TYPE, "the payload must be a JSON object", "payload")
    envelope = payload.get("envelope")
    event_id = envelope.get("event_id") if isinstance(envelope, dict) else None
    if not isinstance(event_id, str):
        event_id = None
    if writer.has_decimals:
        try:
            payload = with_decimals(payload, writer.parsed, writer.parsed["__named_schemas"])
        except DecimalOutOfRangeError as exc:
            raise EventInvalidError.breaking(exc.violation, event_id) from exc
    buffer = BytesIO()
    try:
        if not validate(payload, writer.parsed, raise_errors=False, strict=True):
            payload = _with_times(payload, writer, event_id)
            if not validate(payload, writer.parsed, raise_errors=False, strict=True):
                raise ValueError("invalid")
        fastavro.schemaless_writer(buffer, writer.parsed, payload, strict_allow_default=True)
    except (ValueError, TypeError, OverflowError, KeyError) as exc:
        field, rule, message = explain_invalid(payload, writer.parsed, writer.parsed["__named_schemas"])
        raise _schema_error(rule, message, field, event_id) from exc
    record_id, key = envelope_facts(payload, clock)
    framed = frame(writer.schema_id, buffer.getvalue())
    if writer.rules is not None:
        keep_contract_rules(framed, writer, record_id)
    return ValidEvent(framed, key, record_id)


def _with_times(payload: Any, writer: WriterSchema, event_id: str | None) -> Any:
    """The payload with its RFC 3339 times made integers, or a refusal naming the time at fault."""
    try:
        return with_times(payload, writer.parsed, writer.parsed["__named_schemas"])
    except InvalidTimestampError as exc:
        raise _schema_error(ErrorCode.INVALID_TIMESTAMP, str(exc), exc.field, event_id) from exc


_PRIMITIVE_CHECKS: dict[str, Any] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool) and -(2**31) <= v < 2**31,
    "long": lambda v: isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63,
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "bytes": lambda v: isinstance(v, bytes | bytearray),
}

_JSON_TYPE_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
}


def _json_type(value: Any) -> str:
    return "null" if value is None else _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _type_name(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return " or ".join(_type_name(branch) for branch in schema)
    name = schema.get("name")
    return f"{schema['type']} {name}" if name else str(schema["type"])


def explain_invalid(
    value: Any, schema: Any, named: dict[str, Any], path: str = ""
) -> tuple[str | None, ErrorCode, str]:
    """The first (field path, rule, message) at which `value` breaks `schema`.

    fastavro's own errors name the record type rather than the path from the payload's root,
    so this walk runs on the failure path to give the client a field it can find.
    """
    problem = _first_problem(value, schema, named, path)
    if problem is None:
        return None, ErrorCode.INVALID_VALUE, "the payload does not encode with the registered schema"
    return problem


def _first_problem(
    value: Any, schema: Any, named: dict[str, Any], path: str
) -> tuple[str | None, ErrorCode, str] | None:
    where = path or None
    if isinstance(schema, str) and schema in named:
        schema = named[schema]
    if isinstance(schema, list):
        if any(_first_problem(value, branch, named, path) is None for branch in schema):
            return None
        return (
            where,
            ErrorCode.WRONG_TYPE,
            f"{path or 'payload'} is {_json_type(value)}; expected {_type_name(schema)}",
        )
    kind = schema if isinstance(schema, str) else schema["type"]
    if isinstance(schema, dict) and schema.get("logicalType") == "decimal":
        if isinstance(value, Decimal):
            return None
        return where, ErrorCode.INVALID_DECIMAL, f'{path} must be a decimal number as a string, e.g. "12.50"'
    if kind == "record":
        if not isinstance(value, dict):
            return (
                where,
                ErrorCode.WRONG_TYPE,
                f"{path or 'payload'} is {_json_type(value)}; expected an object",
            )
        names = {f["name"] for f in schema["fields"]}
        for extra in sorted(set(value) - names):
            return (
                field_path(path, extra),
                ErrorCode.UNKNOWN_FIELD,
                f"{field_path(path, extra)} is not a field of {schema['name']}",
            )
        for field_ in schema["fields"]:
            inner = field_path(path, field_["name"])
            if field_["name"] not in value:
                if "default" in field_:
                    continue
                return inner, ErrorCode.MISSING_FIELD, f"{inner} is required"
            problem = _first_problem(value[field_["name"]], field_["type"], named, inner)
            if problem is not None:
                return problem
        return None
    if kind == "enum":
        if value in schema["symbols"]:
            return None
        return (
            where,
            ErrorCode.NOT_IN_ENUM,
            f"{path} must be one of {', '.join(schema['symbols'])}; got {value!r}",
        )
    if kind == "array":
        if not isinstance(value, list):
            return where, ErrorCode.WRONG_TYPE, f"{path} is {_json_type(value)}; expected an array"
        for index, item in enumerate(value):
            problem = _first_problem(item, schema["items"], named, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return where, ErrorCode.WRONG_TYPE, f"{path} is {_json_type(value)}; expected an object"
        for map_key, item in value.items():
            problem = _first_problem(item, schema["values"], named, field_path(path, map_key))
            if problem is not None:
                return problem
        return None
    if kind == "fixed":
        size = schema["size"]
        if isinstance(value, bytes | bytearray) and len(value) == size:
            return None
        return where, ErrorCode.WRONG_TYPE, f"{path} must be {size} bytes"
    check = _PRIMITIVE_CHECKS.get(kind)
    if check is not None and not check(value):
        if kind in ("int", "long") and isinstance(value, int) and not isinstance(value, bool):
            return where, ErrorCode.OUT_OF_RANGE, f"{path} = {value} does not fit an Avro {kind}"
        return where, ErrorCode.WRONG_TYPE, f"{path} is {_json_type(value)}; expected {kind}"
    return None

"""Times in JSON payloads as people write them: RFC 3339 text or epoch milliseconds.

Avro's JSON form of a `timestamp-millis` long is the integer of epoch milliseconds; HTTP
tracking APIs send RFC 3339 text (`2026-01-31T12:00:00.000Z`). Text at a timestamp position is
converted to the integer the schema asks for (milliseconds, or microseconds for
`timestamp-micros`); integers are kept as they are. The walk runs only for a payload that failed
validation, so events that already carry integers pay nothing for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from accord.gateway.json_decimals import field_path

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SCALE = {"timestamp-millis": 1_000, "timestamp-micros": 1_000_000}


class InvalidTimestampError(ValueError):
    """Text at a timestamp position is not an RFC 3339 time with a UTC offset."""

    def __init__(self, field: str, value: str) -> None:
        super().__init__(
            f"{field} must be epoch milliseconds or an RFC 3339 time with an offset such as "
            f"2026-01-31T12:00:00.000Z; got {value[:60]!r}"
        )
        self.field = field


def rfc3339_epoch(text: str, per_second: int = 1_000) -> int | None:
    """`text` as an epoch count of `1/per_second` seconds; None unless it is RFC 3339 with an offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    # exact integer arithmetic: a float of microseconds since 1970 loses the last digit
    delta = moment - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * per_second // 1_000_000


def with_times(value: Any, schema: Any, named: dict[str, Any], path: str = "") -> Any:
    """`value` with the RFC 3339 text at every timestamp position of `schema` made an integer.

    Returns `value` itself when nothing was converted. Text that is not RFC 3339 at a position
    that admits no string raises `InvalidTimestampError` naming the field.
    """
    if isinstance(schema, str):
        return with_times(value, named[schema], named, path) if schema in named else value
    if isinstance(schema, list):
        if isinstance(value, str) and "string" in schema:
            return value
        for branch in schema:
            converted = with_times(value, branch, named, path)
            if converted is not value:
                return converted
        return value
    scale = _SCALE.get(schema.get("logicalType", ""))
    if scale is not None:
        if not isinstance(value, str):
            return value
        epoch = rfc3339_epoch(value, scale)
        if epoch is None:
            raise InvalidTimestampError(path, value)
        return epoch
    kind = schema["type"]
    if kind == "record" and isinstance(value, dict):
        fields = {f["name"]: f["type"] for f in schema["fields"]}
        converted = {
            k: with_times(v, fields[k], named, field_path(path, k)) if k in fields else v
            for k, v in value.items()
        }
        return value if all(converted[k] is value[k] for k in value) else converted
    if kind == "array" and isinstance(value, list):
        items = [with_times(item, schema["items"], named, f"{path}[{i}]") for i, item in enumerate(value)]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if kind == "map" and isinstance(value, dict):
        entries = {k: with_times(v, schema["values"], named, field_path(path, k)) for k, v in value.items()}
        return value if all(entries[k] is value[k] for k in value) else entries
    return value

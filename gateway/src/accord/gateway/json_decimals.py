"""Decimals in JSON payloads: JSON has no decimal type, so clients send them as strings or numbers.

fastavro writes a `decimal` logical type only from a `Decimal`, so payload values at decimal
positions are converted before validation. Strings are preferred by clients (`"12.50"`) because a
JSON number may already have lost precision in the client's float; both are accepted.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from accord.wire.rules import Violation, decimal_rule


class DecimalOutOfRangeError(ValueError):
    """A decimal does not fit its schema's precision and scale (found before any arithmetic on it)."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self.violation = violation


def has_decimals(schema: Any, named: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """True when a decimal logical type occurs anywhere in the parsed `schema`."""
    if isinstance(schema, str):
        return schema in named and schema not in seen and has_decimals(named[schema], named, seen | {schema})
    if isinstance(schema, list):
        return any(has_decimals(branch, named, seen) for branch in schema)
    if schema.get("logicalType") == "decimal":
        return True
    kind = schema["type"]
    if kind == "record":
        inner = seen | {schema["name"]}
        return any(has_decimals(f["type"], named, inner) for f in schema["fields"])
    if kind == "array":
        return has_decimals(schema["items"], named, seen)
    if kind == "map":
        return has_decimals(schema["values"], named, seen)
    return False


def with_decimals(value: Any, schema: Any, named: dict[str, Any], path: str = "") -> Any:
    """`value` with every string or number at a decimal position of `schema` made a `Decimal`.

    Values that are not decimal text are left as they are, so validation names them; a decimal
    that does not fit its precision and scale raises `DecimalOutOfRangeError` (the encoder would
    otherwise spend time exponential in its exponent).
    """
    if isinstance(schema, str):
        return with_decimals(value, named[schema], named, path) if schema in named else value
    if isinstance(schema, list):
        for branch in schema:
            converted = with_decimals(value, branch, named, path)
            if converted is not value:
                return converted
        return value
    if schema.get("logicalType") == "decimal":
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                return value
            violation = decimal_rule(number, schema["precision"], schema.get("scale", 0), path)
            if violation is not None:
                raise DecimalOutOfRangeError(violation)
            return number
        return value
    kind = schema["type"]
    if kind == "record" and isinstance(value, dict):
        fields = {f["name"]: f["type"] for f in schema["fields"]}
        return {
            k: with_decimals(v, fields[k], named, field_path(path, k)) if k in fields else v
            for k, v in value.items()
        }
    if kind == "array" and isinstance(value, list):
        return [with_decimals(item, schema["items"], named, f"{path}[{i}]") for i, item in enumerate(value)]
    if kind == "map" and isinstance(value, dict):
        return {k: with_decimals(v, schema["values"], named, field_path(path, k)) for k, v in value.items()}
    return value


def field_path(path: str, name: str) -> str:
    """The path of field `name` inside the value at `path` (`purchase.amount`)."""
    return f"{path}.{name}" if path else name

"""Decimals in JSON payloads: JSON has no decimal type, so clients send them as strings or numbers.

fastavro writes a `decimal` logical type only from a `Decimal`, so payload values at decimal
positions are converted before validation. Strings are preferred by clients (`"12.50"`) because a
JSON number may already have lost precision in the client's float; both are accepted.

Each value is bounded by its type's precision and scale before anything else is done with it:
fastavro's decimal writer computes `10 ** exponent`, so `"1e1000000"` would cost seconds of CPU
on the event loop before any size check could refuse it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


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


_TEXT_SLACK = 32
"""Characters a decimal's text may hold beyond its `precision` digits: sign, point, exponent and
a few leading zeros. Longer text cannot fit, and is refused before `Decimal` parses it."""


class DecimalOutOfBoundsError(Exception):
    """A decimal value that cannot fit its type: `rule` and `problem`, and where in the payload.

    The path is collected on the way out of the payload (`path`, innermost first), so a valid
    payload pays nothing for it.
    """

    def __init__(self, rule: str, problem: str) -> None:
        super().__init__(problem)
        self.rule = rule
        self.problem = problem
        self.path: list[str] = []

    @property
    def field(self) -> str:
        """The dotted path of the value from the payload's root, e.g. `items[2].price`."""
        field = ""
        for part in reversed(self.path):
            field += part if part.startswith("[") or not field else f".{part}"
        return field


def with_decimals(value: Any, schema: Any, named: dict[str, Any]) -> Any:
    """`value` with every string or number at a decimal position of `schema` made a `Decimal`.

    Values that are not decimal text are left as they are, so validation names them; decimal
    text that cannot fit its type raises `DecimalOutOfBoundsError`.
    """
    if isinstance(schema, str):
        return with_decimals(value, named[schema], named) if schema in named else value
    if isinstance(schema, list):
        refused: DecimalOutOfBoundsError | None = None
        for branch in schema:
            try:
                converted = with_decimals(value, branch, named)
            except DecimalOutOfBoundsError as exc:
                refused = refused or exc
                continue
            if converted is not value:
                return converted
        if refused is not None:
            raise refused
        return value
    if schema.get("logicalType") == "decimal":
        return bounded_decimal(value, schema["precision"], schema.get("scale", 0))
    kind = schema["type"]
    if kind == "record" and isinstance(value, dict):
        fields = {f["name"]: f["type"] for f in schema["fields"]}
        converted_record = {}
        for name, item in value.items():
            try:
                converted_record[name] = with_decimals(item, fields[name], named) if name in fields else item
            except DecimalOutOfBoundsError as exc:
                exc.path.append(name)
                raise
        return converted_record
    if kind == "array" and isinstance(value, list):
        converted_items = []
        for index, item in enumerate(value):
            try:
                converted_items.append(with_decimals(item, schema["items"], named))
            except DecimalOutOfBoundsError as exc:
                exc.path.append(f"[{index}]")
                raise
        return converted_items
    if kind == "map" and isinstance(value, dict):
        converted_map = {}
        for key, item in value.items():
            try:
                converted_map[key] = with_decimals(item, schema["values"], named)
            except DecimalOutOfBoundsError as exc:
                exc.path.append(key)
                raise
        return converted_map
    return value


def bounded_decimal(value: Any, precision: int, scale: int) -> Any:
    """`value` as a `Decimal` that fits `decimal(precision, scale)`, or as it is if not decimal text.

    Raises `DecimalOutOfBoundsError` for decimal text that cannot fit: too long, not finite,
    more than `scale` digits after the point, or more than `precision - scale` before it. Only
    the text's length, `Decimal`'s parse and its exponent are looked at, all linear in a text
    whose length is bounded first.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value
    text = value if isinstance(value, str) else str(value)
    kind = f"decimal({precision}, {scale})"
    if len(text) > precision + _TEXT_SLACK:
        raise DecimalOutOfBoundsError(
            "out_of_range", f"is {len(text)} characters long; a {kind} is at most {precision + _TEXT_SLACK}"
        )
    try:
        number = Decimal(text)
    except InvalidOperation:
        return value
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int):  # "n", "N" or "F": NaN, sNaN or Infinity
        raise DecimalOutOfBoundsError("invalid_decimal", f"must be a finite number; got {text!r}")
    if exponent < -scale:
        raise DecimalOutOfBoundsError(
            "out_of_range", f"= {text} has more than {scale} digits after the point, the scale of its {kind}"
        )
    if number.adjusted() + 1 + scale > precision:
        raise DecimalOutOfBoundsError(
            "out_of_range",
            f"= {text} has more than {precision - scale} digits before the point, the most a {kind} holds",
        )
    return number

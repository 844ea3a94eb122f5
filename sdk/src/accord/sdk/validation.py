"""Local validation of an event's Avro dict, with errors that name the offending field.

fastavro's writer already refuses most bad values, but it silently accepts some that would
reach the platform wrong: a naive datetime (written as if it were UTC), an int beyond int32
(written, then unreadable as an int), a float or bool where an int belongs (truncated), any
object where a boolean belongs (written as its truthiness), a numeric string where a double
belongs, a string where an array belongs (written character by character). A *guard* checks
only those, on
every event, so encoding stays close to fastavro's speed. When fastavro raises anyway, a full
*diagnosis* of the same event says which field is wrong and how.

Both are compiled once per schema into nested closures; a schema branch that needs no check
compiles to nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from accord.sdk.errors import (
    InvalidEventError,
    InvalidValueError,
    MissingFieldError,
    NaiveDatetimeError,
    ValueOutOfRangeError,
    WrongTypeError,
)
from accord.wire.rules import UUID_PATTERN

Check = Callable[[Any], None]

_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)
_UUID = re.compile(UUID_PATTERN)
_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


class FieldProblemError(Exception):
    """A value refused at some depth; `path` grows as the problem travels up the records."""

    def __init__(self, error: type[InvalidEventError], problem: str) -> None:
        super().__init__(problem)
        self.error = error
        self.problem = problem
        self.path: list[str] = []

    def to_error(self, event_type: str) -> InvalidEventError:
        """The public exception for this problem, with the dotted field path."""
        return self.error(event_type, ".".join(self.path), self.problem)


def compile_guard(schema: Any) -> Check | None:
    """Checks for what fastavro's writer would accept silently; None if the schema needs none."""
    return _Compiler(full=False).compile(schema, "")


def compile_diagnosis(schema: Any) -> Check:
    """A check of everything the schema requires, run to explain a failed encoding."""
    check = _Compiler(full=True).compile(schema, "")
    assert check is not None  # a full compilation checks every type
    return check


def _type_name(value: Any) -> str:
    return type(value).__name__


def _wrong(expected: str, value: Any) -> FieldProblemError:
    return FieldProblemError(WrongTypeError, f"expected {expected}, got {_type_name(value)} {value!r:.60}")


def _integer(kind: str, low: int, high: int) -> Check:
    def check(value: Any) -> None:
        if type(value) is not int and (isinstance(value, bool) or not isinstance(value, int)):
            raise _wrong(kind, value)
        if not low <= value <= high:
            raise FieldProblemError(
                ValueOutOfRangeError, f"{value} is out of range for {kind} [{low}, {high}]"
            )

    return check


def _boolean(value: Any) -> None:
    if not isinstance(value, bool):
        raise _wrong("bool", value)


def _number(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong("float", value)


def _string(value: Any) -> None:
    if not isinstance(value, str):
        raise _wrong("str", value)


def _uuid(value: Any) -> None:
    if isinstance(value, UUID):
        return
    if not isinstance(value, str):
        raise _wrong("UUID or str holding a UUID", value)
    if _UUID.fullmatch(value) is None:
        raise FieldProblemError(
            InvalidValueError, f"{value!r:.60} is not a UUID in canonical form (lower-case, hyphenated)"
        )


def _bytes(value: Any) -> None:
    if not isinstance(value, bytes | bytearray):
        raise _wrong("bytes", value)


def _null(value: Any) -> None:
    if value is not None:
        raise _wrong("None", value)


def _aware_datetime(value: Any) -> None:
    if not isinstance(value, datetime):
        raise _wrong("datetime", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise FieldProblemError(
            NaiveDatetimeError,
            f"datetime {value.isoformat()} has no time zone; pass an aware datetime (e.g. datetime.now(UTC))",
        )


def _date(value: Any) -> None:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise _wrong("date", value)


def _decimal(precision: int, scale: int) -> Check:
    def check(value: Any) -> None:
        if not isinstance(value, Decimal):
            raise _wrong("Decimal", value)
        if not value.is_finite():
            raise FieldProblemError(InvalidValueError, f"{value} is not a finite decimal")
        _sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        if -exponent > scale:
            raise FieldProblemError(
                ValueOutOfRangeError, f"{value} has more than {scale} digits after the decimal point"
            )
        integer_digits = len(digits) + exponent
        if integer_digits > precision - scale:
            raise FieldProblemError(
                ValueOutOfRangeError,
                f"{value} has more than {precision - scale} digits before the decimal point "
                f"(decimal({precision}, {scale}))",
            )

    return check


class _Compiler:
    def __init__(self, full: bool) -> None:
        self.full = full
        self.named: dict[str, Mapping[str, Any]] = {}
        self.compiled: dict[str, Check | None] = {}

    def compile(self, schema: Any, namespace: str) -> Check | None:
        if isinstance(schema, str):
            return self._reference(schema, namespace)
        if isinstance(schema, list):
            return self._union(schema, namespace)
        kind = schema["type"]
        logical = schema.get("logicalType")
        if kind == "record" or kind == "error":
            return self._record(schema, namespace)
        if kind == "enum":
            self._remember(schema, namespace)
            return self._enum(schema) if self.full else None
        if kind == "fixed":
            self._remember(schema, namespace)
            return self._fixed(schema) if self.full else None
        if kind == "array":
            return self._array(self.compile(schema["items"], namespace))
        if kind == "map":
            return self._map(self.compile(schema["values"], namespace))
        if logical in ("timestamp-millis", "timestamp-micros") and kind == "long":
            return _aware_datetime
        if logical == "date" and kind == "int":
            return _date if self.full else None
        if logical == "decimal" and kind == "bytes":
            return _decimal(schema["precision"], schema.get("scale", 0)) if self.full else None
        if logical == "uuid" and kind == "string":
            return _uuid
        if kind in _PRIMITIVES:
            return self._primitive(kind)
        return self.compile(kind, namespace)

    def _primitive(self, kind: str) -> Check | None:
        silent: dict[str, Check] = {
            "boolean": _boolean,
            "int": _integer("int", *_INT_RANGE),
            "long": _integer("long", *_LONG_RANGE),
            "float": _number,
            "double": _number,
        }
        if kind in silent:
            return silent[kind]
        if not self.full:
            return None
        return {"null": _null, "bytes": _bytes, "string": _string}[kind]

    def _full_name(self, schema: Mapping[str, Any], namespace: str) -> tuple[str, str]:
        name: str = schema["name"]
        if "." in name:
            return name, name.rsplit(".", 1)[0]
        space: str = schema.get("namespace", namespace)
        return (f"{space}.{name}" if space else name), space

    def _remember(self, schema: Mapping[str, Any], namespace: str) -> tuple[str, str]:
        full_name, space = self._full_name(schema, namespace)
        self.named[full_name] = schema
        return full_name, space

    def _reference(self, name: str, namespace: str) -> Check | None:
        if name in _PRIMITIVES:
            return self._primitive(name)
        full_name = name if "." in name or not namespace else f"{namespace}.{name}"
        if full_name not in self.named:
            full_name = name
        if full_name in self.compiled:
            return self.compiled[full_name]
        schema = self.named[full_name]
        return self.compile(schema, full_name.rsplit(".", 1)[0] if "." in full_name else "")

    def _record(self, schema: Mapping[str, Any], namespace: str) -> Check | None:
        full_name, space = self._remember(schema, namespace)
        if full_name in self.compiled:
            return self.compiled[full_name]
        # A recursive record refers to itself before its check exists: look it up when called.
        self.compiled[full_name] = lambda value: _call(self.compiled[full_name], value)
        fields: list[tuple[str, Check, bool, bool]] = []
        for field in schema["fields"]:
            check = self.compile(field["type"], space)
            if check is not None:
                fields.append((field["name"], check, "default" in field, _nullable(field["type"])))
        record_check = _record_check(fields, self.full) if fields or self.full else None
        self.compiled[full_name] = record_check
        return record_check

    def _union(self, branches: list[Any], namespace: str) -> Check | None:
        nullable = "null" in branches
        others = [b for b in branches if b != "null"]
        checks = [self.compile(b, namespace) for b in others]
        if not self.full:
            if len(checks) != 1 or checks[0] is None:
                return None  # fastavro picks among several branches with its own range checks
            return _optional(checks[0])
        present = [c for c in checks if c is not None]
        names = " or ".join(_branch_name(b) for b in branches)
        return _union_check(present, nullable, names)

    def _array(self, items: Check | None) -> Check:
        # Always checked: fastavro would write a str given for an array as a list of characters.
        def check(value: Any) -> None:
            if not isinstance(value, list | tuple):
                raise _wrong("list", value)
            if items is None:
                return
            for index, item in enumerate(value):
                try:
                    items(item)
                except FieldProblemError as problem:
                    problem.path.insert(0, f"[{index}]")
                    _join_index(problem)
                    raise

        return check

    def _map(self, values: Check | None) -> Check | None:
        if values is None and not self.full:
            return None

        def check(value: Any) -> None:
            if not isinstance(value, Mapping):
                raise _wrong("dict", value)
            for key, item in value.items():
                if not isinstance(key, str):
                    raise FieldProblemError(WrongTypeError, f"map keys must be str, got {_type_name(key)}")
                if values is None:
                    continue
                try:
                    values(item)
                except FieldProblemError as problem:
                    problem.path.insert(0, f"[{key!r}]")
                    _join_index(problem)
                    raise

        return check

    def _enum(self, schema: Mapping[str, Any]) -> Check:
        symbols = frozenset(schema["symbols"])
        listed = ", ".join(schema["symbols"])

        def check(value: Any) -> None:
            symbol = getattr(value, "value", value)
            if not isinstance(symbol, str):
                raise _wrong(f"one of {listed}", value)
            if symbol not in symbols:
                raise FieldProblemError(InvalidValueError, f"{symbol!r} is not one of {listed}")

        return check

    def _fixed(self, schema: Mapping[str, Any]) -> Check:
        size: int = schema["size"]

        def check(value: Any) -> None:
            if isinstance(value, str):
                raise _wrong(f"bytes of length {size}", value)
            _bytes(value)
            if len(value) != size:
                raise FieldProblemError(
                    InvalidValueError,
                    f"holds {len(value)} bytes; fixed {schema['name']} takes exactly {size}",
                )

        return check


def _call(check: Check | None, value: Any) -> None:
    if check is not None:
        check(value)


def _nullable(schema: Any) -> bool:
    return schema == "null" or (isinstance(schema, list) and "null" in schema)


def _branch_name(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    name = schema.get("logicalType") or schema.get("name") or schema["type"]
    return str(name)


def _join_index(problem: FieldProblemError) -> None:
    # `items` + `[3]` reads better as `items[3]`: glue an index onto the field before it.
    if len(problem.path) >= 2 and problem.path[1].startswith("["):
        problem.path[0:2] = [problem.path[0] + problem.path[1]]


def _record_check(fields: list[tuple[str, Check, bool, bool]], full: bool) -> Check:
    missing = object()

    def check(value: Any) -> None:
        if not isinstance(value, Mapping):
            raise _wrong("record (dict)", value)
        for name, field_check, has_default, nullable in fields:
            item = value.get(name, missing)
            if item is missing:
                if full and not has_default:
                    problem = FieldProblemError(MissingFieldError, "required field is missing")
                    problem.path.append(name)
                    raise problem
                continue
            if item is None and not nullable:
                if not full:
                    continue  # fastavro refuses it; the diagnosis names it
                problem = FieldProblemError(MissingFieldError, "required field is None")
                problem.path.append(name)
                raise problem
            try:
                field_check(item)
            except FieldProblemError as problem:
                problem.path.insert(0, name)
                _join_index(problem)
                raise

    return check


def _optional(inner: Check) -> Check:
    def check(value: Any) -> None:
        if value is not None:
            inner(value)

    return check


def _union_check(branches: list[Check], nullable: bool, names: str) -> Check:
    def check(value: Any) -> None:
        if value is None:
            if nullable:
                return
            raise FieldProblemError(MissingFieldError, f"required field is None (expected {names})")
        if len(branches) == 1:
            branches[0](value)
            return
        for branch in branches:
            try:
                branch(value)
            except FieldProblemError:
                continue
            return
        raise _wrong(names, value)

    return check

"""Hypothesis strategies derived from an Avro schema: any datum the schema allows.

Values have the Python form fastavro reads back (aware UTC datetimes with whole milliseconds,
`UUID`, `Decimal` with the schema's scale, enum symbols as strings), so a write-then-read
round trip must return them unchanged. Needs the `testing` extra (hypothesis).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from accord.schemas.names import full_name, own_namespace

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Spark and Delta store timestamps in microseconds from 0001-01-01; stay well inside every engine's range.
_MIN_MILLIS = int((datetime(1900, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds() * 1000)
_MAX_MILLIS = int((datetime(2200, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds() * 1000)

_PRIMITIVES: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "int": st.integers(-(2**31), 2**31 - 1),
    "long": st.integers(-(2**63), 2**63 - 1),
    "float": st.floats(width=32, allow_nan=False),
    "double": st.floats(allow_nan=False),
    "bytes": st.binary(max_size=32),
    "string": st.text(max_size=32),
}


def from_schema(schema: Any) -> st.SearchStrategy[Any]:
    """A strategy for data valid under `schema` (decoded JSON of a self-contained schema)."""
    return _Builder().build(schema, None)


class _Builder:
    def __init__(self) -> None:
        self._named: dict[str, st.SearchStrategy[Any]] = {}

    def build(self, node: Any, namespace: str | None) -> st.SearchStrategy[Any]:
        if isinstance(node, str):
            if node in _PRIMITIVES:
                return _PRIMITIVES[node]
            name = full_name(node, namespace)
            return st.deferred(lambda: self._named[name])
        if isinstance(node, list):
            return st.one_of([self.build(branch, namespace) for branch in node])
        kind = node["type"]
        logical = _logical(node)
        if logical is not None:
            return logical
        if kind in ("record", "error"):
            inner = own_namespace(node, namespace)
            name = full_name(node["name"], inner)
            self._named[name] = st.nothing()
            record = st.fixed_dictionaries({f["name"]: self.build(f["type"], inner) for f in node["fields"]})
            self._named[name] = record
            return record
        built: st.SearchStrategy[Any]
        if kind == "enum":
            built = st.sampled_from(node["symbols"])
        elif kind == "fixed":
            built = st.binary(min_size=node["size"], max_size=node["size"])
        elif kind == "array":
            return st.lists(self.build(node["items"], namespace), max_size=4)
        elif kind == "map":
            return st.dictionaries(st.text(max_size=8), self.build(node["values"], namespace), max_size=4)
        else:
            return self.build(kind, namespace)
        self._named[full_name(node["name"], own_namespace(node, namespace))] = built
        return built


def _logical(node: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    logical, kind = node.get("logicalType"), node["type"]
    if logical == "decimal" and kind in ("bytes", "fixed"):
        precision, scale = int(node["precision"]), int(node.get("scale", 0))
        bound = Decimal(10) ** (precision - scale) - Decimal(10) ** -scale
        return st.decimals(-bound, bound, places=scale, allow_nan=False, allow_infinity=False)
    if (kind, logical) == ("string", "uuid"):
        return st.uuids()
    if (kind, logical) == ("long", "timestamp-millis"):
        return st.integers(_MIN_MILLIS, _MAX_MILLIS).map(lambda ms: _EPOCH + timedelta(milliseconds=ms))
    if (kind, logical) == ("long", "timestamp-micros"):
        return st.integers(_MIN_MILLIS * 1000, _MAX_MILLIS * 1000).map(
            lambda us: _EPOCH + timedelta(microseconds=us)
        )
    if (kind, logical) == ("int", "date"):
        return st.dates(date(1900, 1, 1), date(2200, 1, 1))
    if (kind, logical) == ("int", "time-millis"):
        return st.times().map(lambda t: t.replace(microsecond=t.microsecond - t.microsecond % 1000))
    if (kind, logical) == ("long", "time-micros"):
        return st.times().map(lambda t: time(t.hour, t.minute, t.second, t.microsecond))
    return None

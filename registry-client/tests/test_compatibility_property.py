"""The compatibility verdict agrees with writing data with one schema and reading it with the other.

Random reader/writer record pairs are drawn from a small universe of types (every primitive,
enums with and without defaults, fixed, arrays, maps, unions, nested records) so that they
often share field names and kinds. Data written with the writer covers every enum symbol and
every union branch, then fastavro decodes it with the reader:

* a pair judged compatible must decode every datum;
* a pair judged incompatible must fail on at least one datum.

Random pairs rarely isolate one rule, so every primitive pair and every enum evolution is
also checked exhaustively, one field at a time.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fastavro import parse_schema as fastavro_parse
from fastavro import schemaless_reader, schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.registry_client.compatibility import can_read, parse_schema

pytestmark = pytest.mark.unit

FIELD_NAMES = ("a", "b")
PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "string", "bytes")
SYMBOLS = ("A", "B", "C")


def _enum(field: str) -> st.SearchStrategy[dict[str, Any]]:
    symbols = st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=3, unique=True).map(sorted)
    return symbols.flatmap(
        lambda syms: st.sampled_from([None, *syms]).map(
            lambda default: {
                "type": "enum",
                "name": f"E{field}",
                "symbols": syms,
                **({"default": default} if default else {}),
            }
        )
    )


def _type(field: str, depth: int = 0) -> st.SearchStrategy[Any]:
    leaves: list[st.SearchStrategy[Any]] = [
        st.sampled_from(PRIMITIVES),
        _enum(field),
        st.sampled_from([2, 3]).map(lambda size: {"type": "fixed", "name": f"F{field}", "size": size}),
    ]
    if depth == 0:
        leaves += [
            st.sampled_from(PRIMITIVES[1:]).map(lambda items: {"type": "array", "items": items}),
            st.sampled_from(PRIMITIVES[1:]).map(lambda values: {"type": "map", "values": values}),
            st.lists(st.sampled_from(PRIMITIVES), min_size=1, max_size=3, unique=True),
            st.lists(st.sampled_from(("int", "long", "string")), min_size=0, max_size=2, unique=True).map(
                lambda names: {
                    "type": "record",
                    "name": f"N{field}",
                    "fields": [{"name": f"x{n}", "type": n} for n in names],
                }
            ),
        ]
    return st.one_of(leaves)


SCALARS = ("int", "long", "float", "double", "string", "bytes")


def _neighbour(field: str, type_: Any) -> st.SearchStrategy[Any]:
    """A type one classic evolution away from `type_` (promotion, union branch, items change …)."""
    if isinstance(type_, str):
        optional = [["null", type_], [type_, "null"]] if type_ != "null" else [["null", "int"]]
        return st.one_of(st.sampled_from(SCALARS), st.sampled_from(optional))
    if isinstance(type_, list):
        grown = st.sampled_from(PRIMITIVES).map(lambda extra: type_ if extra in type_ else [*type_, extra])
        shrunk = st.just(type_[:-1] if len(type_) > 1 else type_[0])
        return st.one_of(grown, shrunk)
    kind = type_["type"]
    if kind in ("array", "map"):
        key = "items" if kind == "array" else "values"
        return st.sampled_from(SCALARS).map(lambda inner: {**type_, key: inner})
    return _type(field)


def _default_for(type_: Any) -> Any:
    """A valid default for `type_` (the first branch for a union)."""
    if isinstance(type_, list):
        return _default_for(type_[0])
    if isinstance(type_, dict):
        kind = type_["type"]
        if kind == "enum":
            return type_["symbols"][0]
        if kind == "fixed":
            return "\u0000" * type_["size"]
        if kind == "record":
            return {f["name"]: _default_for(f["type"]) for f in type_["fields"]}
        return [] if kind == "array" else {}
    return {
        "null": None,
        "boolean": False,
        "int": 0,
        "long": 0,
        "float": 0.0,
        "double": 0.0,
        "string": "",
        "bytes": "",
    }[type_]


@st.composite
def record_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A writer and a reader record; each reader field keeps, evolves or replaces the writer's type."""
    writer_fields, reader_fields = [], []
    for name in FIELD_NAMES:
        writer_type = draw(_type(name))
        reader_type = draw(st.one_of(st.just(writer_type), _neighbour(name, writer_type), _type(name)))
        if draw(st.integers(0, 4)):
            writer_fields.append({"name": name, "type": writer_type})
        if draw(st.integers(0, 4)):
            reader_field: dict[str, Any] = {"name": name, "type": reader_type}
            if draw(st.booleans()):
                reader_field["default"] = _default_for(reader_type)
            reader_fields.append(reader_field)
    writer = {"type": "record", "name": "Event", "fields": writer_fields}
    reader = {"type": "record", "name": "Event", "fields": reader_fields}
    return writer, reader


def _values(type_: Any) -> list[Any]:
    """Values of `type_` that together use every enum symbol and every union branch."""
    if isinstance(type_, list):
        return [value for branch in type_ for value in _values(branch)]
    if isinstance(type_, dict):
        kind = type_["type"]
        if kind == "enum":
            return list(type_["symbols"])
        if kind == "fixed":
            return [b"\x01" * type_["size"]]
        if kind == "array":
            return [_values(type_["items"])]
        if kind == "map":
            return [{str(i): v for i, v in enumerate(_values(type_["values"]))}]
        return _data(type_["fields"])
    primitive_values: dict[str, list[Any]] = {
        "null": [None],
        "boolean": [True],
        "int": [7],
        "long": [2**40],
        "float": [1.5],
        "double": [2.5],
        "string": ["text"],
        "bytes": [b"raw"],
    }
    return primitive_values[type_]


def _data(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    options = {f["name"]: _values(f["type"]) for f in fields}
    rounds = max((len(values) for values in options.values()), default=1)
    return [{name: values[i % len(values)] for name, values in options.items()} for i in range(rounds)]


def _decodes(writer: dict[str, Any], reader: dict[str, Any], datum: dict[str, Any]) -> bool:
    buffer = io.BytesIO()
    schemaless_writer(buffer, fastavro_parse(writer), datum)
    buffer.seek(0)
    try:
        schemaless_reader(buffer, fastavro_parse(writer), fastavro_parse(reader))
    except Exception:  # fastavro signals a failed resolution with several exception types
        return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_pairs())
def test_verdict_agrees_with_decoding_through_fastavro(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    writer, reader = pair
    verdict = can_read(parse_schema(json.dumps(reader), strict=True), parse_schema(json.dumps(writer)))
    outcomes = [_decodes(writer, reader, datum) for datum in _data(writer["fields"])]
    if verdict:
        assert all(outcomes), "judged compatible but a datum did not decode"
    else:
        assert not all(outcomes), "judged incompatible but every datum decoded"


def _single_field_pair(writer_type: Any, reader_type: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {"type": "record", "name": "Event", "fields": [{"name": "a", "type": writer_type}]},
        {"type": "record", "name": "Event", "fields": [{"name": "a", "type": reader_type}]},
    )


def _assert_agrees(writer: dict[str, Any], reader: dict[str, Any]) -> None:
    verdict = can_read(parse_schema(json.dumps(reader), strict=True), parse_schema(json.dumps(writer)))
    outcomes = [_decodes(writer, reader, datum) for datum in _data(writer["fields"])]
    assert verdict == all(outcomes), (writer, reader, verdict, outcomes)


@pytest.mark.parametrize("writer_type", PRIMITIVES)
@pytest.mark.parametrize("reader_type", PRIMITIVES)
def test_every_primitive_pair_agrees_with_fastavro(writer_type: str, reader_type: str) -> None:
    _assert_agrees(*_single_field_pair(writer_type, reader_type))


ENUM_SYMBOL_SETS = [["A"], ["A", "B"], ["B", "C"], ["A", "B", "C"]]


@pytest.mark.parametrize("writer_symbols", ENUM_SYMBOL_SETS)
@pytest.mark.parametrize("reader_symbols", ENUM_SYMBOL_SETS)
@pytest.mark.parametrize("reader_default", [None, "first"])
def test_every_enum_evolution_agrees_with_fastavro(
    writer_symbols: list[str], reader_symbols: list[str], reader_default: str | None
) -> None:
    reader_enum: dict[str, Any] = {"type": "enum", "name": "Ea", "symbols": reader_symbols}
    if reader_default:
        reader_enum["default"] = reader_symbols[0]
    _assert_agrees(
        *_single_field_pair({"type": "enum", "name": "Ea", "symbols": writer_symbols}, reader_enum)
    )

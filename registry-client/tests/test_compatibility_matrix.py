"""Every compatibility level against the classic schema evolutions, and the fixes over avro's checker."""

from __future__ import annotations

import json
from typing import Any

import pytest
from avro.schema import RecordSchema

from accord.registry_client.compatibility import (
    CompatibilityLevel,
    InvalidSchemaError,
    Rule,
    check_compatibility,
    parse_schema,
)

pytestmark = pytest.mark.unit


def record(fields: list[dict[str, Any]], name: str = "Event", **extra: Any) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "accord.test", "fields": fields, **extra})


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def enum(symbols: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "enum", "name": "Kind", "symbols": symbols, **extra}


ID = field("id", "string")

# name: (old schema, new schema, new can read old (backward), old can read new (forward))
EVOLUTIONS: dict[str, tuple[str, str, bool, bool]] = {
    "field added with default": (
        record([ID]),
        record([ID, field("n", "int", default=0)]),
        True,
        True,
    ),
    "field added without default": (record([ID]), record([ID, field("n", "int")]), False, True),
    "field with default removed": (
        record([ID, field("n", "int", default=0)]),
        record([ID]),
        True,
        True,
    ),
    "field without default removed": (record([ID, field("n", "int")]), record([ID]), True, False),
    "int promoted to long": (record([field("n", "int")]), record([field("n", "long")]), True, False),
    "long promoted to float": (record([field("n", "long")]), record([field("n", "float")]), True, False),
    "float promoted to double": (record([field("n", "float")]), record([field("n", "double")]), True, False),
    "int promoted to double": (record([field("n", "int")]), record([field("n", "double")]), True, False),
    "long narrowed to int": (record([field("n", "long")]), record([field("n", "int")]), False, True),
    "string to bytes": (record([field("s", "string")]), record([field("s", "bytes")]), True, True),
    "bytes to string": (record([field("s", "bytes")]), record([field("s", "string")]), True, True),
    "string to int": (record([field("s", "string")]), record([field("s", "int")]), False, False),
    "enum symbol added": (
        record([field("k", enum(["A", "B"]))]),
        record([field("k", enum(["A", "B", "C"]))]),
        True,
        False,
    ),
    "enum symbol removed": (
        record([field("k", enum(["A", "B", "C"]))]),
        record([field("k", enum(["A", "B"]))]),
        False,
        True,
    ),
    "enum symbol added, enums with a default": (
        record([field("k", enum(["U", "A"], default="U"))]),
        record([field("k", enum(["U", "A", "B"], default="U"))]),
        True,
        True,
    ),
    "enum symbol removed, enums with a default": (
        record([field("k", enum(["U", "A", "B"], default="U"))]),
        record([field("k", enum(["U", "A"], default="U"))]),
        True,
        True,
    ),
    "union branch added": (
        record([field("u", ["null", "int"], default=None)]),
        record([field("u", ["null", "int", "string"], default=None)]),
        True,
        False,
    ),
    "union branch removed": (
        record([field("u", ["null", "int", "string"], default=None)]),
        record([field("u", ["null", "int"], default=None)]),
        False,
        True,
    ),
    "type widened to an optional union": (
        record([field("s", "string")]),
        record([field("s", ["null", "string"], default=None)]),
        True,
        False,
    ),
    "fixed size changed": (
        record([field("f", {"type": "fixed", "name": "Hash", "size": 16})]),
        record([field("f", {"type": "fixed", "name": "Hash", "size": 32})]),
        False,
        False,
    ),
    "record renamed with an alias": (
        record([ID]),
        record([ID], name="Renamed", aliases=["Event"]),
        True,
        False,
    ),
    "record renamed without an alias": (record([ID]), record([ID], name="Renamed"), False, False),
    "nested record field added without default": (
        record([field("ctx", {"type": "record", "name": "Ctx", "fields": [ID]})]),
        record([field("ctx", {"type": "record", "name": "Ctx", "fields": [ID, field("ip", "string")]})]),
        False,
        True,
    ),
    "nested record field added with default": (
        record([field("ctx", {"type": "record", "name": "Ctx", "fields": [ID]})]),
        record(
            [
                field(
                    "ctx",
                    {"type": "record", "name": "Ctx", "fields": [ID, field("ip", "string", default="")]},
                )
            ]
        ),
        True,
        True,
    ),
    "array items promoted": (
        record([field("a", {"type": "array", "items": "int"})]),
        record([field("a", {"type": "array", "items": "long"})]),
        True,
        False,
    ),
    "array items changed": (
        record([field("a", {"type": "array", "items": "int"})]),
        record([field("a", {"type": "array", "items": "string"})]),
        False,
        False,
    ),
    "map values promoted": (
        record([field("m", {"type": "map", "values": "float"})]),
        record([field("m", {"type": "map", "values": "double"})]),
        True,
        False,
    ),
    "map replaced by array": (
        record([field("m", {"type": "map", "values": "int"})]),
        record([field("m", {"type": "array", "items": "int"})]),
        False,
        False,
    ),
}


def expected_verdict(level: CompatibilityLevel, backward: bool, forward: bool) -> bool:
    ok = True
    if level.new_schema_reads_old:
        ok = ok and backward
    if level.old_schema_reads_new:
        ok = ok and forward
    return ok


@pytest.mark.parametrize("level", list(CompatibilityLevel))
@pytest.mark.parametrize("evolution", list(EVOLUTIONS))
def test_level_against_classic_evolution(level: CompatibilityLevel, evolution: str) -> None:
    old, new, backward, forward = EVOLUTIONS[evolution]
    problems = check_compatibility(new, [(1, old)], level)
    assert (not problems) == expected_verdict(level, backward, forward), problems
    for problem in problems:
        assert problem.version == 1
        assert problem.rule in set(Rule)
        assert problem.path in problem.message


# v1 has `n` without default; v2 drops it; v3 adds it back without default: v3 can read v2, not v1
V1 = record([ID, field("n", "int")])
V2 = record([ID])
V3 = record([ID, field("n", "int", default=0), field("m", "string")])


@pytest.mark.parametrize(
    ("level", "compatible"),
    [
        (CompatibilityLevel.BACKWARD, True),
        (CompatibilityLevel.BACKWARD_TRANSITIVE, False),
        (CompatibilityLevel.FORWARD, True),
        (CompatibilityLevel.FORWARD_TRANSITIVE, False),
        (CompatibilityLevel.FULL, True),
        (CompatibilityLevel.FULL_TRANSITIVE, False),
    ],
)
def test_transitive_levels_check_every_version_latest_only_levels_check_the_newest(
    level: CompatibilityLevel, compatible: bool
) -> None:
    new = record([ID, field("m", "string", default="")])
    existing = [(2, record([ID])), (1, record([ID, field("m", "int")]))]
    problems = check_compatibility(new, existing, level)
    if level in (CompatibilityLevel.BACKWARD, CompatibilityLevel.FORWARD):
        assert problems == []
    assert (not problems) == compatible, problems
    assert all(problem.version == 1 for problem in problems)


def test_transitive_problem_names_the_old_version_it_conflicts_with() -> None:
    problems = check_compatibility(V3, [(2, V2), (1, V1)], CompatibilityLevel.BACKWARD_TRANSITIVE)
    assert [(p.version, p.path, p.rule) for p in problems] == [
        (2, "m", Rule.READER_FIELD_MISSING_DEFAULT_VALUE),
        (1, "m", Rule.READER_FIELD_MISSING_DEFAULT_VALUE),
    ]


def test_no_existing_version_is_always_compatible() -> None:
    assert check_compatibility(V1, [], CompatibilityLevel.FULL_TRANSITIVE) == []


def test_message_names_nested_field_path_and_rule() -> None:
    old = record(
        [field("envelope", {"type": "record", "name": "Envelope", "fields": [field("user_id", "long")]})]
    )
    new = record(
        [field("envelope", {"type": "record", "name": "Envelope", "fields": [field("user_id", "int")]})]
    )
    [problem] = check_compatibility(new, [(3, old)], CompatibilityLevel.BACKWARD)
    assert problem.path == "envelope.user_id"
    assert problem.rule == Rule.TYPE_MISMATCH
    assert "envelope.user_id" in problem.message
    assert "int" in problem.message
    assert "long" in problem.message
    assert "version 3" in problem.message


def test_array_and_map_steps_appear_in_the_path() -> None:
    old = record([field("m", {"type": "map", "values": {"type": "array", "items": "long"}})])
    new = record([field("m", {"type": "map", "values": {"type": "array", "items": "int"}})])
    [problem] = check_compatibility(new, [(1, old)], CompatibilityLevel.BACKWARD)
    assert problem.path == "m{}[]"


def test_several_problems_are_each_reported_in_a_stable_order() -> None:
    old = record([field("a", "long"), field("b", "long")])
    new = record([field("a", "int"), field("b", "int"), field("c", "string")])
    problems = check_compatibility(new, [(1, old)], CompatibilityLevel.BACKWARD)
    assert [(p.path, p.rule) for p in problems] == [
        ("a", Rule.TYPE_MISMATCH),
        ("b", Rule.TYPE_MISMATCH),
        ("c", Rule.READER_FIELD_MISSING_DEFAULT_VALUE),
    ]


# --- the thin layer over avro's checker: each correction pinned by a test ---


def test_new_enum_field_without_field_default_is_a_missing_default_not_a_type_mismatch() -> None:
    old = record([ID])
    new = record([ID, field("k", enum(["A", "B"], default="A"))])
    [problem] = check_compatibility(new, [(1, old)], CompatibilityLevel.BACKWARD)
    assert (problem.path, problem.rule) == ("k", Rule.READER_FIELD_MISSING_DEFAULT_VALUE)


def test_short_alias_is_qualified_with_the_readers_namespace() -> None:
    old = json.dumps({"type": "record", "name": "Old", "namespace": "accord.test", "fields": [ID]})
    new = json.dumps(
        {"type": "record", "name": "New", "namespace": "accord.test", "aliases": ["Old"], "fields": [ID]}
    )
    assert check_compatibility(new, [(1, old)], CompatibilityLevel.BACKWARD) == []


def test_alias_in_another_namespace_does_not_match() -> None:
    old = json.dumps({"type": "record", "name": "Old", "namespace": "accord.test", "fields": [ID]})
    new = json.dumps(
        {"type": "record", "name": "New", "namespace": "accord.test", "aliases": ["x.Old"], "fields": [ID]}
    )
    [problem] = check_compatibility(new, [(1, old)], CompatibilityLevel.BACKWARD)
    assert problem.rule == Rule.NAME_MISMATCH


def test_reader_union_explains_the_branch_of_the_writers_kind() -> None:
    ctx_old = {"type": "record", "name": "Ctx", "fields": [ID]}
    ctx_new = {"type": "record", "name": "Ctx", "fields": [ID, field("ip", "string")]}
    old = record([field("ctx", ctx_old)])
    new = record([field("ctx", ["null", "string", ctx_new], default=None)])
    [problem] = check_compatibility(new, [(1, old)], CompatibilityLevel.BACKWARD)
    assert (problem.path, problem.rule) == ("ctx.ip", Rule.READER_FIELD_MISSING_DEFAULT_VALUE)


def test_named_type_used_twice_is_explained_at_both_fields() -> None:
    ctx_old = {"type": "record", "name": "Ctx", "fields": [field("n", "long")]}
    ctx_new = {"type": "record", "name": "Ctx", "fields": [field("n", "int")]}
    old = record([field("first", ctx_old), field("second", "Ctx")])
    new = record([field("first", ctx_new), field("second", "Ctx")])
    problems = check_compatibility(new, [(1, old)], CompatibilityLevel.BACKWARD)
    assert [p.path for p in problems] == ["first.n", "second.n"]


def test_referenced_named_types_are_resolved() -> None:
    envelope = json.dumps(
        {
            "type": "record",
            "name": "Envelope",
            "namespace": "accord.common",
            "fields": [field("user_id", "string")],
        }
    )
    event_v1 = record([field("envelope", "accord.common.Envelope")])
    event_v2 = record([field("envelope", "accord.common.Envelope"), field("path", "string", default="/")])
    named = {"accord.common.Envelope": envelope}
    assert check_compatibility(event_v2, [(1, event_v1)], CompatibilityLevel.FULL, named) == []
    with pytest.raises(InvalidSchemaError, match=r"accord\.common\.Envelope"):
        check_compatibility(event_v2, [(1, event_v1)], CompatibilityLevel.FULL)


# --- strict validation of new schemas, lenient parsing of stored ones ---


@pytest.mark.parametrize(
    ("schema", "fragment"),
    [
        ("{not json", "Invalid JSON"),
        (json.dumps({"type": "record", "name": "R", "fields": [field("a", "strng")]}), "strng"),
        (json.dumps({"type": "record", "name": "1R", "fields": []}), "1R"),
        (json.dumps({"type": "record", "name": "R", "fields": [field("a", "int"), field("a", "int")]}), "a"),
        (record([field("n", "int", default="x")]), "Invalid default for field n"),
        (record([field("n", "int", default=2**31)]), "Invalid default for field n"),
        (record([field("u", ["string", "null"], default=1)]), "Invalid default for field u"),
        (record([field("u", ["null", "string"], default=5)]), "Invalid default for field u"),
        (record([field("k", enum(["A"]), default="B")]), "Invalid default for field k"),
        (
            record([field("f", {"type": "fixed", "name": "F", "size": 2}, default="abc")]),
            "Invalid default for field f",
        ),
        (
            record([field("a", {"type": "array", "items": "int"}, default=["x"])]),
            "Invalid default for field a",
        ),
        (
            record([field("c", {"type": "record", "name": "C", "fields": [field("x", "int")]}, default={})]),
            "Invalid default for field c",
        ),
    ],
)
def test_strict_parsing_rejects_invalid_new_schemas(schema: str, fragment: str) -> None:
    with pytest.raises(InvalidSchemaError, match=fragment):
        parse_schema(schema, strict=True)


@pytest.mark.parametrize(
    "default_field",
    [
        field("u", ["null", "string"], default=None),
        field("u", ["string", "null"], default="x"),
        field("d", "double", default=1),
        field("b", "bytes", default="\u00ff"),
        field("m", {"type": "map", "values": "long"}, default={"a": 1}),
        field("c", {"type": "record", "name": "C", "fields": [field("x", "int", default=1)]}, default={}),
    ],
)
def test_strict_parsing_accepts_valid_defaults(default_field: dict[str, Any]) -> None:
    parse_schema(record([default_field]), strict=True)


@pytest.mark.parametrize(
    "default_field",
    [
        field("u", ["string", "null"], default=None),
        field("u", ["null", "string"], default="x"),
        field("u", ["null", "int", {"type": "array", "items": "string"}], default=["a"]),
    ],
)
def test_union_default_may_match_a_later_branch_as_in_avro_1_12_and_confluent_8(
    default_field: dict[str, Any],
) -> None:
    """Confluent 8.x parses new schemas with Avro 1.12, which accepts a union default of any branch."""
    parse_schema(record([default_field]), strict=True)


def test_lenient_parsing_accepts_legacy_names_and_defaults() -> None:
    legacy = json.dumps({"type": "record", "name": "my-record", "fields": [field("n", "int", default="x")]})
    with pytest.raises(InvalidSchemaError):
        parse_schema(legacy, strict=True)
    parsed = parse_schema(legacy, strict=False)
    assert isinstance(parsed, RecordSchema)
    assert parsed.name == "my-record"

"""Avro schema compatibility: the rules the registry enforces and `accord schemas check` reuses.

The verdict comes from Apache avro's `ReaderWriterCompatibilityChecker` (a port of Java's
`SchemaCompatibility`, the engine Confluent's registry runs). A thin subclass corrects the
places where it departs from the resolution rules of the Avro specification and turns its
unordered message sets into one `Incompatibility` per problem, each naming the field:

* a reader field of an enum type with an enum `default` but no field default, missing from the
  writer, is reported as `READER_FIELD_MISSING_DEFAULT_VALUE` (avro compares the enum with the
  writer *record* and reports a misleading `TYPE_MISMATCH`);
* a named type's `aliases` are qualified with its namespace before they are compared with the
  writer's full name, as the specification says (avro compares them as written, so a short
  alias never matches);
* when a reader union cannot read a writer type, only the branch of the same kind explains why,
  instead of every branch that was tried;
* a named type used in several fields is explained at every field, not only the first one
  (avro memoises the verdict per pair and loses the messages on the second visit).

`Incompatibility.path` is the dotted path of the field inside the new schema's top-level
record (`envelope.user_id`); `[]` stands for an array's items, `{}` for a map's values and
`(root)` for the top-level type itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, cast

from avro.compatibility import (
    CompatibleResult,
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityResult,
    SchemaCompatibilityType,
    SchemaIncompatibilityType,
    SchemaType,
    check_fixed_size,
    incompatible,
    lookup_writer_field,
    merge,
)
from avro.errors import AvroException
from avro.name import Name, Names
from avro.schema import (
    ArraySchema,
    EnumSchema,
    Field,
    FixedSchema,
    MapSchema,
    NamedSchema,
    RecordSchema,
    Schema,
    UnionSchema,
    make_avsc_object,
)

ROOT_PATH = "(root)"


class CompatibilityLevel(StrEnum):
    """The compatibility levels of the Confluent Schema Registry."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @property
    def transitive(self) -> bool:
        """True when the new schema is checked against every live version, not only the latest."""
        return self.value.endswith("_TRANSITIVE")

    @property
    def new_schema_reads_old(self) -> bool:
        """True when data written with older versions must be readable with the new schema."""
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def old_schema_reads_new(self) -> bool:
        """True when data written with the new schema must be readable with older versions."""
        return self.value.startswith(("FORWARD", "FULL"))


class Rule(StrEnum):
    """Why a reader cannot read a writer's data (Java `SchemaIncompatibilityType` names)."""

    NAME_MISMATCH = "NAME_MISMATCH"
    FIXED_SIZE_MISMATCH = "FIXED_SIZE_MISMATCH"
    MISSING_ENUM_SYMBOLS = "MISSING_ENUM_SYMBOLS"
    READER_FIELD_MISSING_DEFAULT_VALUE = "READER_FIELD_MISSING_DEFAULT_VALUE"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    MISSING_UNION_BRANCH = "MISSING_UNION_BRANCH"


@dataclass(frozen=True)
class Incompatibility:
    """One reason why two schemas are incompatible.

    `path` is the dotted field path (see the module docstring), `rule` a `Rule` value,
    `message` a sentence naming the field and the rule, `version` the registered version the
    new schema conflicts with when it is known.
    """

    path: str
    rule: str
    message: str
    version: int | None = None


class InvalidSchemaError(ValueError):
    """A schema text is not a valid Avro schema (bad JSON, unknown type, bad name or default)."""


# --------------------------------------------------------------------------------------------
# parsing


def parse_schema(
    schema: str | Any, named_types: Mapping[str, str] | None = None, *, strict: bool = True
) -> Schema:
    """Parse an Avro schema given as JSON text (or already decoded JSON).

    `named_types` maps the full names of referenced types to their schema JSON; they are parsed
    first so that the schema can use them by name. `strict` (for new schemas) validates names
    and every default against its type; records already stored are parsed with
    `strict=False`, which accepts legacy names and defaults.
    """
    data = _load_json(schema)
    names = Names(validate_names=strict)
    _parse_named_types(named_types or {}, names, strict)
    try:
        parsed = make_avsc_object(data, names, validate_enum_symbols=strict, validate_names=strict)
    except (AvroException, TypeError, ValueError, AttributeError) as exc:
        raise InvalidSchemaError(str(exc)) from exc
    if strict:
        validate_defaults(parsed)
    return parsed


def _load_json(schema: str | Any) -> Any:
    if not isinstance(schema, str):
        return schema
    try:
        return json.loads(schema)
    except json.JSONDecodeError as exc:
        raise InvalidSchemaError(f"Invalid JSON: {exc}") from exc


def _parse_named_types(named_types: Mapping[str, str], names: Names, strict: bool) -> None:
    """Parse referenced types into `names`, in whatever order they depend on each other."""
    pending = {name: _load_json(text) for name, text in named_types.items()}
    while pending:
        errors: dict[str, str] = {}
        before = len(pending)
        for name, data in list(pending.items()):
            attempt = Names(validate_names=strict)
            attempt.names = dict(names.names)
            try:
                make_avsc_object(data, attempt, validate_enum_symbols=strict, validate_names=strict)
            except (AvroException, TypeError, ValueError, AttributeError) as exc:
                errors[name] = str(exc)
                continue
            names.names = attempt.names
            del pending[name]
        if len(pending) == before:
            name, error = sorted(errors.items())[0]
            raise InvalidSchemaError(f"Invalid referenced type {name}: {error}")


# --------------------------------------------------------------------------------------------
# default values


_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)


def validate_defaults(schema: Schema) -> None:
    """Raise `InvalidSchemaError` when a field's default does not match its type.

    Follows Avro 1.12 (the parser of Confluent 8.x): a union's default may match any of its
    branches, not only the first one the specification names; bytes and fixed defaults are
    strings of code points 0-255, float and double accept integers.
    """
    for record in _records(schema, set()):
        for field in cast("Sequence[Field]", record.fields):
            if field.has_default and not default_matches(field.type, field.default):
                raise InvalidSchemaError(
                    f"Invalid default for field {field.name}: {json.dumps(field.default)} "
                    f"not a {json.dumps(field.type.to_json())}"
                )


def _records(schema: Schema, seen: set[str]) -> Iterator[RecordSchema]:
    if isinstance(schema, NamedSchema):
        if schema.fullname in seen:
            return
        seen.add(schema.fullname)
    if isinstance(schema, RecordSchema):
        yield schema
        for field in cast("Sequence[Field]", schema.fields):
            yield from _records(field.type, seen)
    elif isinstance(schema, ArraySchema):
        yield from _records(schema.items, seen)
    elif isinstance(schema, MapSchema):
        yield from _records(schema.values, seen)
    elif isinstance(schema, UnionSchema):
        for branch in schema.schemas:
            yield from _records(branch, seen)


def default_matches(schema: Schema, value: Any) -> bool:
    """True when `value` (decoded JSON) is a valid default for `schema`."""
    kind = schema.type
    if kind == SchemaType.NULL:
        return value is None
    if kind == SchemaType.BOOLEAN:
        return isinstance(value, bool)
    if kind in (SchemaType.INT, SchemaType.LONG):
        low, high = _INT_RANGE if kind == SchemaType.INT else _LONG_RANGE
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if kind in (SchemaType.FLOAT, SchemaType.DOUBLE):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == SchemaType.STRING:
        return isinstance(value, str)
    if kind == SchemaType.BYTES:
        return isinstance(value, str) and all(ord(char) < 256 for char in value)
    if isinstance(schema, FixedSchema):
        return isinstance(value, str) and len(value) == schema.size and all(ord(c) < 256 for c in value)
    if isinstance(schema, EnumSchema):
        return isinstance(value, str) and value in schema.symbols
    if isinstance(schema, ArraySchema):
        return isinstance(value, list) and all(default_matches(schema.items, item) for item in value)
    if isinstance(schema, MapSchema):
        return isinstance(value, dict) and all(default_matches(schema.values, v) for v in value.values())
    if isinstance(schema, UnionSchema):
        return any(default_matches(branch, value) for branch in schema.schemas)
    if isinstance(schema, RecordSchema):
        if not isinstance(value, dict):
            return False
        for field in cast("Sequence[Field]", schema.fields):
            if field.name in value:
                if not default_matches(field.type, value[field.name]):
                    return False
            elif not field.has_default:
                return False
        return True
    return False


# --------------------------------------------------------------------------------------------
# reader / writer compatibility


@dataclass(frozen=True)
class _Finding:
    """An incompatibility found while checking one reader/writer pair, relative to that pair."""

    rule: Rule
    path: tuple[str, ...]
    detail: str


def _qualified_aliases(schema: NamedSchema) -> set[str]:
    aliases = schema.props.get("aliases")
    if not isinstance(aliases, list):
        return set()
    namespace = schema.namespace
    return {str(Name(alias, namespace, None, validate_name=False).fullname) for alias in aliases}


def _names_match(reader: NamedSchema, writer: NamedSchema) -> bool:
    return reader.name == writer.name or writer.fullname in _qualified_aliases(reader)


def _same_kind(reader: Schema, writer: Schema) -> bool:
    if reader.type != writer.type:
        return False
    if isinstance(reader, NamedSchema) and isinstance(writer, NamedSchema):
        return _names_match(reader, writer)
    return True


def _describe(schema: Schema) -> str:
    if isinstance(schema, NamedSchema):
        return f"{schema.type} {schema.fullname}"
    if isinstance(schema, UnionSchema):
        return "union [" + ", ".join(_describe(branch) for branch in schema.schemas) + "]"
    return str(schema.type)


class _ExplainingChecker(ReaderWriterCompatibilityChecker):
    """avro's checker with the corrections listed in the module docstring.

    Every `get_compatibility` call collects the findings of its own pair in `self._found`;
    callers prefix them with the field they were checking.
    """

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._found: list[_Finding] = []
        self._explained: dict[tuple[int, int], list[_Finding]] = {}

    def get_compatibility(
        self,
        reader: Schema,
        writer: Schema,
        reference_token: str = ReaderWriterCompatibilityChecker.ROOT_REFERENCE_TOKEN,
        location: list[str] | None = None,
    ) -> SchemaCompatibilityResult:
        outer, self._found = self._found, []
        try:
            result = super().get_compatibility(reader, writer, reference_token, location)
            own = self._found
        finally:
            self._found = outer
        if result.compatibility is SchemaCompatibilityType.incompatible:
            key = (id(reader), id(writer))
            if not own:
                own = self._explained.get(key) or self._leaf_findings(reader, writer, result)
            self._explained[key] = own
            outer.extend(own)
        return result

    def calculate_compatibility(
        self, reader: Schema, writer: Schema, location: list[str]
    ) -> SchemaCompatibilityResult:
        if isinstance(reader, RecordSchema) and isinstance(writer, RecordSchema):
            result = self._name_check(reader, writer, location)
            return merge(result, self.check_reader_writer_record_fields(reader, writer, location))
        if isinstance(reader, FixedSchema) and isinstance(writer, FixedSchema):
            return self._fixed(reader, writer, location)
        if isinstance(reader, EnumSchema) and isinstance(writer, EnumSchema):
            return self._enum(reader, writer, location)
        if isinstance(reader, UnionSchema) and not isinstance(writer, UnionSchema):
            return self._reader_union(reader, writer, location)
        if reader.type == writer.type and isinstance(reader, ArraySchema | MapSchema):
            mark = len(self._found)
            result = super().calculate_compatibility(reader, writer, location)
            step = "[]" if isinstance(reader, ArraySchema) else "{}"
            self._found[mark:] = [replace(f, path=(step, *f.path)) for f in self._found[mark:]]
            return result
        return super().calculate_compatibility(reader, writer, location)

    def _name_check(
        self, reader: NamedSchema, writer: NamedSchema, location: list[str]
    ) -> SchemaCompatibilityResult:
        if _names_match(reader, writer):
            return CompatibleResult
        self._found.append(_Finding(Rule.NAME_MISMATCH, (), self._name_detail(reader, writer)))
        return incompatible(SchemaIncompatibilityType.name_mismatch, f"expected: {writer.fullname}", location)

    def _fixed(
        self, reader: FixedSchema, writer: FixedSchema, location: list[str]
    ) -> SchemaCompatibilityResult:
        result = self._name_check(reader, writer, location)
        size = check_fixed_size(reader, writer, location)
        if size.compatibility is SchemaCompatibilityType.incompatible:
            detail = f"the reader's fixed size {reader.size} differs from the writer's {writer.size}"
            self._found.append(_Finding(Rule.FIXED_SIZE_MISMATCH, (), detail))
        return merge(result, size)

    def _enum(self, reader: EnumSchema, writer: EnumSchema, location: list[str]) -> SchemaCompatibilityResult:
        result = self._name_check(reader, writer, location)
        missing = sorted(set(writer.symbols) - set(reader.symbols))
        default = reader.props.get("default")
        if missing and not (default and default in reader.symbols):
            detail = f"the reader's enum lacks the writer's symbols {missing} and has no default symbol"
            self._found.append(_Finding(Rule.MISSING_ENUM_SYMBOLS, (), detail))
            return merge(
                result, incompatible(SchemaIncompatibilityType.missing_enum_symbols, str(missing), location)
            )
        return result

    def _reader_union(
        self, reader: UnionSchema, writer: Schema, location: list[str]
    ) -> SchemaCompatibilityResult:
        mark = len(self._found)
        result = super().calculate_compatibility(reader, writer, location)
        tried = self._found[mark:]
        del self._found[mark:]
        if result.compatibility is not SchemaCompatibilityType.incompatible:
            return result
        if any(_same_kind(branch, writer) for branch in reader.schemas):
            # the branch of the writer's own kind is the one a user meant: say why it fails
            same = next(branch for branch in reader.schemas if _same_kind(branch, writer))
            self._found.extend(self._explained.get((id(same), id(writer)), tried))
        else:
            detail = f"the reader's {_describe(reader)} has no branch that reads {_describe(writer)}"
            self._found.append(_Finding(Rule.MISSING_UNION_BRANCH, (), detail))
        return result

    def check_reader_writer_record_fields(
        self, reader: RecordSchema, writer: RecordSchema, location: list[str]
    ) -> SchemaCompatibilityResult:
        result = CompatibleResult
        for index, reader_field in enumerate(cast("Sequence[Field]", reader.fields)):
            field_location = [*location, "fields", str(index)]
            writer_field = lookup_writer_field(writer_schema=writer, reader_field=reader_field)
            if writer_field is None:
                if not reader_field.has_default:
                    detail = (
                        f"the field '{reader_field.name}' has no default value "
                        f"and the writer's record {writer.fullname} has no such field"
                    )
                    self._found.append(
                        _Finding(Rule.READER_FIELD_MISSING_DEFAULT_VALUE, (reader_field.name,), detail)
                    )
                    result = merge(
                        result,
                        incompatible(
                            SchemaIncompatibilityType.reader_field_missing_default_value,
                            reader_field.name,
                            field_location,
                        ),
                    )
                continue
            mark = len(self._found)
            sub = self.get_compatibility(reader_field.type, writer_field.type, "type", field_location)
            self._found[mark:] = [
                replace(finding, path=(reader_field.name, *finding.path)) for finding in self._found[mark:]
            ]
            result = merge(result, sub)
        return result

    def _leaf_findings(
        self, reader: Schema, writer: Schema, result: SchemaCompatibilityResult
    ) -> list[_Finding]:
        if isinstance(writer, UnionSchema) and not isinstance(reader, UnionSchema):
            return []
        if isinstance(reader, UnionSchema) and isinstance(writer, UnionSchema):
            return []
        kinds = {str(kind.value).upper() for kind in result.incompatibilities}
        if Rule.TYPE_MISMATCH in kinds or not kinds:
            detail = f"the reader's {_describe(reader)} cannot read the writer's {_describe(writer)}"
            return [_Finding(Rule.TYPE_MISMATCH, (), detail)]
        return [_Finding(Rule(kind), (), "; ".join(sorted(result.messages))) for kind in sorted(kinds)]

    @staticmethod
    def _name_detail(reader: NamedSchema, writer: NamedSchema) -> str:
        return (
            f"the reader's {reader.type} name {reader.fullname} differs from the writer's "
            f"{writer.fullname}, which is not among the reader's aliases"
        )

    def explain(self, reader: Schema, writer: Schema) -> list[_Finding]:
        """Every reason why `reader` cannot read data written with `writer` (empty when it can)."""
        self._found = []
        result = self.get_compatibility(reader, writer)
        if result.compatibility is not SchemaCompatibilityType.incompatible:
            return []
        found = sorted(set(self._found), key=lambda f: (f.path, f.rule, f.detail))
        return found or [_Finding(Rule.TYPE_MISMATCH, (), "; ".join(sorted(result.messages)))]


def _dotted(path: tuple[str, ...]) -> str:
    if not path:
        return ROOT_PATH
    return "".join(step if step in ("[]", "{}") or not i else f".{step}" for i, step in enumerate(path))


def reader_writer_incompatibilities(reader: Schema, writer: Schema) -> list[tuple[str, Rule, str]]:
    """(path, rule, detail) of every reason why `reader` cannot read what `writer` wrote."""
    return [(_dotted(f.path), f.rule, f.detail) for f in _ExplainingChecker().explain(reader, writer)]


def can_read(reader: Schema, writer: Schema) -> bool:
    """True when data written with `writer` can be decoded with `reader`."""
    return not _ExplainingChecker().explain(reader, writer)


def check_compatibility(
    new_schema: str,
    existing: Sequence[tuple[int | None, str]],
    level: CompatibilityLevel,
    named_types: Mapping[str, str] | None = None,
) -> list[Incompatibility]:
    """Every reason why `new_schema` may not follow `existing` under `level` (empty: compatible).

    `existing` holds (version, schema JSON) pairs, newest first; non-transitive levels compare
    with the first one only. `named_types` maps referenced full names to their schema JSON.
    The new schema is parsed strictly, the existing ones leniently.
    Raises `InvalidSchemaError` when the new schema is not valid Avro.
    """
    new = parse_schema(new_schema, named_types, strict=True)
    if level is CompatibilityLevel.NONE or not existing:
        return []
    against = existing if level.transitive else existing[:1]
    problems: list[Incompatibility] = []
    for version, text in against:
        old = parse_schema(text, named_types, strict=False)
        label = f"version {version}" if version is not None else "the existing schema"
        if level.new_schema_reads_old:
            for path, rule, detail in reader_writer_incompatibilities(new, old):
                message = (
                    f"{rule} at '{path}': the new schema cannot read data written with {label}: {detail}"
                )
                problems.append(Incompatibility(path, rule, message, version))
        if level.old_schema_reads_new:
            for path, rule, detail in reader_writer_incompatibilities(old, new):
                message = (
                    f"{rule} at '{path}': {label} cannot read data written with the new schema: {detail}"
                )
                problems.append(Incompatibility(path, rule, message, version))
    return problems

"""Schema identity: the text Confluent's registry stores, and the equality its lookups use.

Confluent stores an Avro schema as Java Avro's `Schema.toString(referencedSchemas, false)`
(`AvroSchema.canonicalString()`), not as the text it was sent and not as the specification's
Parsing Canonical Form (which drops docs, defaults, aliases and properties, so it cannot be
stored). `canonical_schema` writes that form from the JSON, the way Java's `toJson` methods do:

* every type in a fixed property order (`type`, `name`, `namespace`, `doc`, `fields` /
  `symbols` / `size` / `items` / `values`, then the other properties in the order they were
  given, then `aliases`); fields as `name`, `type`, `doc`, `default`, `order`, `aliases`, then
  their properties;
* a dotted `name` split into name and namespace, a namespace written only where it differs
  from the enclosing one, names of known types written as references, qualified only when their
  namespace differs;
* reserved attributes Java ignores dropped, so `{"type": "int", "name": "N"}` is `"int"`;
* compact JSON with Jackson's escapes and Java's number spelling (`1.0E10`).

Referenced types (Confluent references) are known from the start, so the schema names them
instead of inlining them, as `toString(referencedSchemas, …)` does.

Two schemas are the same schema when Java's `AvroSchema.equivalent` says so: equal types, and
equal properties, defaults and aliases as unordered maps and sets. `CanonicalSchema.identity`
is a key that is equal exactly then (the canonical tree with object keys and aliases sorted).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from accord.registry_client.compatibility import InvalidSchemaError

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_NAMED = frozenset({"record", "error", "enum", "fixed"})
# Java's `Schema.Type` names: a named type called like one is always written with its namespace
_TYPE_NAMES = PRIMITIVES | {"record", "enum", "array", "map", "union", "fixed"}
_SCHEMA_RESERVED = frozenset(
    {"doc", "fields", "items", "name", "namespace", "size", "symbols", "values", "type", "aliases"}
)
_ENUM_RESERVED = _SCHEMA_RESERVED | {"default"}
_FIELD_RESERVED = frozenset({"default", "doc", "name", "order", "type", "aliases"})


@dataclass(frozen=True)
class CanonicalSchema:
    """A schema's stored text (Java's `toString()` form) and its identity key."""

    text: str
    identity: str


@dataclass(frozen=True)
class _Name:
    name: str
    space: str | None

    @classmethod
    def parse(cls, name: str, space: str | None) -> _Name:
        if "." in name:
            space, _, name = name.rpartition(".")
        return cls(name, space or None)

    @property
    def full(self) -> str:
        return f"{self.space}.{self.name}" if self.space else self.name

    def qualified(self, default_space: str | None) -> str:
        if self.space is not None and self.space == default_space and self.name not in _TYPE_NAMES:
            return self.name
        return self.full


def canonical_schema(schema: str | Any, named_types: Mapping[str, str] | None = None) -> CanonicalSchema:
    """The canonical text and identity of `schema` (JSON text or decoded JSON).

    `named_types` maps the full names of referenced types to their schema JSON. Raises
    `InvalidSchemaError` when the JSON is not shaped like an Avro schema (this is not a full
    validation: `compatibility.parse_schema` does that).
    """
    data = _load(schema)
    definitions: dict[str, tuple[_Name, dict[str, Any]]] = {}
    for text in (named_types or {}).values():
        _collect(_load(text), None, definitions)
    _collect(data, None, definitions)
    known = {_Name.parse(name, None).full for name in named_types or {}}
    tree = _Writer(definitions, set(known), sort_aliases=False).write(data, None)
    identity_tree = _Writer(definitions, set(known), sort_aliases=True).write(data, None)
    return CanonicalSchema(
        text=_java_json(tree),
        identity=json.dumps(identity_tree, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
    )


def contract_identity(metadata: Mapping[str, Any] | None, rule_set: Mapping[str, Any] | None) -> str:
    """The identity of a version's `metadata` and `ruleSet` (Confluent compares them as values)."""
    return json.dumps([metadata, rule_set], sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _load(schema: str | Any) -> Any:
    if not isinstance(schema, str):
        return schema
    try:
        return json.loads(schema)
    except json.JSONDecodeError as exc:
        raise InvalidSchemaError(f"Invalid JSON: {exc}") from exc


def _text(node: Mapping[str, Any], key: str) -> str | None:
    """An optional text attribute; Jackson's `textValue()` is null for anything but a string."""
    value = node.get(key)
    return value if isinstance(value, str) else None


def _type_of(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if not isinstance(kind, str):
        raise InvalidSchemaError(f"No type: {json.dumps(node)[:200]}")
    return kind


def _name_of(node: Mapping[str, Any], space: str | None) -> _Name:
    name = _text(node, "name")
    if name is None:
        raise InvalidSchemaError(f"No name in schema: {json.dumps(node)[:200]}")
    own_space = _text(node, "namespace")
    return _Name.parse(name, space if own_space is None else own_space)


def _collect(node: Any, space: str | None, found: dict[str, tuple[_Name, dict[str, Any]]]) -> None:
    """Every named type defined in `node`, by full name, with the name it got where defined."""
    if isinstance(node, list):
        for branch in node:
            _collect(branch, space, found)
        return
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        return
    kind = node["type"]
    if kind in _NAMED:
        name = _name_of(node, space)
        found.setdefault(name.full, (name, node))
        if kind in ("record", "error"):
            for field in node.get("fields") or ():
                if isinstance(field, dict):
                    _collect(field.get("type"), name.space, found)
    elif kind == "array":
        _collect(node.get("items"), space, found)
    elif kind == "map":
        _collect(node.get("values"), space, found)


class _Writer:
    """Java's `Schema.toJson` over decoded JSON: builds the canonical tree (dicts keep order)."""

    def __init__(
        self, definitions: Mapping[str, tuple[_Name, dict[str, Any]]], known: set[str], *, sort_aliases: bool
    ) -> None:
        self.definitions = definitions
        self.known = known
        self.sort_aliases = sort_aliases

    def write(self, node: Any, space: str | None) -> Any:
        if isinstance(node, str):
            return self._reference(node, space)
        if isinstance(node, list):
            return [self.write(branch, space) for branch in node]
        if not isinstance(node, dict):
            raise InvalidSchemaError(f"Schema not yet supported: {json.dumps(node)[:200]}")
        kind = _type_of(node)
        if kind in PRIMITIVES:
            props = _props(node, _SCHEMA_RESERVED)
            return {"type": kind, **props} if props else kind
        if kind in _NAMED:
            return self._named(_name_of(node, space), node, space)
        if kind in ("array", "map"):
            inner = "items" if kind == "array" else "values"
            if inner not in node:
                raise InvalidSchemaError(f"{kind.capitalize()} has no {inner} type: {json.dumps(node)[:200]}")
            return {"type": kind, inner: self.write(node[inner], space), **_props(node, _SCHEMA_RESERVED)}
        raise InvalidSchemaError(
            f'A schema "type" must be a primitive type or one of "enum", "fixed", "record", "error", '
            f'"array" or "map", not {json.dumps(kind)}'
        )

    def _reference(self, name: str, space: str | None) -> Any:
        if name in PRIMITIVES:
            return name
        full = name if "." in name or space is None else f"{space}.{name}"
        found = self.definitions.get(full) or self.definitions.get(name)
        if found is None:
            raise InvalidSchemaError(f"Undefined name: {json.dumps(name)}")
        defined_as, node = found
        return self._named(defined_as, node, space)

    def _named(self, name: _Name, node: dict[str, Any], space: str | None) -> Any:
        if name.full in self.known:
            return name.qualified(space)
        self.known.add(name.full)
        kind = node["type"]
        out: dict[str, Any] = {"type": kind, "name": name.name}
        if name.space is not None:
            if name.space != space:
                out["namespace"] = name.space
        elif space is not None:
            out["namespace"] = ""
        doc = _text(node, "doc")
        if doc is not None:
            out["doc"] = doc
        if kind in ("record", "error"):
            fields = node.get("fields")
            if not isinstance(fields, list):
                raise InvalidSchemaError(f"Record has no fields: {json.dumps(node)[:200]}")
            out["fields"] = [self._field(field, name.space) for field in fields]
            out.update(_props(node, _SCHEMA_RESERVED))
        elif kind == "enum":
            symbols = node.get("symbols")
            if not isinstance(symbols, list):
                raise InvalidSchemaError(f"Enum has no symbols: {json.dumps(node)[:200]}")
            out["symbols"] = symbols
            default = _text(node, "default")
            if default is not None:
                out["default"] = default
            out.update(_props(node, _ENUM_RESERVED))
        else:
            size = node.get("size")
            if not isinstance(size, int) or isinstance(size, bool):
                raise InvalidSchemaError(f"Invalid or no size: {json.dumps(node)[:200]}")
            out["size"] = size
            out.update(_props(node, _SCHEMA_RESERVED))
        aliases = _unique(_Name.parse(alias, name.space).qualified(name.space) for alias in _aliases(node))
        if aliases:
            out["aliases"] = sorted(aliases) if self.sort_aliases else aliases
        return out

    def _field(self, field: Any, space: str | None) -> dict[str, Any]:
        if not isinstance(field, dict) or _text(field, "name") is None:
            raise InvalidSchemaError(f"No field name: {json.dumps(field)[:200]}")
        if "type" not in field:
            raise InvalidSchemaError(f"No field type: {json.dumps(field)[:200]}")
        out: dict[str, Any] = {"name": field["name"], "type": self.write(field["type"], space)}
        doc = _text(field, "doc")
        if doc is not None:
            out["doc"] = doc
        if "default" in field:
            out["default"] = _default(out["type"], field["default"])
        order = _text(field, "order")
        if order is not None and order.lower() != "ascending":
            out["order"] = order.lower()
        aliases = _unique(_aliases(field))
        if aliases:
            out["aliases"] = sorted(aliases) if self.sort_aliases else aliases
        out.update(_props(field, _FIELD_RESERVED))
        return out


def _props(node: Mapping[str, Any], reserved: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key not in reserved}


def _aliases(node: Mapping[str, Any]) -> list[str]:
    aliases = node.get("aliases")
    if aliases is None:
        return []
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        raise InvalidSchemaError(f"aliases not an array of names: {json.dumps(aliases)[:200]}")
    return aliases


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _default(field_type: Any, value: Any) -> Any:
    """Java turns a textual default of a float or double field into a number."""
    kind = field_type.get("type") if isinstance(field_type, dict) else field_type
    if kind in ("float", "double") and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return number if math.isfinite(number) else value
    return value


# --------------------------------------------------------------------------------------------
# Jackson's compact JSON


_LOWER_HEX_ESCAPE = re.compile(r"(\\\\)|\\u00([0-9a-f]{2})")


def _java_json(node: Any) -> str:
    if isinstance(node, str):
        # Jackson escapes control characters with upper-case hex digits
        return _LOWER_HEX_ESCAPE.sub(
            lambda m: m.group(1) or "\\u00" + m.group(2).upper(), json.dumps(node, ensure_ascii=False)
        )
    if isinstance(node, bool) or node is None:
        return json.dumps(node)
    if isinstance(node, int):
        return str(node)
    if isinstance(node, float):
        return _java_double(node)
    if isinstance(node, list):
        return "[" + ",".join(_java_json(item) for item in node) + "]"
    if isinstance(node, dict):
        return "{" + ",".join(f"{_java_json(str(k))}:{_java_json(v)}" for k, v in node.items()) + "}"
    raise InvalidSchemaError(f"not JSON: {node!r}")


def _java_double(value: float) -> str:
    """`Double.toString`: plain between 10^-3 and 10^7, else `d.dddE±n`; shortest digits."""
    if not math.isfinite(value):
        return json.dumps(value)
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    point = len(text) + exponent  # position of the decimal point within the digits
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{text}"
        if point >= len(text):
            return f"{prefix}{text}{'0' * (point - len(text))}.0"
        return f"{prefix}{text[:point]}.{text[point:]}"
    mantissa = text[0] + "." + (text[1:] or "0")
    return f"{prefix}{mantissa}E{point - 1}"

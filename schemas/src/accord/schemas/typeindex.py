"""The named types of a catalog as the code generators see them, whatever language they write.

Both `codegen` (Python) and `codegen_ts` (TypeScript) name every record and enum after its
place in its file (`Purchase.LineItem`, `Context.Platform`), find the types a record defines
inline, and decide which record-typed fields a caller may leave out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accord.schemas.catalog import Catalog
from accord.schemas.lint import ACCORD_DEFAULT
from accord.schemas.names import NAMED_KINDS, PRIMITIVE_TYPES, full_name, own_namespace

ACCORD_DEFAULTS = frozenset({"uuid7", "now"})
"""The defaults the SDKs compute for a field marked `"accord.default"`."""


@dataclass(frozen=True)
class TypeIndex:
    """Every named type of the catalog: its qualified name and its definition; and the
    self-contained schema of each file's top-level type, by full name."""

    qualnames: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)

    def definition(self, node: Any, namespace: str | None) -> dict[str, Any] | None:
        """The definition of a named type given by name or inline, else None."""
        if isinstance(node, dict):
            return node if node.get("type") in NAMED_KINDS else None
        if isinstance(node, str) and node not in PRIMITIVE_TYPES:
            return self.definitions.get(full_name(node, namespace))
        return None

    def is_enum(self, node: Any, namespace: str | None) -> bool:
        """True when `node` is an enum, inline or by name."""
        definition = self.definition(node, namespace)
        return definition is not None and definition["type"] == "enum"

    def constructible_record(self, node: Any, namespace: str | None) -> str | None:
        """The full name of a record type whose every field has a default (so a field of that
        type may be left out and built empty), else None."""
        definition = self.definition(node, namespace)
        if definition is None or definition.get("type") not in ("record", "error"):
            return None
        inner = own_namespace(definition, namespace)
        for avro_field in definition.get("fields", []):
            has_default = "default" in avro_field or avro_field.get(ACCORD_DEFAULT) in ACCORD_DEFAULTS
            if not has_default and self.constructible_record(avro_field["type"], inner) is None:
                return None
        return full_name(str(definition["name"]), inner)


def index_catalog(catalog: Catalog) -> TypeIndex:
    """The type index of every file of `catalog`."""
    index = TypeIndex()
    for file in catalog:
        collect_types(file.schema, None, None, index)
        index.schemas[file.full_name] = catalog.self_contained(file)
    return index


def collect_types(node: Any, namespace: str | None, parent: str | None, out: TypeIndex) -> None:
    """Add every named type defined in `node` to `out`, qualified by the types around it."""
    if isinstance(node, list):
        for branch in node:
            collect_types(branch, namespace, parent, out)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in NAMED_KINDS:
        inner = own_namespace(node, namespace)
        short = str(node["name"]).rsplit(".", 1)[-1]
        qualname = f"{parent}.{short}" if parent else short
        name = full_name(str(node["name"]), inner)
        out.qualnames[name] = qualname
        out.definitions[name] = node
        for avro_field in node.get("fields", []):
            collect_types(avro_field["type"], inner, qualname, out)
    elif kind == "array":
        collect_types(node["items"], namespace, parent, out)
    elif kind == "map":
        collect_types(node["values"], namespace, parent, out)


def inline_definitions(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The records and enums a record's fields define inline (not those nested deeper)."""
    found: list[dict[str, Any]] = []

    def visit(type_node: Any) -> None:
        if isinstance(type_node, list):
            for branch in type_node:
                visit(branch)
        elif isinstance(type_node, dict):
            if type_node.get("type") in ("record", "error", "enum"):
                found.append(type_node)
            elif type_node.get("type") == "array":
                visit(type_node["items"])
            elif type_node.get("type") == "map":
                visit(type_node["values"])

    for avro_field in node.get("fields", []):
        visit(avro_field["type"])
    return found

"""Avro named types inside a schema's JSON: which ones it defines and which it uses by name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PRIMITIVE_TYPES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED_KINDS = frozenset({"record", "error", "enum", "fixed"})


def full_name(name: str, namespace: str | None) -> str:
    """The full name of `name` seen in `namespace`, as the Avro specification resolves it."""
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def own_namespace(node: dict[str, Any], enclosing: str | None) -> str | None:
    """The namespace a named type's definition sets for the names inside it."""
    name = str(node.get("name", ""))
    if "." in name:
        return name.rsplit(".", 1)[0]
    namespace = node.get("namespace", enclosing)
    return namespace if isinstance(namespace, str) and namespace else None


def join_place(place: str, part: str) -> str:
    """Extend a dotted field path."""
    return f"{place}.{part}" if place else part


@dataclass(frozen=True)
class NameUse:
    """A named type defined (`defined=True`) or referred to by name at a field path."""

    full_name: str
    place: str
    defined: bool


def walk_names(node: Any, namespace: str | None = None, place: str = "") -> Iterator[NameUse]:
    """Every definition of, and reference to, a named type in `node`, in the order Avro parses them.

    Malformed parts are skipped: the Avro parser reports them with its own message.
    """
    if isinstance(node, str):
        if node not in PRIMITIVE_TYPES:
            yield NameUse(full_name(node, namespace), place, defined=False)
    elif isinstance(node, list):
        for branch in node:
            yield from walk_names(branch, namespace, place)
    elif isinstance(node, dict):
        kind = node.get("type")
        if kind in NAMED_KINDS and isinstance(node.get("name"), str):
            inner = own_namespace(node, namespace)
            yield NameUse(full_name(node["name"], inner), place, defined=True)
            fields = node.get("fields") if kind in ("record", "error") else None
            for field in fields if isinstance(fields, list) else []:
                if isinstance(field, dict) and isinstance(field.get("name"), str):
                    yield from walk_names(field.get("type"), inner, join_place(place, field["name"]))
        elif kind == "array":
            yield from walk_names(node.get("items"), namespace, place + "[]")
        elif kind == "map":
            yield from walk_names(node.get("values"), namespace, place + "{}")
        else:
            yield from walk_names(kind, namespace, place)

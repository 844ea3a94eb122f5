"""Self-contained schemas: referenced named types inlined where they are first used.

fastavro and Spark's `from_avro` take one schema with every named type defined in it; the
registry stores references to other subjects instead.
"""

from __future__ import annotations

from typing import Any

_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_KEYWORDS = _PRIMITIVES | {"record", "enum", "fixed", "error", "array", "map"}


def inline_references(schema: Any, definitions: dict[str, Any]) -> Any:
    """Replace the first use of each referenced full name by its definition (later uses stay names)."""
    placed: set[str] = set()

    def full_name(name: str, namespace: str | None) -> str:
        return name if "." in name or not namespace else f"{namespace}.{name}"

    def walk(node: Any, namespace: str | None) -> Any:
        if isinstance(node, str):
            if node in _PRIMITIVES:
                return node
            name = full_name(node, namespace)
            target = name if name in definitions else node
            if target in definitions and target not in placed:
                placed.add(target)
                return walk(definitions[target], None)
            return node
        if isinstance(node, list):
            return [walk(item, namespace) for item in node]
        if isinstance(node, dict):
            inner = namespace
            if node.get("type") in ("record", "enum", "fixed", "error") and "name" in node:
                declared = str(node["name"])
                inner = declared.rpartition(".")[0] if "." in declared else node.get("namespace", namespace)
                placed.add(full_name(declared, inner))
            copy = dict(node)
            if "fields" in copy:
                copy["fields"] = [{**f, "type": walk(f["type"], inner)} for f in copy["fields"]]
            for key in ("items", "values"):
                if key in copy:
                    copy[key] = walk(copy[key], inner)
            if isinstance(copy.get("type"), dict | list) or (
                isinstance(copy.get("type"), str) and copy["type"] not in _KEYWORDS
            ):
                copy["type"] = walk(copy["type"], inner)
            return copy
        return node

    return walk(schema, None)

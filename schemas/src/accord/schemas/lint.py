"""`accord schemas lint`: the contract rules every `.avsc` file follows.

| rule | what it asks |
| --- | --- |
| missing-doc | every record, enum, fixed and field has a non-empty `doc` |
| optional-field | a union with null is exactly `["null", T]` with `"default": null` |
| enum-default | every enum declares a `default` symbol, so readers survive new symbols |
| money-float | money (amount, price, value, ...) is a decimal, never float or double |
| decimal-shape | a decimal is on bytes or fixed, with a precision and a scale |
| field-snake-case | field names are snake_case |
| type-pascal-case | record, enum and fixed names are PascalCase |
| enum-symbol-case | enum symbols are UPPER_SNAKE_CASE |
| namespace-folder | the namespace matches the folder (`accord/events/` holds `accord.events`) |
| file-name | the file is named after its type (`PageView.avsc` holds `PageView`) |
| event-envelope | an event's first field is `envelope: accord.common.Envelope` |
| accord-default | `accord.default` is `uuid7` on a uuid string or `now` on a timestamp-millis long |
| rule-field | every `message.<field>` a data-contract rule (`.rules.json`) reads is a field of the record |

A `.rules.json` whose rules do not compile (CEL) is reported as `invalid-rule` when loading.

Files that cannot be loaded at all (bad JSON, invalid Avro, dangling reference, duplicate
name) are reported with the same `file:place: rule: message` format.

Other components check their own files against the contracts through the `accord.lint`
entry-point group: each entry is a function `(Catalog) -> list[Finding]` (Gold's checks the
experiments file's metrics), found with `importlib.metadata`, so this component imports none
of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from pathlib import Path, PurePosixPath
from typing import Any

from accord.registry_client.contract_rules import condition_rules
from accord.schemas.catalog import Catalog, SchemaFile, load_catalog
from accord.schemas.errors import SchemaFilesError
from accord.schemas.findings import Finding
from accord.schemas.names import NAMED_KINDS, join_place
from accord.wire.naming import EVENTS_TOPIC

ENVELOPE_TYPE = "accord.common.Envelope"
ACCORD_DEFAULT = "accord.default"

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_PASCAL = re.compile(r"^[A-Z][a-zA-Z0-9]*$")
_UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
_MONEY_WORDS = frozenset(
    {"amount", "price", "revenue", "cost", "total", "subtotal", "tax", "discount", "fee", "value", "refund"}
)
_ACCORD_DEFAULTS = {"uuid7": ("string", "uuid"), "now": ("long", "timestamp-millis")}


def lint_directory(root: Path, topic: str = EVENTS_TOPIC) -> list[Finding]:
    """Every rule violation of the `.avsc` files below `root`, load problems included."""
    try:
        catalog = load_catalog(root, topic)
    except SchemaFilesError as exc:
        return exc.findings
    return lint_catalog(catalog)


LINT_HOOKS = "accord.lint"
"""Entry-point group of the checks other components run against the loaded contracts."""


def hook_findings(catalog: Catalog) -> list[Finding]:
    """What every installed `accord.lint` hook finds against `catalog`, sorted."""
    findings: list[Finding] = []
    for entry in entry_points(group=LINT_HOOKS):
        hook: Callable[[Catalog], list[Finding]] = entry.load()
        findings.extend(hook(catalog))
    return sorted(findings)


def lint_catalog(catalog: Catalog) -> list[Finding]:
    """Every rule violation of the files of a loaded catalog, sorted by file and place."""
    findings: list[Finding] = []
    for file in catalog:
        findings.extend(_file_findings(file))
        if file.rule_set is not None:
            findings.extend(_rule_field_findings(catalog, file))
    return sorted(findings)


def _rule_field_findings(catalog: Catalog, file: SchemaFile) -> Iterator[Finding]:
    schema = catalog.self_contained(file)
    for rule in condition_rules(file.rule_set):
        for path in rule.fields:
            if not _has_field(schema, path.split(".")):
                yield Finding(
                    file.path,
                    rule.name,
                    "rule-field",
                    f"rule {rule.name!r} reads message.{path}, which {file.name} does not have",
                )


def _has_field(schema: Any, path: list[str]) -> bool:
    """True when the record `schema` (or a non-null branch of a union) has the field path."""
    if not path:
        return True
    branches = schema if isinstance(schema, list) else [schema]
    for branch in branches:
        if isinstance(branch, dict) and branch.get("type") == "record":
            field = next((f for f in branch["fields"] if f["name"] == path[0]), None)
            if field is not None and _has_field(field["type"], path[1:]):
                return True
    return False


def _file_findings(file: SchemaFile) -> Iterator[Finding]:
    rel = PurePosixPath(file.relative_path)
    folder_namespace = ".".join(rel.parent.parts)
    if file.namespace != folder_namespace:
        yield Finding(
            file.path,
            file.name,
            "namespace-folder",
            f"namespace '{file.namespace}' does not match the folder '{rel.parent}' "
            f"(expected '{folder_namespace}')",
        )
    if rel.stem != file.name:
        yield Finding(file.path, file.name, "file-name", f"file holds {file.name}; name it {file.name}.avsc")
    if file.is_event:
        yield from _envelope_findings(file)
    yield from _type_findings(file, file.schema, "")


def _envelope_findings(file: SchemaFile) -> Iterator[Finding]:
    fields = file.schema.get("fields") or [{}]
    first = fields[0]
    if first.get("name") != "envelope" or first.get("type") != ENVELOPE_TYPE:
        yield Finding(
            file.path,
            file.name,
            "event-envelope",
            f"an event's first field must be `envelope` of type {ENVELOPE_TYPE}",
        )


def _type_findings(file: SchemaFile, node: Any, place: str) -> Iterator[Finding]:
    if isinstance(node, list):
        for branch in node:
            yield from _type_findings(file, branch, place)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind in NAMED_KINDS:
        yield from _named_findings(file, node, place or file.name)
    elif kind == "array":
        yield from _type_findings(file, node.get("items"), place + "[]")
    elif kind == "map":
        yield from _type_findings(file, node.get("values"), place + "{}")
    if node.get("logicalType") == "decimal":
        yield from _decimal_findings(file, node, place or file.name)


def _named_findings(file: SchemaFile, node: dict[str, Any], place: str) -> Iterator[Finding]:
    name = str(node["name"]).rsplit(".", 1)[-1]
    kind = node["type"]
    if not _PASCAL.match(name):
        yield Finding(file.path, place, "type-pascal-case", f"{kind} name '{name}' is not PascalCase")
    if not _has_doc(node):
        yield Finding(file.path, place, "missing-doc", f"{kind} {name} has no doc")
    if kind == "enum":
        yield from _enum_findings(file, node, place)
    for field in node.get("fields", []) if kind in ("record", "error") else []:
        yield from _field_findings(
            file, field, join_place("" if place == file.name else place, field["name"])
        )


def _enum_findings(file: SchemaFile, node: dict[str, Any], place: str) -> Iterator[Finding]:
    if "default" not in node:
        yield Finding(
            file.path,
            place,
            "enum-default",
            f"enum {node['name']} declares no default symbol; readers fail on symbols added later",
        )
    for symbol in node.get("symbols", []):
        if not _UPPER_SNAKE.match(symbol):
            yield Finding(
                file.path, place, "enum-symbol-case", f"enum symbol '{symbol}' is not UPPER_SNAKE_CASE"
            )


def _field_findings(file: SchemaFile, field: dict[str, Any], place: str) -> Iterator[Finding]:
    name = field["name"]
    if not _SNAKE.match(name):
        yield Finding(file.path, place, "field-snake-case", f"field name '{name}' is not snake_case")
    if not _has_doc(field):
        yield Finding(file.path, place, "missing-doc", f"field {name} has no doc")
    kind = field["type"]
    if isinstance(kind, list) and "null" in kind:
        if len(kind) != 2 or kind[0] != "null":
            yield Finding(
                file.path, place, "optional-field", 'an optional field is ["null", T]: null first, one type'
            )
        elif "default" not in field or field["default"] is not None:
            yield Finding(file.path, place, "optional-field", 'an optional field has `"default": null`')
    if _is_money(name) and _float_branch(kind):
        yield Finding(
            file.path,
            place,
            "money-float",
            f"money field {name} is a {_float_branch(kind)}; use a decimal (bytes, logicalType decimal)",
        )
    if ACCORD_DEFAULT in field:
        yield from _accord_default_findings(file, field, place)
    yield from _type_findings(file, kind, place)


def _accord_default_findings(file: SchemaFile, field: dict[str, Any], place: str) -> Iterator[Finding]:
    expected = _ACCORD_DEFAULTS.get(field[ACCORD_DEFAULT])
    kind = field["type"]
    actual = (kind.get("type"), kind.get("logicalType")) if isinstance(kind, dict) else (kind, None)
    if expected is None:
        yield Finding(
            file.path,
            place,
            "accord-default",
            f"unknown accord.default '{field[ACCORD_DEFAULT]}'; use one of {', '.join(_ACCORD_DEFAULTS)}",
        )
    elif actual != expected:
        yield Finding(
            file.path,
            place,
            "accord-default",
            f"accord.default '{field[ACCORD_DEFAULT]}' needs a {expected[0]} with logicalType {expected[1]}",
        )


def _decimal_findings(file: SchemaFile, node: dict[str, Any], place: str) -> Iterator[Finding]:
    if node.get("type") not in ("bytes", "fixed"):
        yield Finding(
            file.path, place, "decimal-shape", f"a decimal is on bytes or fixed, not {node.get('type')}"
        )
    if not isinstance(node.get("precision"), int) or not isinstance(node.get("scale", 0), int):
        yield Finding(file.path, place, "decimal-shape", "a decimal declares an integer precision and scale")


def _has_doc(node: dict[str, Any]) -> bool:
    doc = node.get("doc")
    return isinstance(doc, str) and bool(doc.strip())


def _is_money(name: str) -> bool:
    return name in _MONEY_WORDS or name.rsplit("_", 1)[-1] in _MONEY_WORDS


def _float_branch(kind: Any) -> str | None:
    branches = kind if isinstance(kind, list) else [kind]
    for branch in branches:
        primitive = branch.get("type") if isinstance(branch, dict) else branch
        if primitive in ("float", "double"):
            return str(primitive)
    return None

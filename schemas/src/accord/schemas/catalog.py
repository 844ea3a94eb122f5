"""The `.avsc` contracts of a directory: loaded, validated, ordered by dependency, made self-contained.

Every file holds one top-level named type; it may define types inline (they belong to it) and
use the top-level types of other files by full name, which become Confluent references. A type
in the `accord.events` namespace is an event, registered under the TopicRecordNameStrategy
subject `<topic>-<full name>`; any other file is a shared type, registered under its full name.

The data-contract rules of a type sit beside its file: `Purchase.rules.json` next to
`Purchase.avsc` holds the schema's `ruleSet` in Confluent's shape (`{"domainRules": [...]}`),
registered with it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from accord.registry_client import inline_references
from accord.registry_client.compatibility import InvalidSchemaError, parse_schema
from accord.registry_client.contract_rules import compile_problems
from accord.schemas.errors import SchemaFilesError
from accord.schemas.findings import Finding
from accord.schemas.names import NAMED_KINDS, walk_names
from accord.wire.naming import EVENTS_TOPIC, event_subject

EVENTS_NAMESPACE = "accord.events"
SCHEMA_SUFFIX = ".avsc"
RULES_SUFFIX = ".rules.json"
CONTRACT_SUFFIXES = (SCHEMA_SUFFIX, RULES_SUFFIX)


@dataclass(frozen=True)
class SchemaFile:
    """One `.avsc` file: its path, its decoded JSON and the named types it defines and uses."""

    path: str
    """Path as shown to users, relative to the working directory when possible."""
    relative_path: str
    """Path relative to the schemas root, e.g. `accord/events/PageView.avsc`."""
    schema: dict[str, Any]
    defines: tuple[str, ...]
    references: tuple[str, ...]
    """Full names of the top-level types of other files this one uses, in first-use order."""
    rule_set: dict[str, Any] | None = None
    """The schema's `ruleSet` from the `.rules.json` beside it, None when there is none."""

    @property
    def full_name(self) -> str:
        """Full name of the file's top-level type."""
        return self.defines[0]

    @property
    def name(self) -> str:
        """Short name of the file's top-level type."""
        return self.full_name.rsplit(".", 1)[-1]

    @property
    def namespace(self) -> str:
        """Namespace of the file's top-level type ('' when it has none)."""
        return self.full_name.rsplit(".", 1)[0] if "." in self.full_name else ""

    @property
    def is_event(self) -> bool:
        """True for event types, which travel on the events topic."""
        return self.namespace == EVENTS_NAMESPACE

    @property
    def text(self) -> str:
        """The schema as registered: compact JSON, other files' types used by name."""
        return json.dumps(self.schema, separators=(",", ":"))


class Catalog:
    """A validated set of schema files, in dependency order (referenced types first)."""

    def __init__(self, files: Iterable[SchemaFile], topic: str = EVENTS_TOPIC) -> None:
        self.files = tuple(files)
        self.topic = topic
        self._by_name = {file.full_name: file for file in self.files}

    def __iter__(self) -> Iterator[SchemaFile]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def get(self, full_name: str) -> SchemaFile | None:
        """The file whose top-level type is `full_name`."""
        return self._by_name.get(full_name)

    def require(self, full_name: str) -> SchemaFile:
        """The file whose top-level type is `full_name`; `KeyError` when there is none."""
        return self._by_name[full_name]

    def by_subject(self, subject: str) -> SchemaFile | None:
        """The file registered under `subject`."""
        return self._by_subject.get(subject)

    @cached_property
    def _by_subject(self) -> dict[str, SchemaFile]:
        return {self.subject(file): file for file in self.files}

    @property
    def events(self) -> list[SchemaFile]:
        """The event files, in dependency order."""
        return [file for file in self.files if file.is_event]

    def subject(self, file: SchemaFile) -> str:
        """The registry subject of `file` (TopicRecordNameStrategy for events)."""
        return event_subject(file.full_name, self.topic) if file.is_event else file.full_name

    def self_contained(self, file: SchemaFile) -> dict[str, Any]:
        """`file`'s schema with every referenced type defined inline at its first use."""
        definitions = {name: other.schema for name, other in self._by_name.items()}
        inlined: dict[str, Any] = inline_references(file.schema, definitions)
        return inlined


def display_path(path: Path) -> str:
    """`path` relative to the working directory when it is below it, else as given."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


def read_schema_texts(root: Path) -> dict[str, str]:
    """The text of every `.avsc` and `.rules.json` file below `root`, by path relative to `root` (sorted)."""
    paths = sorted(path for suffix in CONTRACT_SUFFIXES for path in root.rglob(f"*{suffix}"))
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8") for path in paths}


def _rule_sets(
    texts: Mapping[str, str], shown_as: Callable[[str], str], findings: list[Finding]
) -> dict[str, dict[str, Any]]:
    """The rule sets of the texts, by the path of the `.avsc` they belong to."""
    found: dict[str, dict[str, Any]] = {}
    for rel, text in texts.items():
        if not rel.endswith(RULES_SUFFIX):
            continue
        shown, schema_path = shown_as(rel), rel.removesuffix(RULES_SUFFIX) + SCHEMA_SUFFIX
        if schema_path not in texts:
            findings.append(
                Finding(shown, "-", "orphan-rules", f"no {PurePosixPath(schema_path).name} beside it")
            )
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            findings.append(Finding(shown, f"{exc.lineno}:{exc.colno}", "invalid-json", exc.msg))
            continue
        problems = compile_problems(data)
        findings.extend(Finding(shown, "ruleSet", "invalid-rule", problem) for problem in problems)
        if not problems:
            found[schema_path] = data
    return found


def load_catalog(root: Path, topic: str = EVENTS_TOPIC) -> Catalog:
    """Load and validate every `.avsc` file below `root`.

    Raises `SchemaFilesError` with every problem found (bad JSON, not a named type, duplicate
    name, dangling reference, reference cycle, invalid Avro) so nothing is used half-valid.
    """
    if not root.is_dir():
        raise SchemaFilesError([Finding(str(root), "-", "missing-directory", "no schema directory here")])
    texts = read_schema_texts(root)
    return load_texts(texts, topic, shown_as=lambda rel: display_path(root / rel))


def load_texts(
    texts: Mapping[str, str], topic: str = EVENTS_TOPIC, shown_as: Callable[[str], str] = str
) -> Catalog:
    """Load schema files given as {path relative to the root: text}; see `load_catalog`."""
    findings: list[Finding] = []
    decoded: list[tuple[str, str, dict[str, Any]]] = []
    rule_sets = _rule_sets(texts, shown_as, findings)
    for rel, text in texts.items():
        if not rel.endswith(SCHEMA_SUFFIX):
            continue
        shown = shown_as(rel)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            findings.append(Finding(shown, f"{exc.lineno}:{exc.colno}", "invalid-json", exc.msg))
            continue
        if not (
            isinstance(data, dict) and data.get("type") in NAMED_KINDS and isinstance(data.get("name"), str)
        ):
            findings.append(
                Finding(shown, "-", "not-a-named-type", "the file must hold one record, enum or fixed type")
            )
            continue
        decoded.append((shown, rel, data))
    files = [
        replace(file, rule_set=rule_sets.get(file.relative_path)) for file in _describe(decoded, findings)
    ]
    ordered = _dependency_order(files, findings)
    if not findings:
        findings.extend(_avro_findings(Catalog(ordered, topic)))
    if findings:
        raise SchemaFilesError(sorted(findings))
    return Catalog(ordered, topic)


def _describe(decoded: list[tuple[str, str, dict[str, Any]]], findings: list[Finding]) -> list[SchemaFile]:
    definitions: dict[str, str] = {}
    described: list[tuple[str, str, dict[str, Any], list[str], list[tuple[str, str]]]] = []
    for shown, rel, data in decoded:
        defines: list[str] = []
        uses: list[tuple[str, str]] = []
        for use in walk_names(data):
            if not use.defined:
                uses.append((use.full_name, use.place))
                continue
            place = use.place or str(data["name"])
            if use.full_name in definitions:
                findings.append(
                    Finding(
                        shown,
                        place,
                        "duplicate-name",
                        f"{use.full_name} is already defined in {definitions[use.full_name]}",
                    )
                )
                continue
            definitions[use.full_name] = shown
            defines.append(use.full_name)
        described.append((shown, rel, data, defines, uses))
    top_level = {defines[0]: shown for shown, _, _, defines, _ in described if defines}
    files: list[SchemaFile] = []
    for shown, rel, data, defines, uses in described:
        if not defines:
            continue
        references: list[str] = []
        for name, place in uses:
            if name in defines or name in references:
                continue
            if name in top_level:
                references.append(name)
            elif name in definitions:
                findings.append(
                    Finding(
                        shown,
                        place,
                        "dangling-reference",
                        f"{name} is defined inside {definitions[name]}, not as its own file; "
                        "move it to its own .avsc to share it",
                    )
                )
            else:
                findings.append(
                    Finding(shown, place, "dangling-reference", f"unknown type {name}: no .avsc defines it")
                )
        files.append(SchemaFile(shown, rel, data, tuple(defines), tuple(references)))
    return files


def _dependency_order(files: list[SchemaFile], findings: list[Finding]) -> list[SchemaFile]:
    by_name = {file.full_name: file for file in files}
    ordered: list[SchemaFile] = []
    state: dict[str, str] = {}

    def visit(file: SchemaFile, chain: tuple[str, ...]) -> None:
        if state.get(file.full_name) == "done":
            return
        if state.get(file.full_name) == "visiting":
            cycle = " -> ".join((*chain[chain.index(file.full_name) :], file.full_name))
            findings.append(
                Finding(file.path, file.name, "reference-cycle", f"files reference each other: {cycle}")
            )
            return
        state[file.full_name] = "visiting"
        for name in file.references:
            if name in by_name:
                visit(by_name[name], (*chain, file.full_name))
        state[file.full_name] = "done"
        ordered.append(file)

    for file in sorted(files, key=lambda f: f.relative_path):
        visit(file, ())
    return ordered


def _avro_findings(catalog: Catalog) -> list[Finding]:
    findings: list[Finding] = []
    for file in catalog:
        try:
            parse_schema(catalog.self_contained(file), strict=True)
        except InvalidSchemaError as exc:
            findings.append(Finding(file.path, file.name, "invalid-avro", str(exc)))
    return findings

"""`accord schemas register` and `check --registry` against a real registry on a real broker."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from accord.registry.testing import RegistryHandle
from accord.registry_client import (
    CompatibilityLevel,
    IncompatibleSchemaError,
    RegistryClient,
    SubjectNotFoundError,
)
from accord.schemas.catalog import load_catalog
from accord.schemas.levels import load_levels
from accord.schemas.settings import SchemasSettings

from .conftest import SchemaTree

pytestmark = pytest.mark.integration

PAGE_VIEW = "accord/events/PageView.avsc"


@pytest.fixture
def topic(monkeypatch: pytest.MonkeyPatch) -> str:
    """A topic of its own, so this test's event subjects start empty in the shared registry."""
    name = f"events-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ACCORD_EVENTS_TOPIC", name)
    return name


def rows(result: Result, marker: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if marker in line]


def add_search_event(tree: SchemaTree) -> None:
    search = tree.read(PAGE_VIEW)
    search.update(name="Search", doc="A user searched.", fields=search["fields"][:2])
    tree.write("accord/events/Search.avsc", search)


def test_register_is_idempotent_and_uses_references(
    registry_server: RegistryHandle, topic: str, schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    first = accord("schemas", "register", "--registry", registry_server.url)
    assert first.exit_code == 0, first.output
    event_rows = rows(first, f"{topic}-accord.events.")
    assert len(event_rows) == 6
    assert all("registered" in row for row in event_rows)

    second = accord("schemas", "register", "--registry", registry_server.url)
    assert second.exit_code == 0, second.output
    assert "registered" not in second.stdout.replace("registered schemas", "")
    assert len(rows(second, "unchanged")) == 8

    client = RegistryClient(registry_server.url)
    latest = client.latest(f"{topic}-accord.events.PageView")
    assert latest.version == 1
    [reference] = latest.references
    envelope = client.latest("accord.common.Envelope")
    assert (reference.name, reference.subject, reference.version) == (
        "accord.common.Envelope",
        "accord.common.Envelope",
        envelope.version,
    )
    [context_reference] = envelope.references
    assert context_reference.subject == "accord.common.Context"
    catalog = load_catalog(schema_tree.root, topic)
    page_view = catalog.require("accord.events.PageView")
    assert client.resolved_schema(latest.id) == catalog.self_contained(page_view)


def test_invalid_file_registers_nothing(
    registry_server: RegistryHandle, topic: str, schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    add_search_event(schema_tree)
    schema_tree.edit("accord/events/Signup.avsc", lambda s: s["fields"][0].update(type="accord.common.Nope"))
    result = accord("schemas", "register", "--registry", registry_server.url)
    assert result.exit_code == 1
    assert "Signup.avsc:envelope: dangling-reference: unknown type accord.common.Nope" in result.output
    with pytest.raises(SubjectNotFoundError):
        RegistryClient(registry_server.url).versions(f"{topic}-accord.events.Search")


def test_breaking_change_registers_nothing_and_names_the_field(
    registry_server: RegistryHandle, topic: str, schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    assert accord("schemas", "register", "--registry", registry_server.url).exit_code == 0
    add_search_event(schema_tree)

    def add_required(schema: dict[str, Any]) -> None:
        schema["fields"].append({"name": "section", "type": "string", "doc": "Site section."})

    schema_tree.edit(PAGE_VIEW, add_required)
    result = accord("schemas", "register", "--registry", registry_server.url)
    assert result.exit_code == 1
    assert "nothing registered" in result.output
    assert "READER_FIELD_MISSING_DEFAULT_VALUE at 'section'" in result.output
    with pytest.raises(SubjectNotFoundError):
        RegistryClient(registry_server.url).versions(f"{topic}-accord.events.Search")


def declare_shared_levels(url: str) -> None:
    """Give the shared types (one subject for the whole session) their declared level."""
    levels = load_levels(SchemasSettings().compatibility_file)
    client = RegistryClient(url)
    for shared in ("accord.common.Envelope", "accord.common.Context"):
        client.set_subject_level(shared, levels.level(shared))


def test_check_against_the_registry(
    registry_server: RegistryHandle, topic: str, schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    declare_shared_levels(registry_server.url)
    before = accord("schemas", "check", "--registry", registry_server.url)
    assert before.exit_code == 0, before.output
    assert len(rows(before, " new ")) >= 6

    assert accord("schemas", "register", "--registry", registry_server.url).exit_code == 0
    schema_tree.edit(
        PAGE_VIEW,
        lambda s: s["fields"].append(
            {"name": "section", "type": ["null", "string"], "default": None, "doc": "Site section."}
        ),
    )
    compatible = accord("schemas", "check", "--registry", registry_server.url)
    assert compatible.exit_code == 0, compatible.output
    [page_view] = rows(compatible, f"{topic}-accord.events.PageView")
    assert "version 1" in page_view
    assert "compatible" in page_view

    schema_tree.edit(PAGE_VIEW, lambda s: s["fields"][-1].update(type="string", default=None))
    schema_tree.edit(PAGE_VIEW, lambda s: s["fields"][-1].pop("default"))
    breaking = accord("schemas", "check", "--registry", registry_server.url)
    assert breaking.exit_code == 1
    [line] = [line for line in breaking.stdout.splitlines() if ".avsc:" in line]
    assert line.startswith(f"{schema_tree.path(PAGE_VIEW)}:section: READER_FIELD_MISSING_DEFAULT_VALUE: ")
    assert "version 1" in line


@pytest.fixture
def levels_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, topic: str) -> Path:
    """compatibility.json for this test: FULL_TRANSITIVE, PageView FORWARD."""
    path = tmp_path / "compatibility.json"
    page_view = f"{topic}-accord.events.PageView"
    path.write_text(json.dumps({"default": "FULL_TRANSITIVE", "subjects": {page_view: "FORWARD"}}))
    monkeypatch.setenv("ACCORD_COMPATIBILITY_FILE", str(path))
    return path


def test_register_sets_each_subjects_declared_level_once(
    registry_server: RegistryHandle,
    topic: str,
    levels_file: Path,
    accord: Callable[..., Result],
) -> None:
    first = accord("schemas", "register", "--registry", registry_server.url)
    assert first.exit_code == 0, first.output
    client = RegistryClient(registry_server.url)
    assert client.subject_level(f"{topic}-accord.events.PageView") is CompatibilityLevel.FORWARD
    assert client.subject_level(f"{topic}-accord.events.Signup") is CompatibilityLevel.FULL_TRANSITIVE
    assert all("(set)" in row for row in rows(first, f"{topic}-accord.events."))

    second = accord("schemas", "register", "--registry", registry_server.url)
    assert second.exit_code == 0, second.output
    assert "(set)" not in second.stdout

    # a producer registering on its own is now judged like CI: dropping a required field is
    # BACKWARD compatible (the registry's default) but not FULL_TRANSITIVE
    subject = f"{topic}-accord.events.Signup"
    latest = client.latest(subject)
    data = json.loads(latest.schema)
    required = next(f for f in data["fields"][1:] if "default" not in f)
    data["fields"].remove(required)
    with pytest.raises(IncompatibleSchemaError):
        client.register(subject, json.dumps(data), latest.references)


def test_check_against_the_registry_reports_a_level_that_differs_from_the_file(
    registry_server: RegistryHandle,
    topic: str,
    levels_file: Path,
    accord: Callable[..., Result],
) -> None:
    declare_shared_levels(registry_server.url)
    assert accord("schemas", "register", "--registry", registry_server.url).exit_code == 0
    assert accord("schemas", "check", "--registry", registry_server.url).exit_code == 0

    page_view = f"{topic}-accord.events.PageView"
    RegistryClient(registry_server.url).set_subject_level(page_view, CompatibilityLevel.BACKWARD)
    drifted = accord("schemas", "check", "--registry", registry_server.url)
    assert drifted.exit_code == 1
    [finding] = [line for line in drifted.stdout.splitlines() if "level-mismatch" in line]
    assert finding.startswith(f"{levels_file}:{page_view}: level-mismatch: ")
    assert "judges" in finding
    assert "at BACKWARD" in finding
    assert "declares FORWARD" in finding

    assert accord("schemas", "register", "--registry", registry_server.url).exit_code == 0
    assert accord("schemas", "check", "--registry", registry_server.url).exit_code == 0


def test_register_sends_the_rules_and_a_rule_change_is_a_new_version(
    registry_server: RegistryHandle, topic: str, schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    rules_file = "accord/events/Purchase.rules.json"
    subject = f"{topic}-accord.events.Purchase"
    assert accord("schemas", "register", "--registry", registry_server.url).exit_code == 0
    client = RegistryClient(registry_server.url)
    first = client.latest(subject)
    assert first.rule_set == schema_tree.read(rules_file)
    assert client.schema_by_id(first.id).rule_set == first.rule_set

    schema_tree.edit(rules_file, lambda r: r["domainRules"].pop(1))
    check = accord("schemas", "check", "--registry", registry_server.url)
    assert "rule-change: removes rule 'currency_code'" in check.stdout
    again = accord("schemas", "register", "--registry", registry_server.url)
    assert again.exit_code == 0, again.output
    # a fresh client: the first one keeps the latest version cached
    second = RegistryClient(registry_server.url).latest(subject)
    assert (second.version, second.rule_set) == (first.version + 1, schema_tree.read(rules_file))
    assert second.id != first.id
    assert accord("schemas", "register", "--registry", registry_server.url).exit_code == 0
    assert RegistryClient(registry_server.url).latest(subject).version == second.version

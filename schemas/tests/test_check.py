"""`accord schemas check --against REF`: every verdict, read from a real git repository."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from accord.registry_client.compatibility import CompatibilityLevel
from accord.schemas.errors import CompatibilityFileError
from accord.schemas.levels import load_levels

from .conftest import SchemaTree

pytestmark = pytest.mark.unit

PAGE_VIEW = "accord/events/PageView.avsc"
PURCHASE = "accord/events/Purchase.avsc"
SIGNUP = "accord/events/Signup.avsc"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Accord Tests", "-c", "user.email=tests@accord.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(schema_tree: SchemaTree, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str] | None], None]:
    """Turn the schema tree's parent into a git repository; calling it commits the current files."""
    root = schema_tree.root.parent
    levels = root / "compatibility.json"
    monkeypatch.setenv("ACCORD_COMPATIBILITY_FILE", str(levels))
    git(root, "init", "-q", "-b", "main")

    def commit(subject_levels: dict[str, str] | None = None) -> None:
        levels.write_text(json.dumps({"default": "FULL_TRANSITIVE", "subjects": subject_levels or {}}))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "schemas")

    return commit


def check(accord: Callable[..., Result]) -> Result:
    return accord("schemas", "check", "--against", "main")


def breaking_lines(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if ".avsc:" in line]


def test_unchanged_schemas_are_compatible(repo: Callable[..., None], accord: Callable[..., Result]) -> None:
    repo()
    result = check(accord)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("compatible") == 8
    assert breaking_lines(result) == []


def test_adding_an_optional_field_passes(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    repo()
    schema_tree.edit(
        PAGE_VIEW,
        lambda s: s["fields"].append(
            {"name": "section", "type": ["null", "string"], "default": None, "doc": "Site section."}
        ),
    )
    result = check(accord)
    assert result.exit_code == 0, result.output
    assert breaking_lines(result) == []


def test_removing_a_required_field_fails_naming_field_and_rule(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    repo()
    schema_tree.edit(PAGE_VIEW, lambda s: s["fields"].pop(1))
    result = check(accord)
    assert result.exit_code == 1
    [line] = breaking_lines(result)
    assert line.startswith(f"{schema_tree.path(PAGE_VIEW)}:url: READER_FIELD_MISSING_DEFAULT_VALUE: ")
    assert "cannot read data written with the new schema" in line
    assert "1 subject(s) break their compatibility level" in result.stderr


def test_adding_a_required_field_fails_under_backward(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    repo({"events-accord.events.PageView": "BACKWARD"})
    schema_tree.edit(
        PAGE_VIEW, lambda s: s["fields"].append({"name": "section", "type": "string", "doc": "d"})
    )
    result = check(accord)
    assert result.exit_code == 1
    [line] = breaking_lines(result)
    assert ":section: READER_FIELD_MISSING_DEFAULT_VALUE: " in line
    assert "the new schema cannot read data written with" in line


def test_removing_a_required_field_passes_under_backward(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    repo({"events-accord.events.PageView": "BACKWARD"})
    schema_tree.edit(PAGE_VIEW, lambda s: s["fields"].pop(1))
    assert check(accord).exit_code == 0


def test_narrowing_a_type_fails(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    def quantity(s: dict[str, Any]) -> dict[str, Any]:
        return schema_tree.field(schema_tree.field(s, "items")["type"]["items"], "quantity")

    schema_tree.edit(PURCHASE, lambda s: quantity(s).update(type="long"))
    repo({"events-accord.events.Purchase": "BACKWARD"})
    schema_tree.edit(PURCHASE, lambda s: quantity(s).update(type="int"))
    result = check(accord)
    assert result.exit_code == 1
    [line] = breaking_lines(result)
    assert ":items[].quantity: TYPE_MISMATCH: " in line


def test_removing_an_enum_symbol_without_default_fails(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    def method(s: dict[str, Any]) -> dict[str, Any]:
        enum: dict[str, Any] = schema_tree.field(s, "method")["type"]
        return enum

    schema_tree.edit(SIGNUP, lambda s: method(s).pop("default"))
    repo({"events-accord.events.Signup": "BACKWARD"})
    schema_tree.edit(SIGNUP, lambda s: method(s)["symbols"].remove("GITHUB"))
    result = check(accord)
    assert result.exit_code == 1
    [line] = breaking_lines(result)
    assert ":method: MISSING_ENUM_SYMBOLS: " in line
    assert "GITHUB" in line


def test_removing_an_enum_symbol_with_a_default_passes_backward(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    repo({"events-accord.events.Signup": "BACKWARD"})
    schema_tree.edit(SIGNUP, lambda s: schema_tree.field(s, "method")["type"]["symbols"].remove("GITHUB"))
    assert check(accord).exit_code == 0


def test_a_breaking_change_to_a_shared_type_fails_every_event(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    repo()
    schema_tree.edit(
        "accord/common/Envelope.avsc",
        lambda s: schema_tree.field(s, "user_id").update(type="string", default="x"),
    )
    result = check(accord)
    assert result.exit_code == 1
    files = {line.split(":", 1)[0] for line in breaking_lines(result)}
    assert len(files) == 7, "Envelope itself and the six events that carry it"


def test_a_new_schema_file_passes_as_new(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    repo()
    search = schema_tree.read(PAGE_VIEW)
    search.update(name="Search", doc="A user searched.", fields=search["fields"][:2])
    schema_tree.write("accord/events/Search.avsc", search)
    result = check(accord)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "events-accord.events.Search" in line)
    assert " new " in row


def test_a_removed_schema_file_is_listed_without_failing(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    repo()
    schema_tree.path(SIGNUP).unlink()
    result = check(accord)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "events-accord.events.Signup" in line)
    assert " removed " in row


def test_unknown_ref_is_a_clear_error(repo: Callable[..., None], accord: Callable[..., Result]) -> None:
    repo()
    result = accord("schemas", "check", "--against", "no-such-branch")
    assert result.exit_code == 1
    assert "no-such-branch" in result.output


def test_check_needs_exactly_one_baseline(accord: Callable[..., Result]) -> None:
    result = accord("schemas", "check")
    assert result.exit_code == 2
    assert "exactly one of --against REF or --registry URL" in result.output


def test_levels_file_defaults_and_per_subject_levels(tmp_path: Path) -> None:
    path = tmp_path / "compatibility.json"
    assert load_levels(path).level("anything") is CompatibilityLevel.BACKWARD
    path.write_text(json.dumps({"default": "full", "subjects": {"a": "NONE"}}))
    levels = load_levels(path)
    assert levels.level("a") is CompatibilityLevel.NONE
    assert levels.level("b") is CompatibilityLevel.FULL


def test_levels_file_with_an_unknown_level_names_the_subject(tmp_path: Path) -> None:
    path = tmp_path / "compatibility.json"
    path.write_text(json.dumps({"subjects": {"events-accord.events.PageView": "SIDEWAYS"}}))
    with pytest.raises(
        CompatibilityFileError,
        match=re.escape("events-accord.events.PageView: unknown compatibility level 'SIDEWAYS'"),
    ):
        load_levels(path)


def test_a_rule_change_is_listed_as_a_contract_change(
    repo: Callable[..., None], schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    repo()
    rules = "accord/events/Purchase.rules.json"
    schema_tree.edit(
        rules, lambda r: r["domainRules"][0].update(expr='decimal(message.amount) >= decimal("0")')
    )
    schema_tree.edit(rules, lambda r: r["domainRules"].pop(1))
    result = check(accord)
    assert result.exit_code == 0, result.output
    changes = [line.split("/avro/", 1)[-1] for line in result.stdout.splitlines() if "rule-change" in line]
    assert changes == [
        "accord/events/Purchase.rules.json:ruleSet: rule-change: removes rule 'currency_code'",
        "accord/events/Purchase.rules.json:ruleSet: rule-change: changes rule 'purchase_amount_positive'",
    ]

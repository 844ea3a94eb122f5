"""`accord schemas lint`: one test per rule, and the command's output and exit code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import Result

from accord.schemas.lint import lint_directory

from .conftest import SchemaTree

pytestmark = pytest.mark.unit

PAGE_VIEW = "accord/events/PageView.avsc"
PURCHASE = "accord/events/Purchase.avsc"
CONTEXT = "accord/common/Context.avsc"


def rules_after(tree: SchemaTree, rel: str, change: Callable[[dict[str, Any]], None]) -> set[tuple[str, str]]:
    tree.edit(rel, change)
    return {(f.place, f.rule) for f in lint_directory(tree.root)}


def test_the_contracts_pass_lint(schema_tree: SchemaTree) -> None:
    assert lint_directory(schema_tree.root) == []


def test_missing_field_doc(schema_tree: SchemaTree) -> None:
    found = rules_after(schema_tree, PAGE_VIEW, lambda s: s["fields"][1].pop("doc"))
    assert found == {("url", "missing-doc")}


def test_missing_record_doc_of_a_nested_record(schema_tree: SchemaTree) -> None:
    found = rules_after(
        schema_tree, PAGE_VIEW, lambda s: schema_tree.field(s, "campaign")["type"][1].pop("doc")
    )
    assert found == {("campaign", "missing-doc")}


def test_blank_doc_counts_as_missing(schema_tree: SchemaTree) -> None:
    found = rules_after(schema_tree, PAGE_VIEW, lambda s: s.update(doc="  "))
    assert found == {("PageView", "missing-doc")}


def test_optional_field_with_null_second(schema_tree: SchemaTree) -> None:
    found = rules_after(
        schema_tree,
        PAGE_VIEW,
        lambda s: schema_tree.field(s, "title").update(type=["string", "null"], default="x"),
    )
    assert found == {("title", "optional-field")}


def test_optional_field_without_null_default(schema_tree: SchemaTree) -> None:
    found = rules_after(schema_tree, PAGE_VIEW, lambda s: schema_tree.field(s, "title").pop("default"))
    assert found == {("title", "optional-field")}


def test_optional_field_with_several_types(schema_tree: SchemaTree) -> None:
    found = rules_after(
        schema_tree, PAGE_VIEW, lambda s: schema_tree.field(s, "title").update(type=["null", "string", "int"])
    )
    assert found == {("title", "optional-field")}


def test_enum_without_default_symbol(schema_tree: SchemaTree) -> None:
    found = rules_after(
        schema_tree, CONTEXT, lambda s: schema_tree.field(s, "platform")["type"].pop("default")
    )
    assert found == {("platform", "enum-default")}


def test_money_as_double(schema_tree: SchemaTree) -> None:
    found = rules_after(schema_tree, PURCHASE, lambda s: schema_tree.field(s, "amount").update(type="double"))
    assert found == {("amount", "money-float")}


def test_money_as_optional_float_in_a_nested_record(schema_tree: SchemaTree) -> None:
    def change(s: dict[str, Any]) -> None:
        item = schema_tree.field(s, "items")["type"]["items"]
        schema_tree.field(item, "unit_price").update(type=["null", "float"], default=None)

    assert rules_after(schema_tree, PURCHASE, change) == {("items[].unit_price", "money-float")}


@pytest.mark.filterwarnings("ignore::avro.errors.IgnoredLogicalType")
def test_decimal_on_a_string(schema_tree: SchemaTree) -> None:
    found = rules_after(
        schema_tree,
        PURCHASE,
        lambda s: schema_tree.field(s, "amount").update(
            type={"type": "string", "logicalType": "decimal", "precision": 12}
        ),
    )
    assert ("amount", "decimal-shape") in found


def test_field_not_snake_case(schema_tree: SchemaTree) -> None:
    found = rules_after(
        schema_tree, PAGE_VIEW, lambda s: schema_tree.field(s, "title").update(name="pageTitle")
    )
    assert found == {("pageTitle", "field-snake-case")}


def test_record_not_pascal_case(schema_tree: SchemaTree) -> None:
    found = rules_after(
        schema_tree,
        PAGE_VIEW,
        lambda s: schema_tree.field(s, "campaign")["type"][1].update(name="utm_campaign"),
    )
    assert found == {("campaign", "type-pascal-case")}


def test_enum_symbol_not_upper_snake_case(schema_tree: SchemaTree) -> None:
    found = rules_after(
        schema_tree, CONTEXT, lambda s: schema_tree.field(s, "platform")["type"]["symbols"].append("smartTv")
    )
    assert found == {("platform", "enum-symbol-case")}


def test_namespace_not_matching_the_folder(schema_tree: SchemaTree) -> None:
    schema = schema_tree.read(PAGE_VIEW)
    schema_tree.path(PAGE_VIEW).unlink()
    schema_tree.write("accord/web/PageView.avsc", schema)
    findings = lint_directory(schema_tree.root)
    assert [(f.place, f.rule) for f in findings] == [("PageView", "namespace-folder")]
    assert "expected 'accord.web'" in findings[0].message


def test_file_not_named_after_its_type(schema_tree: SchemaTree) -> None:
    schema_tree.write("accord/events/Pageview.avsc", schema_tree.read(PAGE_VIEW))
    schema_tree.path(PAGE_VIEW).unlink()
    assert {(f.place, f.rule) for f in lint_directory(schema_tree.root)} == {("PageView", "file-name")}


def test_event_without_envelope_first(schema_tree: SchemaTree) -> None:
    found = rules_after(schema_tree, PAGE_VIEW, lambda s: s["fields"].reverse())
    assert found == {("PageView", "event-envelope")}


def test_accord_default_on_the_wrong_type(schema_tree: SchemaTree) -> None:
    found = rules_after(
        schema_tree, PAGE_VIEW, lambda s: schema_tree.field(s, "url").update({"accord.default": "now"})
    )
    assert found == {("url", "accord-default")}


def test_unknown_accord_default(schema_tree: SchemaTree) -> None:
    found = rules_after(
        schema_tree,
        "accord/common/Envelope.avsc",
        lambda s: schema_tree.field(s, "event_id").update({"accord.default": "uuid4"}),
    )
    assert found == {("event_id", "accord-default")}


def test_command_prints_file_field_rule_message_and_fails(
    schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    schema_tree.edit(PAGE_VIEW, lambda s: s["fields"][1].pop("doc"))
    schema_tree.edit(PURCHASE, lambda s: schema_tree.field(s, "amount").update(type="float"))
    result = accord("schemas", "lint")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"{schema_tree.path(PAGE_VIEW)}:url: missing-doc: field url has no doc" in lines
    assert any(line.startswith(f"{schema_tree.path(PURCHASE)}:amount: money-float: ") for line in lines)
    assert "2 problem(s) in 2 file(s)" in result.stderr


def test_command_reports_files_that_do_not_load(
    schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    schema_tree.write(PAGE_VIEW, "{")
    result = accord("schemas", "lint")
    assert result.exit_code == 1
    assert f"{schema_tree.path(PAGE_VIEW)}:1:2: invalid-json: " in result.stdout


def test_command_passes_on_the_contracts(accord: Callable[..., Result]) -> None:
    result = accord("schemas", "lint")
    assert result.exit_code == 0, result.output
    assert "pass lint" in result.stdout


PURCHASE_RULES = "accord/events/Purchase.rules.json"


def test_the_contract_rules_compile_and_read_fields_of_their_record(schema_tree: SchemaTree) -> None:
    rules = schema_tree.read(PURCHASE_RULES)["domainRules"]
    assert {rule["name"] for rule in rules} == {"purchase_amount_positive", "currency_code"}
    assert lint_directory(schema_tree.root) == []


def test_a_rule_that_does_not_compile_is_reported_with_its_name(schema_tree: SchemaTree) -> None:
    schema_tree.edit(PURCHASE_RULES, lambda r: r["domainRules"][0].update(expr="message.amount >"))
    [finding] = lint_directory(schema_tree.root)
    assert (finding.rule, finding.file.endswith("Purchase.rules.json")) == ("invalid-rule", True)
    assert "purchase_amount_positive" in finding.message


def test_a_rule_reading_a_field_the_record_lacks(schema_tree: SchemaTree) -> None:
    schema_tree.edit(PURCHASE_RULES, lambda r: r["domainRules"][1].update(expr="message.money.size() == 3"))
    found = {(f.place, f.rule) for f in lint_directory(schema_tree.root)}
    assert found == {("currency_code", "rule-field")}


def test_a_nested_field_path_is_followed_through_referenced_records(schema_tree: SchemaTree) -> None:
    schema_tree.edit(
        PURCHASE_RULES,
        lambda r: r["domainRules"][1].update(expr="message.envelope.context.locale != 'xx'"),
    )
    assert lint_directory(schema_tree.root) == []


def test_rules_without_a_schema_beside_them(schema_tree: SchemaTree) -> None:
    schema_tree.write("accord/events/Refund.rules.json", {"domainRules": []})
    found = {(f.file.rsplit("/", 1)[-1], f.rule) for f in lint_directory(schema_tree.root)}
    assert found == {("Refund.rules.json", "orphan-rules")}

"""Loading the contracts: dependency order, subjects, inlining, and every way a file can be bad."""

from __future__ import annotations

from typing import Any

import pytest

from accord.schemas.catalog import Catalog, load_catalog
from accord.schemas.errors import SchemaFilesError
from accord.schemas.findings import Finding

from .conftest import SchemaTree

pytestmark = pytest.mark.unit

PAGE_VIEW = "accord/events/PageView.avsc"
ENVELOPE = "accord/common/Envelope.avsc"


def load_errors(tree: SchemaTree) -> list[Finding]:
    with pytest.raises(SchemaFilesError) as caught:
        load_catalog(tree.root)
    return caught.value.findings


def test_files_load_in_dependency_order_with_their_subjects(schema_tree: SchemaTree) -> None:
    catalog = load_catalog(schema_tree.root)
    order = [file.full_name for file in catalog]
    assert order.index("accord.common.Context") < order.index("accord.common.Envelope")
    assert all(order.index("accord.common.Envelope") < order.index(f.full_name) for f in catalog.events)
    page_view = catalog.get("accord.events.PageView")
    assert page_view is not None
    assert catalog.subject(page_view) == "events-accord.events.PageView"
    assert page_view.references == ("accord.common.Envelope",)
    envelope = catalog.get("accord.common.Envelope")
    assert envelope is not None
    assert catalog.subject(envelope) == "accord.common.Envelope"
    assert {f.name for f in catalog.events} >= {
        "PageView",
        "FeatureUsed",
        "ExperimentExposure",
        "Signup",
        "Purchase",
        "Conversion",
    }


def test_self_contained_schema_defines_each_referenced_type_once(schema_tree: SchemaTree) -> None:
    catalog = load_catalog(schema_tree.root)
    page_view = catalog.get("accord.events.PageView")
    assert page_view is not None
    inlined = catalog.self_contained(page_view)
    envelope = inlined["fields"][0]["type"]
    assert envelope["name"] == "Envelope"
    assert envelope["namespace"] == "accord.common"
    context = next(f for f in envelope["fields"] if f["name"] == "context")["type"]
    assert context["type"] == "record"
    assert context["name"] == "Context"
    assert page_view.schema["fields"][0]["type"] == "accord.common.Envelope", "the file itself is untouched"


def test_shared_type_used_twice_is_inlined_once_then_named(schema_tree: SchemaTree) -> None:
    def add_second_envelope(schema: dict[str, Any]) -> None:
        schema["fields"].append(
            {"name": "previous", "type": ["null", "accord.common.Envelope"], "default": None, "doc": "d"}
        )

    schema_tree.edit(PAGE_VIEW, add_second_envelope)
    catalog = load_catalog(schema_tree.root)
    page_view = catalog.get("accord.events.PageView")
    assert page_view is not None
    inlined = catalog.self_contained(page_view)
    assert inlined["fields"][-1]["type"] == ["null", "accord.common.Envelope"]


def test_invalid_json_names_file_line_and_column(schema_tree: SchemaTree) -> None:
    schema_tree.write(PAGE_VIEW, '{\n  "type": "record",\n  "name": "PageView",,\n}')
    [finding] = load_errors(schema_tree)
    assert finding.file.endswith(PAGE_VIEW)
    assert finding.place == "3:22"
    assert finding.rule == "invalid-json"


def test_a_file_without_a_named_type_is_rejected(schema_tree: SchemaTree) -> None:
    schema_tree.write("accord/events/Loose.avsc", '["null", "string"]')
    [finding] = load_errors(schema_tree)
    assert finding.rule == "not-a-named-type"
    assert finding.file.endswith("Loose.avsc")


def test_dangling_reference_names_the_field_and_the_missing_type(schema_tree: SchemaTree) -> None:
    schema_tree.edit(PAGE_VIEW, lambda s: s["fields"][0].update(type="accord.common.Envelop"))
    [finding] = load_errors(schema_tree)
    assert (finding.place, finding.rule) == ("envelope", "dangling-reference")
    assert "accord.common.Envelop" in finding.message


def test_using_a_type_nested_in_another_file_is_a_dangling_reference(schema_tree: SchemaTree) -> None:
    schema_tree.edit(
        "accord/events/Conversion.avsc",
        lambda s: s["fields"].append(
            {"name": "campaign", "type": ["null", "accord.events.Campaign"], "default": None, "doc": "d"}
        ),
    )
    [finding] = load_errors(schema_tree)
    assert finding.rule == "dangling-reference"
    assert "defined inside" in finding.message
    assert PAGE_VIEW in finding.message


def test_duplicate_name_names_both_files(schema_tree: SchemaTree) -> None:
    schema_tree.write("accord/events/Copy.avsc", schema_tree.read(PAGE_VIEW))
    findings = load_errors(schema_tree)
    duplicates = [f for f in findings if f.rule == "duplicate-name"]
    assert duplicates, findings
    assert "accord.events.PageView is already defined in" in duplicates[0].message


def test_reference_cycle_is_reported(schema_tree: SchemaTree) -> None:
    schema_tree.edit(
        "accord/common/Context.avsc",
        lambda s: s["fields"].append(
            {"name": "origin", "type": ["null", "accord.common.Envelope"], "default": None, "doc": "d"}
        ),
    )
    findings = load_errors(schema_tree)
    assert any(f.rule == "reference-cycle" and "accord.common.Context" in f.message for f in findings)


def test_invalid_avro_names_the_file_and_the_problem(schema_tree: SchemaTree) -> None:
    schema_tree.edit(PAGE_VIEW, lambda s: s["fields"][1].update(default=42))
    [finding] = load_errors(schema_tree)
    assert finding.rule == "invalid-avro"
    assert finding.file.endswith(PAGE_VIEW)
    assert "url" in finding.message


def test_every_problem_is_reported_at_once(schema_tree: SchemaTree) -> None:
    schema_tree.write("accord/events/Broken.avsc", "not json")
    schema_tree.edit(PAGE_VIEW, lambda s: s["fields"][0].update(type="accord.common.Nope"))
    findings = load_errors(schema_tree)
    assert {f.rule for f in findings} == {"invalid-json", "dangling-reference"}


def test_catalog_lookup_by_subject(schema_tree: SchemaTree) -> None:
    catalog: Catalog = load_catalog(schema_tree.root, topic="clicks")
    file = catalog.by_subject("clicks-accord.events.PageView")
    assert file is not None
    assert file.relative_path == PAGE_VIEW

"""The Segment mapping is checked against the contracts: every mapped event and field exists."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from accord.schemas.catalog import load_catalog
from accord.schemas.segment_mapping import lint_segment_mapping
from accord.schemas.settings import SchemasSettings

from .conftest import SchemaTree

pytestmark = pytest.mark.unit


def _mapping(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "segment.json"
    path.write_text(json.dumps(document))
    return path


def test_the_shipped_mapping_names_only_events_and_fields_of_the_contracts() -> None:
    settings = SchemasSettings()
    assert lint_segment_mapping(settings.segment_mapping, load_catalog(settings.schemas_dir)) == []


def test_unknown_events_fields_and_platform_symbols_are_findings(
    tmp_path: Path, schema_tree: SchemaTree
) -> None:
    document = {
        "envelope": {"user_id": "userId", "context.ip": "context.ip", "event_id": "messageId"},
        "platform": {"field": "context.platform", "from": {"context.device.type": {"ios": "IPHONE"}}},
        "events": [
            {"type": "track", "event": "Order Completed", "schema": "accord.events.Order", "fields": {}},
            {
                "type": "page",
                "schema": "accord.events.PageView",
                "fields": {"url": "properties.url", "campaign.source": "x", "campaign.budget": "y"},
                "values": {"headline": "z"},
            },
            {
                "type": "track",
                "event": "Order Completed",
                "schema": "accord.events.Purchase",
                "fields": {"items": {"each": "properties.products", "fields": {"sku": "sku", "colour": "c"}}},
            },
        ],
    }
    findings = lint_segment_mapping(_mapping(tmp_path, document), load_catalog(schema_tree.root))
    assert sorted((f.place, f.rule) for f in findings) == sorted(
        [
            ("envelope.context.ip", "segment-mapping"),
            ("envelope.event_id", "segment-mapping"),
            ("platform.from.context.device.type", "segment-mapping"),
            ("events[0]", "segment-mapping"),
            ("events[1].fields.campaign.budget", "segment-mapping"),
            ("events[1].values.headline", "segment-mapping"),
            ("events[2].fields.items.colour", "segment-mapping"),
        ]
    )


def test_lint_fails_when_a_contract_drops_a_mapped_field(
    accord: Callable[..., Result], schema_tree: SchemaTree
) -> None:
    schema_tree.edit(
        "accord/events/PageView.avsc",
        lambda schema: schema.update(fields=[f for f in schema["fields"] if f["name"] != "referrer"]),
    )
    result = accord("schemas", "lint")
    assert result.exit_code == 1
    expected = "events[4].fields.referrer: segment-mapping: accord.events.PageView has no field referrer"
    assert f"segment.json:{expected}" in result.output

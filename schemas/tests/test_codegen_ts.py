"""`accord schemas codegen --lang ts`: the generated TypeScript, what it refuses, and `--check`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from accord.schemas.catalog import load_catalog
from accord.schemas.codegen import CodegenError
from accord.schemas.codegen_ts import generate_ts
from accord.schemas.settings import SchemasSettings

from .conftest import SchemaTree

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).parent / "golden"
TOY = "accord/events/Toy.avsc"


def toy_tree(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the golden toy schema, changed by `change`."""
    root = tmp_path / "toy"
    shutil.copytree(GOLDEN / "avro", root)
    schema = json.loads((root / TOY).read_text())
    change(schema)
    (root / TOY).write_text(json.dumps(schema))
    return root


def without_digest(schema: dict[str, Any]) -> None:
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "digest"]


def test_generated_typescript_matches_the_golden_file(tmp_path: Path) -> None:
    source = generate_ts(load_catalog(toy_tree(tmp_path, without_digest)))
    assert source == (GOLDEN / "toy.ts.golden").read_text()


def test_payload_types_are_the_json_the_gateway_takes(tmp_path: Path) -> None:
    source = generate_ts(load_catalog(toy_tree(tmp_path, without_digest)))
    assert "  price: string | null;" in source, "decimals travel as decimal text"
    assert "  at: number;" in source, "timestamps travel as epoch milliseconds"
    assert "  at?: Date | number;" in source, "a caller may give a Date"
    assert "  colour: ToyColour;\n" in source
    assert 'export type ToyColour = "NONE" | "RED" | "GREEN";' in source
    assert "  parts: Record<string, ToyPart>;" in source
    assert "  main_part: ToyPart | null;" in source, "a union is its plain value, not Avro's tagged JSON"
    assert 'colour: init.colour ?? "RED",' in source, "the field default, not the enum's"
    assert "id: init.id ?? newEventId()," in source
    assert "at: init.at === undefined ? Date.now() : toMillis(init.at)," in source
    assert 'schema: "events-accord.events.Toy",' in source


def test_schema_with_bytes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CodegenError, match="no JSON form at the gateway"):
        generate_ts(load_catalog(GOLDEN / "avro"))

    def raw_bytes(schema: dict[str, Any]) -> None:
        without_digest(schema)
        schema["fields"].append({"name": "blob", "type": "bytes", "doc": "Raw bytes."})

    with pytest.raises(CodegenError, match=r"Toy.avsc:blob: bytes have no JSON form"):
        generate_ts(load_catalog(toy_tree(tmp_path, raw_bytes)))


def test_union_of_several_records_is_refused(schema_tree: SchemaTree) -> None:
    def two_records(schema: dict[str, Any]) -> None:
        campaign = schema_tree.field(schema, "campaign")
        campaign["type"].append({"type": "record", "name": "Other", "doc": "d", "fields": []})

    schema_tree.edit("accord/events/PageView.avsc", two_records)
    with pytest.raises(CodegenError, match="a union of several records"):
        generate_ts(load_catalog(schema_tree.root))


def test_every_event_has_a_builder_and_a_subject() -> None:
    catalog = load_catalog(SchemasSettings().schemas_dir)
    source = generate_ts(catalog)
    for file in catalog.events:
        subject = catalog.subject(file)
        assert f"  {json.dumps(subject)}: {file.name};" in source
        assert f'AccordEvent<"{subject}", {file.name}>' in source


def test_check_covers_the_typescript_and_codegen_repairs(
    tmp_path: Path, schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    ts_out = tmp_path / "sdk-ts" / "events.ts"
    check = ("schemas", "codegen", "--check", "--lang", "ts", "--ts-out", str(ts_out))
    missing = accord(*check)
    assert missing.exit_code == 1
    assert f"{ts_out}: stale: missing" in missing.stdout
    assert accord("schemas", "codegen", "--lang", "ts", "--ts-out", str(ts_out)).exit_code == 0
    assert accord(*check).exit_code == 0

    schema_tree.edit(
        "accord/events/PageView.avsc",
        lambda s: s["fields"].append(
            {"name": "section", "type": ["null", "string"], "default": None, "doc": "Site section."}
        ),
    )
    stale = accord(*check)
    assert stale.exit_code == 1
    assert f"{ts_out}: stale: out of date" in stale.stdout
    assert "run `accord schemas codegen`" in stale.stderr
    python_only = accord("schemas", "codegen", "--check", "--lang", "python", "--ts-out", str(ts_out))
    assert "events.ts" not in python_only.output, "--lang python leaves the TypeScript alone"

    assert accord("schemas", "codegen", "--lang", "ts", "--ts-out", str(ts_out)).exit_code == 0
    assert "  section: string | null;" in ts_out.read_text()
    assert accord(*check).exit_code == 0


def test_check_without_lang_fails_on_stale_typescript_alone(
    tmp_path: Path, accord: Callable[..., Result]
) -> None:
    out, ts_out = tmp_path / "events", tmp_path / "events.ts"
    assert accord("schemas", "codegen", "--out", str(out), "--ts-out", str(ts_out)).exit_code == 0
    ts_out.write_text(ts_out.read_text().replace("export function pageView", "export function pageview"))
    stale = accord("schemas", "codegen", "--check", "--out", str(out), "--ts-out", str(ts_out))
    assert stale.exit_code == 1
    assert stale.stdout.strip().splitlines() == [f"{ts_out}: stale: out of date"]

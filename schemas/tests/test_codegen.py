"""`accord schemas codegen`: the generated source, its behaviour, and `--check`."""

from __future__ import annotations

import importlib.util
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import fastavro
import pytest
from click.testing import Result
from hypothesis import given, settings

from accord.schemas.catalog import load_catalog
from accord.schemas.codegen import CodegenError, generate
from accord.schemas.settings import SchemasSettings
from accord.schemas.strategies import from_schema
from accord.sdk.events import Context, Envelope, PageView, Purchase, Signup
from accord.sdk.record import utc_now, uuid7

from .conftest import SchemaTree

pytestmark = pytest.mark.unit

GOLDEN = Path(__file__).parent / "golden"


@contextmanager
def imported(source: str, path: Path) -> Iterator[ModuleType]:
    """Generated `source`, written to `path` and imported under a name of its own."""
    name = f"generated_{path.stem}"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


@pytest.fixture
def toy(tmp_path: Path) -> Iterator[ModuleType]:
    """The golden schema's generated module, imported from a temporary file."""
    with imported(generate(load_catalog(GOLDEN / "avro"))["toy.py"], tmp_path / "toy.py") as module:
        yield module


def avro_bytes(schema: dict[str, Any], datum: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), datum)
    return buffer.getvalue()


def avro_read(schema: dict[str, Any], encoded: bytes) -> dict[str, Any]:
    decoded = fastavro.schemaless_reader(io.BytesIO(encoded), fastavro.parse_schema(schema))
    assert isinstance(decoded, dict)
    return decoded


def test_generated_source_matches_the_golden_file() -> None:
    assert generate(load_catalog(GOLDEN / "avro"))["toy.py"] == (GOLDEN / "toy.py.golden").read_text()


def test_generated_class_maps_every_avro_shape(toy: ModuleType) -> None:
    toy_cls = toy.Toy
    part = toy_cls.Part(label="wheel")
    record = toy_cls(
        from_="keyword",
        digest=b"\x00\x01\x02\x03",
        day=date(2026, 1, 2),
        price=Decimal("12.345"),
        palette=[toy_cls.Colour.GREEN],
        parts={"front": part},
        main_part=part,
    )
    assert record.colour is toy_cls.Colour.RED, "the field default, not the enum's default symbol"
    assert part.shade is toy_cls.Colour.GREEN
    assert record.count == 0
    assert record.ratio == 0.5
    assert record.id.version == 7
    assert record.at.tzinfo is UTC
    datum = record.to_avro()
    assert datum["from"] == "keyword"
    encoded = avro_bytes(toy_cls.AVRO_SCHEMA, datum)
    decoded = avro_read(toy_cls.AVRO_SCHEMA, encoded)
    assert toy_cls.from_avro(decoded) == record


def test_generated_class_round_trips_any_datum_of_its_schema(toy: ModuleType) -> None:
    toy_cls = toy.Toy

    @settings(max_examples=50, deadline=None)
    @given(from_schema(toy_cls.AVRO_SCHEMA))
    def round_trip(datum: dict[str, Any]) -> None:
        record = toy_cls.from_avro(datum)
        assert avro_bytes(toy_cls.AVRO_SCHEMA, record.to_avro()) == avro_bytes(toy_cls.AVRO_SCHEMA, datum)
        assert (
            toy_cls.from_avro(avro_read(toy_cls.AVRO_SCHEMA, avro_bytes(toy_cls.AVRO_SCHEMA, datum)))
            == record
        )

    round_trip()


def test_event_defaults_fill_the_envelope() -> None:
    before = utc_now()
    first, second = PageView(url="https://example.com/"), PageView(url="https://example.com/")
    envelope = first.envelope
    assert isinstance(envelope, Envelope)
    assert isinstance(envelope.event_id, UUID)
    assert envelope.event_id.version == 7
    assert envelope.event_id != second.envelope.event_id
    assert envelope.event_time.tzinfo is UTC
    assert before <= envelope.event_time <= datetime.now(UTC)
    assert envelope.event_time.microsecond % 1000 == 0, "whole milliseconds survive timestamp-millis"
    assert envelope.context == Context()
    assert envelope.context.platform is Context.Platform.UNKNOWN
    assert first.title is None


def test_event_round_trips_through_avro_bytes() -> None:
    purchase = Purchase(
        envelope=Envelope(user_id="u-1", context=Context(platform=Context.Platform.IOS, app_name="shop")),
        order_id="o-1",
        amount=Decimal("99.90"),
        currency="EUR",
        items=[Purchase.LineItem(sku="sku-1", quantity=2, unit_price=Decimal("49.95"))],
    )
    encoded = avro_bytes(Purchase.AVRO_SCHEMA, purchase.to_avro())
    decoded = avro_read(Purchase.AVRO_SCHEMA, encoded)
    assert Purchase.from_avro(decoded) == purchase
    assert decoded["envelope"]["context"]["platform"] == "IOS"


def test_schema_refers_to_the_shared_types_it_holds_instead_of_repeating_them() -> None:
    sources = generate(load_catalog(SchemasSettings().schemas_dir))
    assert '"type": Envelope.AVRO_SCHEMA' in sources["page_view.py"]
    assert '"type": Context.AVRO_SCHEMA' in sources["envelope.py"]
    assert all('"name": "Context"' not in source for name, source in sources.items() if name != "context.py")
    assert PageView.AVRO_SCHEMA["fields"][0]["type"] is Envelope.AVRO_SCHEMA


def test_type_placed_after_a_type_it_holds_is_written_out(tmp_path: Path, schema_tree: SchemaTree) -> None:
    device = {"name": "device", "type": "accord.common.Context", "doc": "Defined before the envelope."}
    schema_tree.edit("accord/events/PageView.avsc", lambda schema: schema["fields"].insert(0, device))
    catalog = load_catalog(schema_tree.root)
    source = generate(catalog)["page_view.py"]
    assert '"type": Context.AVRO_SCHEMA' in source
    assert "Envelope.AVRO_SCHEMA" not in source, "Context is a name inside this envelope"
    with imported(source, tmp_path / "page_view.py") as module:
        schema = module.PageView.AVRO_SCHEMA
        expected = catalog.self_contained(catalog.require("accord.events.PageView"))
        assert schema == expected
        assert schema["fields"][1]["type"]["fields"][-1]["type"] == "accord.common.Context"
        fastavro.parse_schema(schema)


def test_required_fields_have_no_default() -> None:
    with pytest.raises(TypeError, match="method"):
        Signup()  # type: ignore[call-arg]


def test_uuid7_ids_are_ordered_by_millisecond() -> None:
    ids = [uuid7() for _ in range(200)]
    assert len(set(ids)) == 200
    millis = [identifier.int >> 80 for identifier in ids]
    assert millis == sorted(millis)
    assert all(identifier.variant == "specified in RFC 4122" for identifier in ids)


def test_union_of_several_records_is_refused(schema_tree: SchemaTree) -> None:
    def two_records(schema: dict[str, Any]) -> None:
        campaign = schema_tree.field(schema, "campaign")
        campaign["type"].append({"type": "record", "name": "Other", "doc": "d", "fields": []})

    schema_tree.edit("accord/events/PageView.avsc", two_records)
    with pytest.raises(CodegenError, match="a union of several records or enums"):
        generate(load_catalog(schema_tree.root))


def test_check_fails_when_stale_and_codegen_repairs(
    tmp_path: Path, schema_tree: SchemaTree, accord: Callable[..., Result]
) -> None:
    out = str(tmp_path / "events")
    missing = accord("schemas", "codegen", "--check", "--out", out)
    assert missing.exit_code == 1
    assert "page_view.py: stale: missing" in missing.stdout
    assert accord("schemas", "codegen", "--out", out).exit_code == 0
    assert accord("schemas", "codegen", "--check", "--out", out).exit_code == 0

    schema_tree.edit(
        "accord/events/PageView.avsc",
        lambda s: s["fields"].append(
            {"name": "section", "type": ["null", "string"], "default": None, "doc": "Site section."}
        ),
    )
    schema_tree.path("accord/events/Signup.avsc").unlink()
    stale = accord("schemas", "codegen", "--check", "--out", out)
    assert stale.exit_code == 1
    assert "page_view.py: stale: out of date" in stale.stdout
    assert "signup.py: stale: no schema generates it" in stale.stdout
    assert "__init__.py: stale: out of date" in stale.stdout
    assert "run `accord schemas codegen`" in stale.stderr

    assert accord("schemas", "codegen", "--out", out).exit_code == 0
    assert not (tmp_path / "events" / "signup.py").exists()
    assert "section: str | None = None" in (tmp_path / "events" / "page_view.py").read_text()
    assert accord("schemas", "codegen", "--check", "--out", out).exit_code == 0


def test_committed_classes_are_fresh(accord: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACCORD_SDK_TS_EVENTS_FILE")
    result = accord("schemas", "codegen", "--check")
    assert result.exit_code == 0, result.output
    assert "events.ts" in result.output, "the TypeScript output is checked too"

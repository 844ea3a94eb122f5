"""Gate: the committed SDK classes are what codegen makes, and round-trip through Avro bytes."""

from __future__ import annotations

import io
import subprocess
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings

from accord.schemas.catalog import Catalog, SchemaFile
from accord.schemas.codegen import stale_files
from accord.schemas.codegen_ts import stale_ts
from accord.schemas.settings import SchemasSettings
from accord.schemas.strategies import from_schema
from accord.sdk import events
from accord.sdk.events import EVENT_TYPES

from .conftest import schema_files

pytestmark = pytest.mark.unit


def test_generated_classes_are_up_to_date(settings: SchemasSettings, catalog: Catalog) -> None:
    assert stale_files(catalog, settings.sdk_events_dir) == {}, "run `accord schemas codegen` and commit"


def test_generated_typescript_is_up_to_date(settings: SchemasSettings, catalog: Catalog) -> None:
    assert stale_ts(catalog, settings.sdk_ts_events_file) is None, "run `accord schemas codegen` and commit"


def test_generated_classes_pass_ruff(settings: SchemasSettings) -> None:
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-untyped]

    done = subprocess.run(
        [find_ruff_bin(), "check", str(settings.sdk_events_dir)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout


def test_event_types_map_every_event_subject(catalog: Catalog) -> None:
    assert set(EVENT_TYPES) == {catalog.subject(file) for file in catalog.events}
    for subject, cls in EVENT_TYPES.items():
        assert subject == cls.SUBJECT


@pytest.mark.parametrize("file", schema_files(), ids=lambda file: file.full_name)
def test_class_round_trips_through_avro_bytes_unchanged(catalog: Catalog, file: SchemaFile) -> None:
    cls = getattr(events, file.name)
    schema = catalog.self_contained(file)
    assert schema == cls.AVRO_SCHEMA
    parsed = fastavro.parse_schema(cls.AVRO_SCHEMA)

    @settings(max_examples=60, deadline=None)
    @given(from_schema(schema))
    def round_trip(datum: Any) -> None:
        record = cls.from_avro(datum)
        written = io.BytesIO()
        fastavro.schemaless_writer(written, parsed, record.to_avro())
        direct = io.BytesIO()
        fastavro.schemaless_writer(direct, parsed, datum)
        assert written.getvalue() == direct.getvalue()
        read = fastavro.schemaless_reader(io.BytesIO(written.getvalue()), parsed)
        assert cls.from_avro(read) == record

    round_trip()

"""Gate: any datum a schema allows survives fastavro's write and read unchanged.

The data come from hypothesis strategies derived from each self-contained schema: logical types
(uuid, timestamp-millis, decimal), unions, enums, arrays, maps and nested records included.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any
from uuid import UUID

import fastavro
import pytest
from hypothesis import given, settings

from accord.schemas.catalog import Catalog, SchemaFile
from accord.schemas.strategies import from_schema

from .conftest import schema_files

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("file", schema_files(), ids=lambda file: file.full_name)
def test_schema_round_trips_through_fastavro(catalog: Catalog, file: SchemaFile) -> None:
    schema = catalog.self_contained(file)
    parsed = fastavro.parse_schema(schema)

    @settings(max_examples=60, deadline=None)
    @given(from_schema(schema))
    def round_trip(datum: Any) -> None:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, parsed, datum)
        buffer.seek(0)
        assert fastavro.schemaless_reader(buffer, parsed) == datum
        assert buffer.read() == b"", "the reader consumed exactly what the writer wrote"

    round_trip()


def test_strategies_produce_the_python_types_of_the_logical_types(catalog: Catalog) -> None:
    purchase = catalog.require("accord.events.Purchase")

    @settings(max_examples=20, deadline=None)
    @given(from_schema(catalog.self_contained(purchase)))
    def check(example: dict[str, Any]) -> None:
        envelope = example["envelope"]
        assert isinstance(envelope["event_id"], UUID)
        assert envelope["event_time"].tzinfo is not None
        assert envelope["event_time"].microsecond % 1000 == 0
        assert isinstance(example["amount"], Decimal)
        assert example["amount"].as_tuple().exponent == -2

    check()

"""Gate: Spark's `from_avro` decodes every schema's data faithfully.

Each hypothesis batch is written by fastavro, decoded by Spark's `from_avro` with the schema,
encoded again by Spark's `to_avro` and read back by fastavro: any value Spark misread (a
timestamp, a decimal, a union branch, an enum) would come back different.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.schemas.catalog import Catalog, SchemaFile
from accord.schemas.strategies import from_schema

from .conftest import schema_files

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def encode(parsed: Any, datum: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, parsed, datum)
    return buffer.getvalue()


@pytest.mark.parametrize("file", schema_files(), ids=lambda file: file.full_name)
def test_schema_round_trips_through_spark_from_avro(
    spark: SparkSession, catalog: Catalog, file: SchemaFile
) -> None:
    from pyspark.sql.avro.functions import from_avro, to_avro
    from pyspark.sql.functions import col

    schema = catalog.self_contained(file)
    text = json.dumps(schema)
    parsed = fastavro.parse_schema(schema)

    @settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(from_schema(schema), min_size=1, max_size=20))
    def round_trip(batch: list[Any]) -> None:
        frame = spark.createDataFrame(
            [(i, encode(parsed, d)) for i, d in enumerate(batch)], "i int, value binary"
        )
        decoded = frame.select("i", from_avro(col("value"), text, {"mode": "FAILFAST"}).alias("event"))
        again = decoded.select("i", to_avro(col("event"), text).alias("value")).orderBy("i").collect()
        assert [fastavro.schemaless_reader(io.BytesIO(row.value), parsed) for row in again] == batch

    round_trip()

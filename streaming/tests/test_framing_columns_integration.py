"""The Kafka header columns Bronze and Silver read: the first header of a name, null when unusable."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as sf

from accord.streaming.framing import MAX_MILLIS, header_epoch_millis, header_text

pytestmark = [pytest.mark.integration, pytest.mark.spark]

HEADERS = "headers array<struct<key:string,value:binary>>"


def test_a_header_column_is_the_first_header_of_its_name_or_null(spark: SparkSession) -> None:
    rows = [
        ([("a", b"1"), ("t", b"1796312798000"), ("t", b"5")],),  # the first of two
        ([("a", b"1")],),  # absent
        ([],),
        (None,),
        ([(None, b"x"), ("t", None)],),  # a header without a name; one without a value
        ([("t", b"soon")],),
        ([("t", str(MAX_MILLIS + 1).encode())],),  # past year 9999: would overflow
    ]
    frame = spark.createDataFrame(rows, HEADERS)
    got = frame.select(
        header_text("t").alias("text"), sf.unix_millis(header_epoch_millis("t")).alias("millis")
    ).collect()

    assert [row.text for row in got] == ["1796312798000", None, None, None, None, "soon", str(MAX_MILLIS + 1)]
    assert [row.millis for row in got] == [1_796_312_798_000, None, None, None, None, None, None]

"""Column expressions for the wire contract of the `events` topic: Confluent framing and headers.

Spark runs with ANSI mode on, so every parse of untrusted bytes uses a `try_` form and yields
null instead of failing the whole micro-batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column

RECEIVED_AT_HEADER = "accord.received_at"
SENT_AT_HEADER = "accord.sent_at"
KEY_ID_HEADER = "accord.key_id"
EVENT_ID_HEADER = "accord.event_id"

FRAME_HEADER_BYTES = 5


def schema_id(value: str = "value") -> Column:
    """The schema id of a Confluent-framed value, or null when the framing is bad.

    Good framing is at least the magic byte 0x00 and a 4-byte big-endian id.
    """
    from pyspark.sql import functions as sf

    return sf.expr(
        f"CASE WHEN length({value}) >= {FRAME_HEADER_BYTES} AND substring({value}, 1, 1) = X'00' "
        f"THEN CAST(conv(hex(substring({value}, 2, 4)), 16, 10) AS INT) END"
    )


def avro_payload(value: str = "value") -> Column:
    """The Avro bytes after the 5-byte frame header."""
    from pyspark.sql import functions as sf

    return sf.expr(f"substring({value}, {FRAME_HEADER_BYTES + 1})")


def header_text(name: str, headers: str = "headers") -> Column:
    """The UTF-8 value of the first Kafka header called `name`, or null."""
    from pyspark.sql import functions as sf

    return sf.expr(f"CAST(try_element_at(filter({headers}, h -> h.key = '{name}'), 1).value AS STRING)")


def header_epoch_millis(name: str, headers: str = "headers") -> Column:
    """A header holding epoch milliseconds as text, as a timestamp (null when absent or not a number)."""
    from pyspark.sql import functions as sf

    return sf.expr(
        f"timestamp_millis(try_cast(CAST(try_element_at(filter({headers}, h -> h.key = '{name}'), 1).value "
        "AS STRING) AS BIGINT))"
    )

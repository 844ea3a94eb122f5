"""Confluent framing and the Avro batch body, against the shared vectors."""

from __future__ import annotations

from typing import Any

import pytest

from accord.wire.framing import (
    AVRO_BATCH_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    FramingError,
    batch_body,
    frame,
    schema_id_of,
    split_batch,
    unframe,
)
from accord.wire.vectors import wire_vectors

pytestmark = pytest.mark.unit

VECTORS = wire_vectors()


def test_media_types_are_the_documented_ones() -> None:
    assert VECTORS["media_types"] == {"avro_batch": AVRO_BATCH_MEDIA_TYPE, "json": JSON_MEDIA_TYPE}


@pytest.mark.parametrize("case", VECTORS["framing"]["framed"], ids=lambda c: str(c["schema_id"]))
def test_frame_and_unframe_match_the_vectors(case: dict[str, Any]) -> None:
    framed = bytes.fromhex(case["framed_hex"])
    assert frame(case["schema_id"], bytes.fromhex(case["avro_hex"])) == framed
    assert unframe(framed).schema_id == case["schema_id"]
    assert unframe(framed).avro_body.hex() == case["avro_hex"]


@pytest.mark.parametrize("case", VECTORS["framing"]["invalid"], ids=lambda c: c["framed_hex"] or "empty")
def test_bad_framing_raises_a_framing_error_with_its_code(case: dict[str, Any]) -> None:
    with pytest.raises(FramingError) as raised:
        schema_id_of(bytes.fromhex(case["framed_hex"]))
    assert raised.value.code == case["code"]


@pytest.mark.parametrize("schema_id", [-1, 2**32])
def test_a_schema_id_outside_32_bits_cannot_be_framed(schema_id: int) -> None:
    with pytest.raises(ValueError, match="unsigned 32-bit"):
        frame(schema_id, b"\x02")


@pytest.mark.parametrize("case", VECTORS["batches"], ids=lambda c: str(len(c["events_hex"])))
def test_batch_bodies_match_the_vectors(case: dict[str, Any]) -> None:
    events = [bytes.fromhex(e) for e in case["events_hex"]]
    assert batch_body(events).hex() == case["body_hex"]
    assert split_batch(bytes.fromhex(case["body_hex"])) == (events, None)


@pytest.mark.parametrize("case", VECTORS["truncated_batches"], ids=lambda c: c["body_hex"])
def test_a_truncated_batch_yields_its_whole_events_and_the_tail(case: dict[str, Any]) -> None:
    events, tail = split_batch(bytes.fromhex(case["body_hex"]))
    assert [e.hex() for e in events] == case["events_hex"]
    assert tail is not None
    assert tail.hex() == case["tail_hex"]

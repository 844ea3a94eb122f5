"""Kafka header names and value encoding, against the shared vectors."""

from __future__ import annotations

import pytest

from accord.wire import headers
from accord.wire.vectors import wire_vectors

pytestmark = pytest.mark.unit

VECTORS = wire_vectors()["headers"]


def test_header_names_are_the_documented_ones() -> None:
    assert VECTORS["names"] == {
        "received_at": headers.RECEIVED_AT,
        "sent_at": headers.SENT_AT,
        "key_id": headers.KEY_ID,
        "event_id": headers.EVENT_ID,
    }


@pytest.mark.parametrize("case", VECTORS["millis"], ids=lambda c: c["value"])
def test_epoch_millis_round_trip_as_utf8_digits(case: dict[str, int | str]) -> None:
    assert headers.encode_millis(int(case["millis"])) == str(case["value"]).encode()
    assert headers.decode_millis(str(case["value"]).encode()) == case["millis"]


@pytest.mark.parametrize("value", [*VECTORS["unreadable_millis"], None])
def test_a_header_that_is_not_whole_millis_reads_as_none(value: str | None) -> None:
    assert headers.decode_millis(value.encode() if value is not None else None) is None

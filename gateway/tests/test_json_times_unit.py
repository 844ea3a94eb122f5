"""JSON payload times: RFC 3339 text or epoch milliseconds at every timestamp position."""

from __future__ import annotations

from typing import Any

import fastavro
import pytest

from accord.gateway.catalog import WriterSchema
from accord.gateway.events import EventClock, encode_json_event
from accord.gateway.json_times import rfc3339_epoch, with_times
from accord.gateway.rejections import EventInvalidError

pytestmark = pytest.mark.unit

SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Timed",
    "namespace": "test.times",
    "fields": [
        {
            "name": "envelope",
            "type": {
                "type": "record",
                "name": "Envelope",
                "fields": [
                    {"name": "event_id", "type": "string"},
                    {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
                    {"name": "user_id", "type": ["null", "string"], "default": None},
                    {"name": "anonymous_id", "type": ["null", "string"], "default": None},
                ],
            },
        },
        {
            "name": "shipped_at",
            "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}],
            "default": None,
        },
        {
            "name": "checkpoints",
            "type": {"type": "array", "items": {"type": "long", "logicalType": "timestamp-millis"}},
            "default": [],
        },
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
PARSED: Any = fastavro.parse_schema(SCHEMA)
WRITER = WriterSchema(1, SCHEMA, PARSED, PARSED, ("events-test.times.Timed",), 0.0)
NOW_MS = 1_769_860_800_250  # 2026-01-31T12:00:00.250Z
CLOCK = EventClock(received_at_ms=NOW_MS, sent_at_ms=NOW_MS)


def _payload(event_time: object, **fields: object) -> dict[str, Any]:
    envelope = {"event_id": "0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b", "event_time": event_time, "user_id": "u"}
    return {"envelope": envelope, **fields}


def test_rfc3339_text_is_read_exactly_in_millis_and_micros() -> None:
    assert rfc3339_epoch("2026-01-31T12:00:00.250Z") == NOW_MS
    assert rfc3339_epoch("2026-01-31T13:00:00.250+01:00") == NOW_MS
    assert rfc3339_epoch("2026-01-31T12:00:00.123456Z", 1_000_000) == 1_769_860_800_123_456
    assert rfc3339_epoch("2026-01-31T12:00:00") is None  # no offset: which clock?
    assert rfc3339_epoch("noon") is None


def test_an_event_time_in_rfc3339_is_encoded_as_the_same_instant_as_epoch_millis() -> None:
    as_text = encode_json_event(_payload("2026-01-31T12:00:00.250Z"), WRITER, CLOCK)
    as_millis = encode_json_event(_payload(NOW_MS), WRITER, CLOCK)
    assert as_text.value == as_millis.value


def test_every_timestamp_position_accepts_text_strings_stay_strings() -> None:
    payload = _payload(
        NOW_MS,
        shipped_at="2026-01-31T12:00:00.000001Z",
        checkpoints=["2026-01-31T12:00:00Z", NOW_MS],
        note="2026-01-31T12:00:00Z",
    )
    converted = with_times(payload, PARSED, PARSED["__named_schemas"])
    assert converted["shipped_at"] == 1_769_860_800_000_001
    assert converted["checkpoints"] == [1_769_860_800_000, NOW_MS]
    assert converted["note"] == "2026-01-31T12:00:00Z"
    assert with_times(_payload(NOW_MS), PARSED, PARSED["__named_schemas"]) == _payload(NOW_MS)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_payload("yesterday"), "envelope.event_time"),
        (_payload("2026-01-31T12:00:00"), "envelope.event_time"),
        (_payload(NOW_MS, checkpoints=[NOW_MS, "soon"]), "checkpoints[1]"),
        (_payload(NOW_MS, shipped_at="later"), "shipped_at"),
    ],
)
def test_time_text_that_does_not_parse_is_refused_naming_the_field(
    payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(EventInvalidError) as caught:
        encode_json_event(payload, WRITER, CLOCK)
    assert caught.value.code == "invalid_timestamp"
    assert caught.value.field == field
    assert field in caught.value.message


def test_a_converted_event_time_still_keeps_the_time_rules() -> None:
    with pytest.raises(EventInvalidError) as caught:
        encode_json_event(_payload("2020-01-01T00:00:00Z"), WRITER, CLOCK)
    assert caught.value.code == "event_time_too_old"

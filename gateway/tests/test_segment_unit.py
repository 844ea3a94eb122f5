"""Segment messages translated by the mapping shipped beside the contracts."""

from __future__ import annotations

import uuid

import pytest

from accord.gateway.rejections import EventInvalidError
from accord.gateway.segment import SEGMENT_NAMESPACE, SegmentMapping, SegmentMappingError, merged_context

from .helpers import SEGMENT_MAPPING

pytestmark = pytest.mark.unit

MAPPING = SegmentMapping.from_file(SEGMENT_MAPPING)
NOW_MS = 1_769_860_800_000


def test_the_event_id_is_the_uuid5_of_the_message_id_so_resends_share_it() -> None:
    message = {"messageId": "ajs-next-1f3a", "anonymousId": "a", "properties": {"url": "https://x"}}
    first = MAPPING.translate(message, "page", NOW_MS)
    again = MAPPING.translate(dict(message), "page", NOW_MS)
    other = MAPPING.translate({**message, "messageId": "ajs-next-1f3b"}, "page", NOW_MS)
    event_id = first["payload"]["envelope"]["event_id"]
    assert event_id == str(uuid.uuid5(SEGMENT_NAMESPACE, "ajs-next-1f3a"))
    assert again["payload"]["envelope"]["event_id"] == event_id
    assert other["payload"]["envelope"]["event_id"] != event_id


def test_context_and_properties_land_on_the_envelope_and_the_fields() -> None:
    message = {
        "messageId": "m",
        "userId": "u-1",
        "timestamp": "2026-01-31T12:00:00.000Z",
        "event": "Order Completed",
        "properties": {"order_id": "o-1", "revenue": 12.5, "currency": "EUR", "unknown": 1},
        "context": {
            "userAgent": "Mozilla/5.0",
            "locale": "de-DE",
            "ip": "203.0.113.9",
            "device": {"type": "ios"},
            "library": {"name": "analytics-python", "version": "2.4.0"},
        },
    }
    item = MAPPING.translate(message, "track", NOW_MS)
    assert item["schema"] == "accord.events.Purchase"
    payload = item["payload"]
    assert payload["order_id"] == "o-1"
    assert payload["amount"] == 12.5  # `total` absent: the next source, `revenue`
    assert "unknown" not in payload
    envelope = payload["envelope"]
    assert envelope["event_time"] == NOW_MS
    assert envelope["user_id"] == "u-1"
    assert envelope["context"] == {
        "user_agent": "Mozilla/5.0",
        "locale": "de-DE",
        "library_name": "analytics-python",
        "library_version": "2.4.0",
        "platform": "IOS",  # the device type wins over the library
    }


def test_a_message_without_a_time_happened_when_it_was_received() -> None:
    item = MAPPING.translate({"messageId": "m", "name": "Home", "anonymousId": "a"}, "screen", NOW_MS)
    assert item["payload"]["envelope"]["event_time"] == NOW_MS
    assert item["payload"]["title"] == "Home"


@pytest.mark.parametrize(
    ("message", "call", "code", "field"),
    [
        ({"event": "Order Completed"}, "track", "invalid_segment_message", "messageId"),
        ({"messageId": "", "event": "Order Completed"}, "track", "invalid_segment_message", "messageId"),
        ({"messageId": "m", "event": "Cart Viewed"}, "track", "unmapped_segment_event", "event"),
        ({"messageId": "m", "event": ["Order Completed"]}, "track", "unmapped_segment_event", "event"),
        ({"messageId": "m", "traits": {}}, "identify", "unmapped_segment_event", "type"),
    ],
)
def test_messages_without_identity_or_mapping_are_refused(
    message: dict[str, object], call: str, code: str, field: str
) -> None:
    with pytest.raises(EventInvalidError) as caught:
        MAPPING.translate(message, call, NOW_MS)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_a_batch_context_is_merged_under_each_message_context() -> None:
    merged = merged_context({"locale": "fr-FR", "app": {"name": "a"}}, {"context": {"locale": "en-GB"}})
    assert merged["context"] == {"locale": "en-GB", "app": {"name": "a"}}


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"events": [{"type": "alias", "schema": "x"}]},
        {"events": [{"type": "page", "event": "x", "schema": "y"}]},
    ],
)
def test_a_malformed_mapping_is_refused_at_startup(document: object) -> None:
    with pytest.raises(SegmentMappingError):
        SegmentMapping.from_document(document)

"""Kafka headers the gateway puts on every record of `events`: names and value encoding.

Values are UTF-8 text; times are epoch milliseconds as decimal digits.
"""

from __future__ import annotations

RECEIVED_AT = "accord.received_at"
"""When the gateway received the request (gateway clock, epoch milliseconds)."""
SENT_AT = "accord.sent_at"
"""When the client sent the request (client clock, epoch milliseconds)."""
KEY_ID = "accord.key_id"
"""Id of the write key that sent the event (never the key)."""
EVENT_ID = "accord.event_id"
"""The event's `envelope.event_id`."""


def encode_millis(epoch_millis: int) -> bytes:
    """A header value holding epoch milliseconds."""
    return str(epoch_millis).encode()


def decode_millis(value: bytes | str | None) -> int | None:
    """Epoch milliseconds of a header value, None when absent or not a whole number."""
    if value is None:
        return None
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    text = text.strip()
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        return None
    return int(text)


def encode_text(value: str) -> bytes:
    """A header value holding text."""
    return value.encode()

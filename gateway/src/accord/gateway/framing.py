"""Byte layouts: the Avro batch body and the Confluent framing of each event."""

from __future__ import annotations

from accord.gateway.rejections import EventInvalidError, FailureType

MAGIC_BYTE = 0
FRAME_HEADER_BYTES = 5
LENGTH_PREFIX_BYTES = 4


def frame(schema_id: int, avro_body: bytes) -> bytes:
    """`avro_body` in Confluent framing: magic byte 0, 4-byte big-endian schema id, Avro binary."""
    return b"\x00" + schema_id.to_bytes(4, "big") + avro_body


def batch_body(framed_events: list[bytes]) -> bytes:
    """An Avro batch body: each event as a 4-byte big-endian length followed by its framed bytes."""
    return b"".join(len(event).to_bytes(4, "big") + event for event in framed_events)


def split_batch(body: bytes) -> tuple[list[bytes], bytes | None]:
    """The framed events of an Avro batch body, and the truncated tail if the body ends mid-event.

    A length prefix that runs past the end of the body leaves the rest unreadable: the events
    before it are returned, the rest is returned as the truncated tail.
    """
    events: list[bytes] = []
    offset, size = 0, len(body)
    while offset < size:
        if size - offset < LENGTH_PREFIX_BYTES:
            return events, body[offset:]
        length = int.from_bytes(body[offset : offset + LENGTH_PREFIX_BYTES], "big")
        start = offset + LENGTH_PREFIX_BYTES
        if start + length > size:
            return events, body[offset:]
        events.append(body[start : start + length])
        offset = start + length
    return events, None


def schema_id_of(framed: bytes) -> int:
    """The schema id of a framed event; `EventInvalidError` when the framing is wrong."""
    if len(framed) <= FRAME_HEADER_BYTES:
        raise EventInvalidError(
            FailureType.FORMAT_VIOLATION,
            "truncated_frame",
            f"a framed event needs a 5-byte header and an Avro body; got {len(framed)} bytes",
        )
    if framed[0] != MAGIC_BYTE:
        raise EventInvalidError(
            FailureType.FORMAT_VIOLATION,
            "bad_magic_byte",
            f"the first byte must be the magic byte 0 of Confluent framing; got {framed[0]}",
        )
    return int.from_bytes(framed[1:FRAME_HEADER_BYTES], "big")

"""Byte layouts: Confluent framing of one event and the Avro batch body of a request."""

from __future__ import annotations

from dataclasses import dataclass

from accord.wire.error_codes import ErrorCode

MAGIC_BYTE = 0
"""First byte of a Confluent-framed value."""
SCHEMA_ID_BYTES = 4
FRAME_HEADER_BYTES = 1 + SCHEMA_ID_BYTES
"""Magic byte and 4-byte big-endian schema id, before the Avro binary."""
LENGTH_PREFIX_BYTES = 4
"""Each event of an Avro batch body is preceded by its length, 4 bytes big-endian."""
MAX_SCHEMA_ID = 2**32 - 1

AVRO_BATCH_MEDIA_TYPE = "application/vnd.accord.avro-batch"
"""Content-Type of an Avro batch body (`POST /v1/events`)."""
JSON_MEDIA_TYPE = "application/json"


class FramingError(ValueError):
    """Bytes that are not a Confluent-framed event; `code` is the gateway's error code for it."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def frame(schema_id: int, avro_body: bytes) -> bytes:
    """`avro_body` in Confluent framing: magic byte 0, 4-byte big-endian schema id, Avro binary."""
    if not 0 <= schema_id <= MAX_SCHEMA_ID:
        raise ValueError(f"a schema id is an unsigned 32-bit integer; got {schema_id}")
    return bytes((MAGIC_BYTE,)) + schema_id.to_bytes(SCHEMA_ID_BYTES, "big") + avro_body


def schema_id_of(framed: bytes) -> int:
    """The schema id of a framed event; `FramingError` when the framing is wrong.

    A frame needs at least one byte of Avro body: no event record encodes to zero bytes.
    """
    if len(framed) <= FRAME_HEADER_BYTES:
        raise FramingError(
            ErrorCode.TRUNCATED_FRAME,
            f"a framed event needs a 5-byte header and an Avro body; got {len(framed)} bytes",
        )
    if framed[0] != MAGIC_BYTE:
        raise FramingError(
            ErrorCode.BAD_MAGIC_BYTE,
            f"the first byte must be the magic byte 0 of Confluent framing; got {framed[0]}",
        )
    return int.from_bytes(framed[1:FRAME_HEADER_BYTES], "big")


@dataclass(frozen=True)
class Unframed:
    """A framed event taken apart."""

    schema_id: int
    avro_body: bytes


def unframe(framed: bytes) -> Unframed:
    """The schema id and Avro body of a framed event; `FramingError` when the framing is wrong."""
    return Unframed(schema_id_of(framed), framed[FRAME_HEADER_BYTES:])


def batch_body(framed_events: list[bytes]) -> bytes:
    """An Avro batch body: each event as a 4-byte big-endian length followed by its framed bytes."""
    return b"".join(len(event).to_bytes(LENGTH_PREFIX_BYTES, "big") + event for event in framed_events)


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

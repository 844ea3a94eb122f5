"""What every generated event class in `accord.sdk.events` is, and the defaults it relies on.

The classes themselves are written by `accord schemas codegen` from the `.avsc` contracts;
this module holds the two protocols they satisfy and the factories behind the `.avsc` field
attribute `"accord.default"` (`"uuid7"` -> `uuid7()`, `"now"` -> `utc_now()`).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self
from uuid import UUID

if TYPE_CHECKING:
    from accord.sdk.events.envelope import Envelope

_UUID_VERSION_7 = 0x7 << 76
_RFC_4122_VARIANT = 0b10 << 62


class Record(Protocol):
    """A generated class bound to a registry subject and its self-contained Avro schema.

    The schema holds the very dicts of the shared types it uses (an event's envelope type is
    `Envelope.AVRO_SCHEMA`), so changing one would change every schema that holds it: read only.
    """

    SUBJECT: ClassVar[str]
    AVRO_SCHEMA: ClassVar[dict[str, Any]]

    def to_avro(self) -> dict[str, Any]:
        """The record as the dict fastavro writes with `AVRO_SCHEMA`."""
        ...

    @classmethod
    def from_avro(cls, data: dict[str, Any]) -> Self:
        """The record from the dict fastavro reads with `AVRO_SCHEMA`."""
        ...


class Event(Record, Protocol):
    """A product event: a record whose first field is the shared `Envelope`."""

    envelope: Envelope


def uuid7() -> UUID:
    """A new UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.

    Ids made later sort after ids made in an earlier millisecond, which keeps event ids
    roughly time-ordered for storage and deduplication.
    """
    millis = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big")
    rand_a = random >> 68
    rand_b = random & ((1 << 62) - 1)
    return UUID(
        int=(millis & 0xFFFF_FFFF_FFFF) << 80 | _UUID_VERSION_7 | rand_a << 64 | _RFC_4122_VARIANT | rand_b
    )


def utc_now() -> datetime:
    """The current time in UTC, truncated to the millisecond that timestamp-millis keeps."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond - now.microsecond % 1000)

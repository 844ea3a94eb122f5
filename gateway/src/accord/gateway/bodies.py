"""Reading request bodies within limits: size, gzip, JSON, and the client's `sent_at` time."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import orjson
from fastapi import Request

from accord.gateway.errors import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from accord.gateway.json_times import rfc3339_epoch
from accord.wire.error_codes import ErrorCode
from accord.wire.rules import time_in_range

BEACON = "text/plain"
"""What `navigator.sendBeacon` sends a string as: read as JSON, with the key in `writeKey`."""


def request_credentials(request: Request, kind: str) -> tuple[str | None, str | None] | None:
    """The Authorization header and `writeKey` query parameter to authenticate with.

    None when a beacon body (`text/plain`) names neither: its key is then the body's `writeKey`
    field, read once the body is.
    """
    authorization, write_key = request.headers.get("authorization"), request.query_params.get("writeKey")
    if kind == BEACON and not authorization and not write_key:
        return None
    return authorization, write_key


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, without parameters, lower-case."""
    return (content_type or "").split(";", 1)[0].strip().lower()


async def read_body(
    chunks: AsyncIterator[bytes], content_length: str | None, content_encoding: str | None, max_bytes: int
) -> bytes:
    """The request body, gunzipped when sent with `Content-Encoding: gzip`, at most `max_bytes`.

    The declared length is checked before anything is read, and decompression stops as soon as
    the limit is passed, so neither a large body nor a gzip bomb is held in memory.
    """
    encoding = (content_encoding or "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise UnsupportedMediaTypeError(
            ErrorCode.UNSUPPORTED_CONTENT_ENCODING,
            f"Content-Encoding {encoding!r} is not supported; use gzip or none",
        )
    if content_length is not None and content_length.isdigit() and int(content_length) > max_bytes:
        raise _too_large(max_bytes)
    raw = bytearray()
    async for chunk in chunks:
        raw += chunk
        if len(raw) > max_bytes:
            raise _too_large(max_bytes)
    if encoding == "identity":
        return bytes(raw)
    return gunzip(bytes(raw), max_bytes)


GZIP_MAGIC = b"\x1f\x8b"
MAX_GZIP_MEMBERS = 1_000
"""Most gzip members in one body: streaming writers start one per flush, and the batch limit is
1,000 events by default; each member costs a new decoder, so the count is what bounds the CPU a
body of tiny members can take."""

_FIRST_READ_BYTES = 1024
"""Compressed bytes first given to a member's decoder; each further read doubles, so the bytes
past the member's end that zlib copies back (`unused_data`) stay small for small members."""


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """Decompress a gzip body of one or more members (RFC 1952), refusing more than `max_bytes` of output.

    Every member is decoded (`cat a.gz b.gz` is one valid body); anything after the last member
    that is not another member, or a truncated member, refuses the whole body, so no request is
    ever answered for part of its events.
    """
    view = memoryview(data)
    out = bytearray()
    position = members = 0
    while position < len(data):
        if view[position : position + 2] != GZIP_MAGIC:
            if members == 0:
                raise BadRequestError(ErrorCode.INVALID_GZIP, "the body is not valid gzip: no gzip header")
            raise BadRequestError(
                ErrorCode.GZIP_TRAILING_DATA,
                f"{len(data) - position} bytes after gzip member {members} are not another gzip member",
            )
        members += 1
        if members > MAX_GZIP_MEMBERS:
            raise BadRequestError(
                ErrorCode.TOO_MANY_GZIP_MEMBERS, f"the body holds more than {MAX_GZIP_MEMBERS} gzip members"
            )
        inflater = zlib.decompressobj(wbits=31)
        read = _FIRST_READ_BYTES
        while not inflater.eof:
            chunk = view[position : position + read]
            if not chunk:
                raise BadRequestError(ErrorCode.INVALID_GZIP, f"gzip member {members} is truncated")
            position += len(chunk)
            try:
                out += inflater.decompress(chunk, max_bytes + 1 - len(out))
            except zlib.error as exc:
                raise BadRequestError(ErrorCode.INVALID_GZIP, f"the body is not valid gzip: {exc}") from exc
            if len(out) > max_bytes:
                raise _too_large(max_bytes, "after gzip decoding ")
            read *= 2
        position -= len(inflater.unused_data)
    if members == 0:
        raise BadRequestError(ErrorCode.INVALID_GZIP, "the gzip body is empty")
    return bytes(out)


def _too_large(max_bytes: int, stage: str = "") -> PayloadTooLargeError:
    return PayloadTooLargeError(
        ErrorCode.BODY_TOO_LARGE, f"the body is larger {stage}than the limit of {max_bytes} bytes"
    )


MAX_JSON_DEPTH = 254
"""Deepest nesting of arrays and objects the gateway reads: the most orjson writes back, so that
any part of an accepted document can be serialised again (dead-letter records hold it)."""


def parse_json(text: bytes | str, what: str = "the body") -> object:
    """The JSON document of `text`; `BadRequestError` naming where it breaks, or that it nests too deep.

    The depth is bounded before anything walks the document in Python: orjson's parser stops at
    1,024 levels by itself, and writing the parsed document back (a fraction of the parse's cost)
    fails past `MAX_JSON_DEPTH`.
    """
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):
            raise _too_deep(what) from exc
        raise BadRequestError(ErrorCode.MALFORMED_JSON, f"{what} is not valid JSON: {exc}") from exc
    try:
        orjson.dumps(document)
    except orjson.JSONEncodeError as exc:  # the only thing a parsed document can fail on
        raise _too_deep(what) from exc
    return document


def _too_deep(what: str) -> BadRequestError:
    return BadRequestError(
        ErrorCode.JSON_TOO_DEEP, f"{what} nests arrays and objects deeper than {MAX_JSON_DEPTH} levels"
    )


def sent_at_ms(value: object, source: str) -> int:
    """Epoch milliseconds of the client's `sent_at` (from the header or field `source`).

    Accepted as RFC 3339 text with an offset or as epoch milliseconds (a JSON integer, or the
    header's digits).
    """
    if value is None or value == "":
        raise BadRequestError(
            ErrorCode.MISSING_SENT_AT,
            f"{source} is required: the client's clock at sending, RFC 3339 or epoch milliseconds",
        )
    millis: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        millis = value
    elif isinstance(value, str):
        millis = int(value) if value.isascii() and value.isdigit() else rfc3339_epoch(value)
    if millis is None:
        raise BadRequestError(
            ErrorCode.INVALID_SENT_AT,
            f"{source} must be epoch milliseconds or an RFC 3339 time with an offset such as "
            f"2026-01-31T12:00:00.000Z; got {str(value)[:60]!r}",
        )
    violation = time_in_range(source, millis)
    if violation is not None:
        raise BadRequestError(ErrorCode.SENT_AT_OUT_OF_RANGE, f"{violation.message} (rule {violation.rule})")
    return millis

"""Reading request bodies within limits: size, gzip, JSON, and the client's `sent_at` time."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from datetime import datetime

import orjson

from accord.gateway.errors import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from accord.wire.error_codes import ErrorCode
from accord.wire.rules import time_in_range


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


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """Decompress a gzip body, refusing more than `max_bytes` of output."""
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise BadRequestError(ErrorCode.INVALID_GZIP, f"the body is not valid gzip: {exc}") from exc
    if len(out) > max_bytes:
        raise _too_large(max_bytes, "after gzip decoding ")
    if not inflater.eof:
        raise BadRequestError(ErrorCode.INVALID_GZIP, "the gzip body is truncated")
    return out


def _too_large(max_bytes: int, stage: str = "") -> PayloadTooLargeError:
    return PayloadTooLargeError(
        ErrorCode.BODY_TOO_LARGE, f"the body is larger {stage}than the limit of {max_bytes} bytes"
    )


def parse_json(body: bytes) -> object:
    """The JSON document of the body; `BadRequestError(malformed_json)` naming where it breaks."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(ErrorCode.MALFORMED_JSON, f"the body is not valid JSON: {exc}") from exc


def sent_at_ms(value: object, source: str) -> int:
    """Epoch milliseconds of the client's RFC 3339 `sent_at` (from the header or field `source`)."""
    if not isinstance(value, str) or not value:
        raise BadRequestError(
            ErrorCode.MISSING_SENT_AT, f"{source} is required: the client's clock at sending, RFC 3339"
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequestError(
            ErrorCode.INVALID_SENT_AT,
            f"{source} must be an RFC 3339 time such as 2026-01-31T12:00:00.000Z; got {value!r}",
        ) from None
    if moment.tzinfo is None:
        raise BadRequestError(
            ErrorCode.INVALID_SENT_AT, f"{source} must carry a UTC offset (Z or +hh:mm); got {value!r}"
        )
    millis = int(moment.timestamp() * 1000)
    violation = time_in_range(source, millis)
    if violation is not None:
        raise BadRequestError(ErrorCode.SENT_AT_OUT_OF_RANGE, f"{violation.message} (rule {violation.rule})")
    return millis

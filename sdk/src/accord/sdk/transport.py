"""HTTP exchanges with the gateway: schema id resolution and event batches."""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

logger = logging.getLogger(__name__)

_RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class RetryableError(Exception):
    """The request may succeed later: network error, 5xx, 429; `retry_after` in seconds if told."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class RequestRefusedError(Exception):
    """The gateway refused the whole request for good (4xx): `code` and `message` from its answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class BatchAnswer:
    """The gateway's answer to a batch (200, 207 or 422)."""

    accepted: int
    duplicates: int
    rejected: list[dict[str, Any]] = field(default_factory=list)


def rfc3339_now() -> str:
    """The current UTC time in RFC 3339 with milliseconds, e.g. `2026-01-31T12:00:00.123Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class GatewayTransport:
    """One keep-alive HTTP connection pool to the gateway, used by the sender thread only."""

    def __init__(
        self,
        gateway_url: str,
        write_key: str,
        *,
        timeout_s: float,
        gzip_bodies: bool,
        http_transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._gzip = gzip_bodies
        self._http = httpx.Client(
            base_url=gateway_url.rstrip("/"),
            headers={"Authorization": f"Bearer {write_key}", "User-Agent": "accord-sdk-python"},
            timeout=timeout_s,
            transport=http_transport,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def resolve(self, subject: str, schema: dict[str, Any]) -> int | None:
        """The registered schema id of `subject` for `schema`; None when it is not registered."""
        response = self._exchange("POST", "/v1/schemas/resolve", json={"subject": subject, "schema": schema})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise _refusal(response)
        schema_id: int = response.json()["id"]
        return schema_id

    def post_events(self, body: bytes, content_type: str, sent_at: str) -> BatchAnswer:
        """POST one batch; the answer for 200/207/422, `RequestRefusedError` or `RetryableError` otherwise."""
        headers = {"Content-Type": content_type, "Accord-Sent-At": sent_at}
        if self._gzip:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        response = self._exchange("POST", "/v1/events", content=body, headers=headers)
        if response.status_code not in (200, 207, 422):
            raise _refusal(response)
        answer = response.json()
        return BatchAnswer(
            accepted=int(answer.get("accepted", 0)),
            duplicates=int(answer.get("duplicates", 0)),
            rejected=list(answer.get("rejected", [])),
        )

    def _exchange(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise RetryableError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code in _RETRYABLE_STATUS:
            raise RetryableError(
                f"HTTP {response.status_code}", retry_after_seconds(response.headers.get("Retry-After"))
            )
        return response


def _refusal(response: httpx.Response) -> RequestRefusedError:
    code, message = f"http_{response.status_code}", response.text[:200]
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        logger.debug("gateway answer without an error body", extra={"status": response.status_code})
    return RequestRefusedError(response.status_code, code, message)

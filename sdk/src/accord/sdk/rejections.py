"""What the SDK reports about an event that will never be delivered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accord.wire.error_codes import ErrorCode

# Codes the SDK reports itself, for events it never got the gateway to accept (with
# `sender.SCHEMA_NOT_REGISTERED`).
EVENT_TOO_LARGE = ErrorCode.EVENT_TOO_LARGE.value
"""The encoded event exceeds `ClientConfig.max_event_bytes` (the gateway's limit): never sent."""
RETRIES_EXHAUSTED = "retries_exhausted"
"""The gateway stayed unavailable for `retry_timeout_s` (or `max_retries` attempts). When an
attempt timed out rather than being refused, the gateway may still have taken the event."""


@dataclass(frozen=True)
class RejectedEvent:
    """An event the gateway refused, passed to the client's `on_rejected` callback.

    `code` is the gateway's code (e.g. `wrong_type`, `invalid_write_key`), or one the SDK
    reports itself: `schema_not_registered` (no registered version of the event's schema),
    `event_too_large` (larger than the gateway takes, so never sent) or `retries_exhausted`
    (the gateway stayed unavailable past the retry bounds). `field` names the offending field
    when the gateway said which.
    """

    event_id: str
    subject: str
    code: str
    field: str | None
    message: str

    @property
    def error_code(self) -> ErrorCode | None:
        """`code` as a member of the gateway's error codes, None when it is not one."""
        return ErrorCode.parse(self.code)


RejectedCallback = Callable[[RejectedEvent], None]

"""What the SDK reports about an event that will never be delivered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accord.wire.error_codes import ErrorCode


@dataclass(frozen=True)
class RejectedEvent:
    """An event the gateway refused, passed to the client's `on_rejected` callback.

    `code` is the gateway's error code (e.g. `wrong_type`, `unauthorized_subject`, or
    `schema_not_registered` when the event's schema has no registered version), or
    `http_<status>` when the gateway answered without one; `field` names the offending field
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

"""Why an event was refused: the per-event answer and the dead-letter record built from it."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from accord.wire.error_codes import ErrorCode, FailureType
from accord.wire.rules import Violation

# A failure can be re-driven when fixing something outside the event (registering its schema,
# granting the key a subject, relaxing a rule) makes the original bytes acceptable; bytes that
# are malformed or too large stay bad whatever is fixed.
_RECOVERABLE = {
    FailureType.FORMAT_VIOLATION: False,
    FailureType.SIZE_VIOLATION: False,
    FailureType.SCHEMA_VIOLATION: True,
    FailureType.UNKNOWN_SCHEMA: True,
    FailureType.UNAUTHORIZED_SUBJECT: True,
}

DEADLETTER_STAGE = "gateway"


class EventInvalidError(Exception):
    """One event of a batch cannot be accepted; carries the answer's code, field and message."""

    def __init__(
        self,
        failure_type: FailureType,
        code: ErrorCode,
        message: str,
        field: str | None = None,
        *,
        event_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.failure_type = failure_type
        self.code = code
        self.message = message
        self.field = field
        self.event_id = event_id

    @classmethod
    def breaking(cls, violation: Violation, event_id: str | None = None) -> EventInvalidError:
        """The refusal of an event that breaks one of the shared event rules."""
        return cls(
            FailureType.SCHEMA_VIOLATION,
            violation.code,
            violation.message,
            violation.field,
            event_id=event_id,
        )


@dataclass(frozen=True)
class Rejection:
    """A refused event: what the client is told and what the dead-letter topic keeps."""

    index: int
    failure_type: FailureType
    code: ErrorCode
    message: str
    field: str | None
    original: bytes
    event_id: str | None = None
    subject: str | None = None
    schema_id: int | None = None

    @classmethod
    def from_error(
        cls,
        index: int,
        error: EventInvalidError,
        original: bytes,
        *,
        subject: str | None = None,
        schema_id: int | None = None,
        readable_id: str | None = None,
    ) -> Rejection:
        """The rejection of event `index` for `error`; `readable_id` is the event id read from
        `original` as far as it decodes, kept when the error carries none."""
        return cls(
            index=index,
            failure_type=error.failure_type,
            code=error.code,
            message=error.message,
            field=error.field,
            original=original,
            event_id=error.event_id or readable_id,
            subject=subject,
            schema_id=schema_id,
        )

    def answer(self) -> dict[str, Any]:
        """The entry of the HTTP answer's `rejected` list."""
        return {
            "index": self.index,
            "event_id": self.event_id,
            "code": self.code,
            "field": self.field,
            "message": self.message,
        }

    def deadletter_record(self, received_at_ms: int, key_id: str) -> dict[str, Any]:
        """The dead-letter record (wire contract: one JSON object per rejected event)."""
        return {
            "stage": DEADLETTER_STAGE,
            "failure_type": self.failure_type.value,
            "subject": self.subject,
            "schema_id": self.schema_id,
            "errors": [{"field": self.field, "rule": self.code, "message": self.message}],
            "event_id": self.event_id,
            "original": base64.b64encode(self.original).decode(),
            "recoverable": _RECOVERABLE[self.failure_type],
            "received_at": received_at_ms,
            "key_id": key_id,
        }

"""Why an event was refused: the per-event answer and the dead-letter record built from it."""

from __future__ import annotations

import base64
import hashlib
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

MAX_TEXT_CHARS = 1_000
"""Longest message, field path, event id or subject a rejection carries: they can quote what the
client sent (a 4 MB string that is not a UUID), and neither the answer nor the dead-letter record
must grow with it."""


def clip(text: str | None) -> str | None:
    """`text` cut to `MAX_TEXT_CHARS`, saying how much was cut."""
    if text is None or len(text) <= MAX_TEXT_CHARS:
        return text
    return f"{text[:MAX_TEXT_CHARS]}… ({len(text) - MAX_TEXT_CHARS} more characters)"


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
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.failure_type = failure_type
        self.code = code
        self.message = message
        self.field = field
        self.event_id = event_id
        self.rule = rule
        """The name of the data-contract rule the event breaks (`contract_rule_violation`)."""

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
    rule: str | None = None

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
            message=clip(error.message) or "",
            field=clip(error.field),
            original=original,
            event_id=clip(error.event_id or readable_id),
            subject=clip(subject),
            schema_id=schema_id,
            rule=error.rule,
        )

    def answer(self) -> dict[str, Any]:
        """The entry of the HTTP answer's `rejected` list (`rule` only for a data-contract rule)."""
        entry = {
            "index": self.index,
            "event_id": self.event_id,
            "code": self.code,
            "field": self.field,
            "message": self.message,
        }
        if self.rule is not None:
            entry["rule"] = self.rule
        return entry

    def deadletter_record(self, received_at_ms: int, key_id: str, original_max_bytes: int) -> dict[str, Any]:
        """The dead-letter record (wire contract: one JSON object per rejected event).

        At most `original_max_bytes` of the original are copied, so that the record always fits
        a Kafka record whatever the client sent; `original_size` and `original_sha256` describe
        the whole original, and `original_truncated` says whether `original` holds less.
        """
        kept = self.original[:original_max_bytes]
        return {
            "stage": DEADLETTER_STAGE,
            "failure_type": self.failure_type.value,
            "subject": self.subject,
            "schema_id": self.schema_id,
            "errors": [{"field": self.field, "rule": self.code, "message": self.message}],
            "event_id": self.event_id,
            "original": base64.b64encode(kept).decode(),
            "original_size": len(self.original),
            "original_sha256": hashlib.sha256(self.original).hexdigest(),
            "original_truncated": len(kept) < len(self.original),
            "recoverable": _RECOVERABLE[self.failure_type],
            "received_at": received_at_ms,
            "key_id": key_id,
        }

"""What the SDK reports about an event that will never be delivered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RejectedEvent:
    """An event the gateway refused, passed to the client's `on_rejected` callback.

    `code` is the gateway's code (e.g. `schema_violation`, `unauthorized`) or
    `schema_not_registered` when the event's schema has no registered version; `field` names
    the offending field when the gateway said which.
    """

    event_id: str
    subject: str
    code: str
    field: str | None
    message: str


RejectedCallback = Callable[[RejectedEvent], None]

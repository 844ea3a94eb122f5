"""What happened to the events a client was given, counted as it happens."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Counters:
    """A snapshot of a client's counts.

    Every event `track` accepted ends as exactly one of sent, rejected or dropped; `queued` are
    those still waiting. `retried` counts resends (one per event per extra attempt) and
    `duplicates` the sent events the gateway had already seen.
    """

    sent: int = 0
    retried: int = 0
    rejected: int = 0
    dropped: int = 0
    duplicates: int = 0
    queued: int = 0


class Tally:
    """Thread-safe counters, and a way to wait until what was accepted so far is settled."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._accepted = 0
        self._settled = 0
        self._sent = 0
        self._retried = 0
        self._rejected = 0
        self._dropped = 0
        self._duplicates = 0

    def accepted(self) -> None:
        """Count one event handed to the queue (before it is put, so it never settles first)."""
        with self._changed:
            self._accepted += 1

    def settle(self, *, sent: int = 0, rejected: int = 0, dropped: int = 0, duplicates: int = 0) -> None:
        """Record the final outcome of events that had been accepted."""
        with self._changed:
            self._sent += sent
            self._rejected += rejected
            self._dropped += dropped
            self._duplicates += duplicates
            self._settled += sent + rejected + dropped
            self._changed.notify_all()

    def retried(self, events: int) -> None:
        """Count `events` about to be sent again."""
        with self._changed:
            self._retried += events

    def wait_settled(self, timeout: float | None) -> bool:
        """Wait until every event accepted before this call is settled; False on timeout."""
        with self._changed:
            target = self._accepted
            return self._changed.wait_for(lambda: self._settled >= target, timeout)

    def snapshot(self) -> Counters:
        """The counts now."""
        with self._changed:
            return Counters(
                sent=self._sent,
                retried=self._retried,
                rejected=self._rejected,
                dropped=self._dropped,
                duplicates=self._duplicates,
                queued=self._accepted - self._settled,
            )

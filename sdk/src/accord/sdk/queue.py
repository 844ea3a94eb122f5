"""The bounded queue between `track` and the background sender."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from accord.sdk.codec import EventCodec


@dataclass(slots=True)
class Pending:
    """An encoded event waiting to be sent: its Avro body, or its JSON payload in JSON mode.

    `refusal` (code, message) marks an event refused before sending: it travels through the
    queue without its payload, so that the sender thread reports it like any other rejection.
    """

    codec: EventCodec
    event_id: str
    payload: bytes
    size: int
    enqueued_at: float = field(default_factory=time.monotonic)
    refusal: tuple[str, str] | None = None


class EventQueue:
    """A FIFO of at most `capacity` events that hands the sender batches.

    A batch is released when it is full (by count or bytes), when its oldest event has waited
    `linger_s`, or at once while a flush or close is asking for everything.
    """

    def __init__(self, capacity: int, batch_size: int, batch_bytes: int, linger_s: float) -> None:
        self._capacity = capacity
        self._batch_size = batch_size
        self._batch_bytes = batch_bytes
        self._linger_s = linger_s
        self._items: deque[Pending] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._urgent = False
        self._closed = False

    def put(self, item: Pending, timeout: float | None) -> bool:
        """Append `item`; when full, wait up to `timeout` seconds (0: not at all). False if still full."""
        with self._lock:
            full = len(self._items) >= self._capacity
            if full and not (
                timeout
                and self._not_full.wait_for(
                    lambda: len(self._items) < self._capacity or self._closed, timeout
                )
            ):
                return False
            if self._closed:
                return False
            self._items.append(item)
            self._bytes += item.size
            # Wake the sender only when it has something new to decide: a first event starts
            # the linger clock, a full batch is ready. Waking it on every put costs track()
            # a thread switch per event.
            count = len(self._items)
            if count == 1 or count == self._batch_size or self._bytes >= self._batch_bytes:
                self._not_empty.notify()
            return True

    def expedite(self) -> None:
        """Release what is queued without waiting for batches to fill (flush)."""
        with self._lock:
            self._urgent = True
            self._not_empty.notify()

    def close(self) -> None:
        """Take no more waits: the sender drains what is left, then `next_batch` returns []."""
        with self._lock:
            self._closed = True
            self._not_empty.notify_all()
            self._not_full.notify_all()

    def next_batch(self) -> list[Pending]:
        """Wait for the next batch (at least one event); [] once closed and empty."""
        max_count, max_bytes, linger_s = self._batch_size, self._batch_bytes, self._linger_s
        with self._lock:
            while True:
                if self._items:
                    waited = time.monotonic() - self._items[0].enqueued_at
                    if (
                        self._urgent
                        or self._closed
                        or len(self._items) >= max_count
                        or self._bytes >= max_bytes
                        or waited >= linger_s
                    ):
                        break
                    self._not_empty.wait(linger_s - waited)
                elif self._closed:
                    return []
                else:
                    self._urgent = False
                    self._not_empty.wait()
            batch: list[Pending] = []
            size = 0
            while self._items and len(batch) < max_count:
                item = self._items[0]
                if batch and size + item.size > max_bytes:
                    break
                batch.append(self._items.popleft())
                size += item.size
            self._bytes -= size
            if not self._items:
                self._urgent = False
            self._not_full.notify_all()
            return batch

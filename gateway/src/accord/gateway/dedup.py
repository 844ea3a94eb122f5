"""Event ids accepted recently, so an obvious client retry is not produced twice."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable


class RecentEventIds:
    """Remembers event ids for `window_s` seconds, at most `max_ids` of them (oldest forgotten first).

    Ids are remembered only once Kafka acknowledged them: an id whose request failed must be
    produced when the client retries.
    """

    def __init__(self, window_s: float, max_ids: int) -> None:
        self._window_s = window_s
        self._max_ids = max_ids
        self._expiry: dict[str, float] = {}
        self._order: deque[tuple[float, str]] = deque()

    def __len__(self) -> int:
        return len(self._expiry)

    def seen(self, event_id: str, now: float) -> bool:
        """True when `event_id` was accepted less than the window ago."""
        expires = self._expiry.get(event_id)
        return expires is not None and expires > now

    def remember(self, event_ids: Iterable[str], now: float) -> None:
        """Remember `event_ids` as accepted at `now`, and forget what fell out of the window."""
        expires = now + self._window_s
        for event_id in event_ids:
            self._expiry[event_id] = expires
            self._order.append((expires, event_id))
        self._evict(now)

    def _evict(self, now: float) -> None:
        order, expiry = self._order, self._expiry
        while order and (order[0][0] <= now or len(expiry) > self._max_ids):
            expires, event_id = order.popleft()
            # a later `remember` of the same id left a newer entry behind this one: keep the id
            if expiry.get(event_id) == expires:
                del expiry[event_id]

"""Events per second per write key: a token bucket for each key."""

from __future__ import annotations

import math
from dataclasses import dataclass

from accord.gateway.errors import RateLimitedError
from accord.wire.error_codes import ErrorCode


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows each key `rate` events/s on average and bursts of up to `burst` events."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key_id: str, events: int, now: float) -> None:
        """Spend `events` tokens of `key_id`; `RateLimitedError` (with the wait) when there are too few."""
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = self._buckets[key_id] = _Bucket(float(self._burst), now)
        bucket.tokens = min(float(self._burst), bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if events <= bucket.tokens:
            bucket.tokens -= events
            return
        wait_s = max(1, math.ceil((min(events, self._burst) - bucket.tokens) / self._rate))
        raise RateLimitedError(
            ErrorCode.RATE_LIMITED,
            f"write key {key_id!r} may send {self._rate:g} events/s (bursts of {self._burst}); "
            f"retry in {wait_s}s",
            retry_after_s=wait_s,
        )

"""Waiting for a state: the one polling loop the supervisor and the tests use.

`wait_until(condition, timeout_s=..., describe=...)` calls `condition` until it returns a truthy
value (or one that `until` accepts) and returns that value. An exception the condition raises
propagates at once (it is how a condition says "this will never happen", e.g. a process that
exited).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from accord.runtime.errors import AccordError

T = TypeVar("T")


class WaitTimeoutError(AccordError, AssertionError):
    """A condition stayed false for the whole timeout.

    An `AssertionError` too, so that pytest reports it as a failed expectation.
    """

    def __init__(self, describe: str, timeout_s: float, last: object) -> None:
        super().__init__(f"timed out after {timeout_s:g}s waiting for {describe}; last value: {last!r}")
        self.describe = describe
        self.timeout_s = timeout_s
        self.last = last


def wait_until(
    condition: Callable[[], T],
    *,
    timeout_s: float,
    interval_s: float = 0.2,
    describe: str | None = None,
    until: Callable[[T], object] = bool,
) -> T:
    """Call `condition` every `interval_s` until its value is truthy, and return that value.

    `until` judges the value instead (e.g. `until=lambda n: n >= 5`), so that the condition
    returns what it observed (a row count, a status) and a timeout reports it. Raises
    `WaitTimeoutError` naming `describe` (default: the condition's name), the timeout and the
    last value seen when `timeout_s` passes first. The condition is called at least once, and
    once more at the deadline, so a slow condition still gets its last chance.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if until(value):
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            name = describe or str(getattr(condition, "__name__", condition))
            raise WaitTimeoutError(name, timeout_s, value)
        time.sleep(min(interval_s, remaining))

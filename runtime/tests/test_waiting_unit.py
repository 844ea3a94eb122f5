"""`wait_until`: returns the condition's value, or fails naming what it waited for."""

from __future__ import annotations

import itertools

import pytest

from accord.runtime.waiting import WaitTimeoutError, wait_until

pytestmark = pytest.mark.unit


def test_returns_the_first_truthy_value() -> None:
    values = iter([None, 0, [], ["ready"]])
    assert wait_until(lambda: next(values), timeout_s=5, interval_s=0) == ["ready"]


def test_a_timeout_names_what_was_awaited_and_the_last_value() -> None:
    calls = itertools.count(1)
    with pytest.raises(WaitTimeoutError, match=r"after 0.05s waiting for three rows; last value: 0") as info:
        wait_until(lambda: next(calls) and 0, timeout_s=0.05, interval_s=0.01, describe="three rows")
    assert info.value.last == 0
    assert next(calls) > 2  # polled more than once, the last time at the deadline


def test_a_timeout_fails_a_test_as_an_assertion() -> None:
    with pytest.raises(AssertionError, match="waiting for never"):
        wait_until(lambda: False, timeout_s=0, describe="never")


def test_an_error_of_the_condition_propagates_at_once() -> None:
    def exited() -> bool:
        raise RuntimeError("process exited")

    with pytest.raises(RuntimeError, match="process exited"):
        wait_until(exited, timeout_s=60)


def test_until_judges_the_value_the_condition_observed() -> None:
    counts = iter([1, 2, 3, 4])
    assert wait_until(lambda: next(counts), until=lambda n: n >= 3, timeout_s=5, interval_s=0) == 3
    with pytest.raises(WaitTimeoutError, match="last value: 2"):
        wait_until(lambda: 2, until=lambda n: n >= 3, timeout_s=0, describe="3 rows")

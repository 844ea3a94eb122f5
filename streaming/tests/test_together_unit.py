"""Independent actions of a batch run at the same time, and their errors reach the caller."""

from __future__ import annotations

import threading
import time

import pytest

from accord.streaming.together import run_together

pytestmark = pytest.mark.unit


def test_actions_run_at_the_same_time_and_all_end_before_it_returns() -> None:
    both_started = threading.Barrier(2, timeout=5)
    ended: list[str] = []

    def action(name: str) -> None:
        both_started.wait()  # only passes when the other action runs too
        ended.append(name)

    run_together(lambda: action("silver"), lambda: action("bronze"))

    assert sorted(ended) == ["bronze", "silver"]


def test_an_error_is_raised_after_every_other_action_has_ended() -> None:
    ended: list[str] = []

    def slow() -> None:
        time.sleep(0.2)
        ended.append("slow")

    def failing() -> None:
        raise ValueError("the index write failed")

    with pytest.raises(ValueError, match="the index write failed"):
        run_together(failing, slow)
    assert ended == ["slow"]


def test_the_first_failing_action_in_the_order_given_is_the_one_raised() -> None:
    def first() -> None:
        time.sleep(0.1)
        raise KeyError("first")

    def second() -> None:
        raise LookupError("second")

    with pytest.raises(KeyError, match="first"):
        run_together(first, second)

"""Bisecting a failing batch finds the records that fail alone, and only those."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from accord.streaming.errors import SchemaLookupError
from accord.streaming.poison import TooManyPoisonRecordsError, find_poison, is_record_failure

pytestmark = pytest.mark.unit


class Batch:
    """A fake Silver: a part fails when it holds a poison item; remembers what was processed."""

    def __init__(self, poison: set[int], flaky: dict[int, int] | None = None) -> None:
        self.poison = poison
        self.flaky = dict(flaky or {})  # item -> failures left before it succeeds
        self.written: list[int] = []
        self.attempts = 0

    def attempt(self, part: Sequence[int]) -> BaseException | None:
        self.attempts += 1
        bad = [i for i in part if i in self.poison or self.flaky.get(i, 0) > 0]
        for i in bad:
            if i in self.flaky:
                self.flaky[i] -= 1
        if bad:
            return ArithmeticError(f"long overflow at {bad[0]}")
        self.written += part
        return None


def test_only_the_records_that_fail_alone_are_poison_and_every_other_is_written_once() -> None:
    batch = Batch(poison={3, 17, 18})
    items = list(range(40))

    poison = find_poison(items, batch.attempt, tries=3, limit=10)

    assert [item for item, _ in poison] == [3, 17, 18]
    assert str(poison[0][1]) == "long overflow at 3"
    assert sorted(batch.written) == [i for i in items if i not in {3, 17, 18}]
    assert len(batch.written) == len(set(batch.written)), "no record written twice"


def test_a_passing_failure_of_one_record_is_retried_not_quarantined() -> None:
    batch = Batch(poison=set(), flaky={5: 3})

    assert find_poison(list(range(8)), batch.attempt, tries=3, limit=10) == []
    assert sorted(batch.written) == list(range(8))


def test_a_batch_whose_every_record_fails_is_the_batch_failing_not_poison() -> None:
    batch = Batch(poison=set(range(100)))

    with pytest.raises(TooManyPoisonRecordsError):
        find_poison(list(range(100)), batch.attempt, tries=1, limit=5)
    assert batch.attempts < 60, "it stops once the limit is passed"


def test_one_poison_record_among_many_costs_a_logarithmic_number_of_attempts() -> None:
    batch = Batch(poison={700})

    find_poison(list(range(1024)), batch.attempt, tries=1, limit=1)

    assert batch.attempts <= 2 * 10 + 1


def test_registry_outages_and_stopping_queries_are_not_record_failures() -> None:
    assert is_record_failure(ArithmeticError("long overflow"))
    assert not is_record_failure(SchemaLookupError("registry unreachable"))
    assert not is_record_failure(RuntimeError("Job 12 cancelled because SparkContext was shut down"))

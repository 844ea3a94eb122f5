"""Poison records: the few records that make a Silver batch fail, found and quarantined.

Silver's arithmetic cannot throw on a decodable record, but whatever still can (a writer schema
the decoder cannot read, a bug) must not stop the stream on the same batch after every restart.
`PoisonGuard` runs a batch through `SilverBatch`; when it fails `batch_attempts` times in a row
with an error that is not the registry's or the application's own, the batch is bisected by
Kafka offset ranges: every part that succeeds goes to Silver as usual, a part that fails is split
again, and a single record that still fails on its own after `batch_attempts` tries is
quarantined with reason `poison`, its bytes and the error's message.

Exactly once: each part is written with an idempotent identity of its own (the batch's Silver
application id, the batch id and the part's first and last offsets), and Silver's deduplication
against the event-id index keeps a record that an earlier attempt already wrote from being
written twice. When more than `poison_max_records` records of one batch fail alone, the failure
is the batch's (the lake unreachable, a broken deployment), not its records': the batch fails
and the supervisor restarts the query, so nothing is quarantined by mistake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import reduce
from typing import TYPE_CHECKING, TypeVar

from accord.streaming import delta_io, id_index, quarantine
from accord.streaming.decode import with_coordinates
from accord.streaming.errors import StreamFailedError, StreamingError
from accord.streaming.ops import BatchCounts, record_batch
from accord.streaming.silver import SilverBatch

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

log = logging.getLogger(__name__)

POISON = "poison"
DETAIL_MAX_CHARS = 2000
# errors that say the query is being stopped or the JVM is gone, not that a record is bad
_NOT_RECORD_FAILURES = ("cancelled", "canceled", "interruptedexception", "py4jnetworkerror")

T = TypeVar("T")
Coordinate = tuple[int, int]  # (Kafka partition, offset)


class TooManyPoisonRecordsError(StreamFailedError):
    """More records of one batch fail alone than `poison_max_records`: the batch itself is failing."""


def is_record_failure(error: BaseException) -> bool:
    """Whether `error` can be caused by the batch's records (so splitting the batch can isolate them).

    The platform's own errors (registry unreachable, processor not bound) and a stopping query are not.
    """
    if isinstance(error, StreamingError):
        return False
    text = f"{type(error).__name__} {error}".lower()
    return not any(marker in text for marker in _NOT_RECORD_FAILURES)


def find_poison(
    items: Sequence[T],
    attempt: Callable[[Sequence[T]], BaseException | None],
    *,
    tries: int,
    limit: int,
) -> list[tuple[T, BaseException]]:
    """The items that fail alone, found by bisecting `items` (which failed as a whole).

    `attempt` processes a part and returns None, or the record failure that stopped it. A part
    that succeeds is done; one that fails is split in two. When the first half succeeds, the
    failure is in the second, which is split without being tried whole. A single item is tried
    `tries` times before it is declared poison, so a passing fault does not quarantine it.

    Raises:
        TooManyPoisonRecordsError: more than `limit` items fail alone.
    """
    poison: list[tuple[T, BaseException]] = []

    def visit(part: Sequence[T], known_bad: bool) -> bool:
        """Process `part`; True when the whole of it succeeded."""
        if len(part) == 1:
            error = None
            for _ in range(tries):
                error = attempt(part)
                if error is None:
                    return True
            assert error is not None
            poison.append((part[0], error))
            if len(poison) > limit:
                raise TooManyPoisonRecordsError(
                    f"more than {limit} records of one batch fail alone, e.g. {error}"
                ) from error
            return False
        if not known_bad and attempt(part) is None:
            return True
        middle = len(part) // 2
        first_ok = visit(part[:middle], known_bad=False)
        visit(part[middle:], known_bad=first_ok)
        return False

    visit(items, known_bad=True)
    return poison


def _detail(error: BaseException) -> str:
    """The error's type and message, without a JVM stack trace."""
    message = str(error).split("\nJVM stacktrace:", 1)[0].strip()
    return f"{type(error).__name__}: {message}"[:DETAIL_MAX_CHARS]


def _ranges(part: Sequence[Coordinate]) -> Column:
    """The Bronze rows of `part` (coordinates in order): one offset range per partition."""
    from pyspark.sql import functions as sf

    bounds: dict[int, tuple[int, int]] = {}
    for partition, offset in part:
        low, high = bounds.get(partition, (offset, offset))
        bounds[partition] = (min(low, offset), max(high, offset))
    conditions = [
        (sf.col("partition") == sf.lit(p)) & sf.col("offset").between(sf.lit(low), sf.lit(high))
        for p, (low, high) in sorted(bounds.items())
    ]
    return reduce(lambda a, b: a | b, conditions)


class PoisonGuard:
    """Runs Bronze batches through a `SilverBatch`, isolating the records that make them fail."""

    def __init__(self, silver: SilverBatch) -> None:
        self.silver = silver
        self.settings = silver.settings

    def process(self, bronze: DataFrame, batch_id: int) -> BatchCounts:
        """Process one batch of Bronze rows (as `SilverBatch.process`), quarantining its poison records."""
        for attempt in range(1, self.settings.batch_attempts + 1):
            try:
                return self.silver.process(bronze, batch_id)
            except Exception as exc:
                if not is_record_failure(exc):
                    raise
                facts = {"batch_id": batch_id, "attempt": attempt, "error": _detail(exc)}
                log.warning("silver batch failed", extra=facts)
                failure = exc
        if self.silver.wrote_silver(bronze.sparkSession, batch_id):
            # Silver took every record of the batch, so what fails is a write beside it (the
            # index, the counts): no record is poison, and parts written under identities of
            # their own would add the batch's rows to Silver a second time
            raise failure
        return self._split(bronze, batch_id)

    def _split(self, bronze: DataFrame, batch_id: int) -> BatchCounts:
        rows = bronze.select("partition", "offset").collect()
        coordinates: list[Coordinate] = sorted((int(r.partition), int(r.offset)) for r in rows)
        log.warning(
            "silver batch keeps failing: splitting it to find its poison records",
            extra={"batch_id": batch_id, "input_rows": len(coordinates)},
        )
        # a part's writes stay in order: its Silver commit, under the part's own identity, must
        # never stand without its index rows, or a further split would write those rows again
        parts = SilverBatch(
            self.settings, self.silver.catalog, source=self.silver.source, overlap_writes=False
        )
        total = BatchCounts(batch_id=batch_id, source=self.silver.source, input_rows=len(coordinates))

        def attempt(part: Sequence[Coordinate]) -> BaseException | None:
            (p0, o0), (p1, o1) = part[0], part[-1]
            # unbound (no stream), the writes stay idempotent through their keys alone
            parts.app_id = self.silver.app_id and f"{self.silver.app_id}-b{batch_id}-p{p0}o{o0}-p{p1}o{o1}"
            try:
                counts = parts.process(bronze.filter(_ranges(part)), batch_id)
            except Exception as exc:
                if not is_record_failure(exc):
                    raise
                return exc
            _add(total, counts)
            return None

        poison = find_poison(
            coordinates,
            attempt,
            tries=self.settings.batch_attempts,
            limit=self.settings.poison_max_records,
        )
        if poison:
            self._quarantine(bronze, batch_id, poison)
            total.quarantined[POISON] = total.quarantined.get(POISON, 0) + len(poison)
        return total

    def _quarantine(
        self, bronze: DataFrame, batch_id: int, poison: list[tuple[Coordinate, BaseException]]
    ) -> None:
        from pyspark.sql import functions as sf

        lake = self.silver.lake
        rows = [
            with_coordinates(bronze.filter(_ranges([coordinate]))).select(
                *[c for c in quarantine.COLUMNS if c not in ("reason", "detail", "event_id")],
                sf.lit(POISON).alias("reason"),
                sf.lit(_detail(error)).alias("detail"),
                sf.lit(None).cast("string").alias("event_id"),
            )
            for coordinate, error in poison
        ]
        quarantine.write(rows, lake.quarantine)
        # an attempt that failed after indexing its rows must not leave a poison record's id in
        # the index: a later copy of that event would be taken for a duplicate of a row Silver lacks
        keys = reduce(lambda a, b: a.unionByName(b), rows).select(*id_index.KEYS)
        delta_io.delete_matching(bronze.sparkSession, lake.event_ids, keys, id_index.KEYS)
        n = len(poison)
        counts = BatchCounts(batch_id, self.silver.source, input_rows=n, quarantined={POISON: n})
        app_id = f"{self.silver.app_id}-b{batch_id}-{POISON}" if self.silver.app_id else None
        record_batch(bronze.sparkSession, lake.silver_batches, counts, app_id, self.silver.reader)
        for (partition, offset), error in poison:
            facts = {"batch_id": batch_id, "kafka_partition": partition, "kafka_offset": offset}
            log.error("poison record quarantined", extra={**facts, "error": _detail(error)})


def _add(total: BatchCounts, part: BatchCounts) -> None:
    """Add the counts of one part of a split batch to the batch's."""
    total.inserted += part.inserted
    total.duplicates += part.duplicates
    total.conflicting += part.conflicting
    total.late += part.late
    for reason, n in part.quarantined.items():
        total.quarantined[reason] = total.quarantined.get(reason, 0) + n
    for name in ("max_event_time", "max_received_at"):
        mine, theirs = getattr(total, name), getattr(part, name)
        if theirs is not None and (mine is None or theirs > mine):
            setattr(total, name, theirs)

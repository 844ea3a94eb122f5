"""Wait until the streaming jobs hold everything Kafka holds: Bronze caught up, Silver processed it."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, TopicPartition
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from accord.demo.errors import CatchUpTimeoutError
from accord.streaming.inspect.tables import LakeReader


def kafka_records(bootstrap: str, topic: str, timeout_s: float = 10.0) -> int:
    """Records in `topic` now: the sum over partitions of end minus start offset."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "accord-demo"})
    try:
        partitions = consumer.list_topics(topic, timeout=timeout_s).topics[topic].partitions
        total = 0
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s)
            total += high - low
        return total
    finally:
        consumer.close()


def _processed(reader: LakeReader) -> tuple[int, int]:
    """(Bronze rows, Bronze rows Silver has processed so far); 0 for a table not written yet."""
    import pyarrow.compute as pc

    bronze = silver = 0
    if (table := reader.table(reader.lake.bronze)) is not None:
        bronze = table.to_pyarrow_dataset().count_rows()
    if (batches := reader.read(reader.lake.silver_batches, ["input_rows"])) is not None:
        silver = int(pc.sum(batches["input_rows"]).as_py() or 0)
    return bronze, silver


def wait_for_silver(reader: LakeReader, expected: int, console: Console, timeout_s: float = 900.0) -> None:
    """Show Bronze and Silver progress towards `expected` records until both reach it.

    Raises:
        CatchUpTimeoutError: they did not within `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    columns = (TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bars:
        bronze_task = bars.add_task("bronze", total=expected)
        silver_task = bars.add_task("silver", total=expected)
        while True:
            bronze, silver = _processed(reader)
            bars.update(bronze_task, completed=bronze)
            bars.update(silver_task, completed=silver)
            if bronze >= expected and silver >= bronze:
                return
            if time.monotonic() > deadline:
                raise CatchUpTimeoutError(
                    f"after {timeout_s:.0f}s Bronze holds {bronze} of {expected} records and Silver "
                    f"processed {silver}; see `accord status` and the stream's log"
                )
            time.sleep(2.0)

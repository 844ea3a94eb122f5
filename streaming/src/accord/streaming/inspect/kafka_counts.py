"""Records per hour in a Kafka topic, from the broker's time index (no record is read)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from confluent_kafka import Consumer, KafkaException, TopicPartition

from accord.streaming.errors import InspectError


class KafkaCountError(InspectError):
    """The broker could not be asked for offsets."""


def _epoch_ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def records_per_hour(
    bootstrap: str,
    topic: str,
    hours: Sequence[datetime],
    timeout_s: float = 10.0,
    *,
    client_config: Mapping[str, str] | None = None,
) -> dict[datetime, int]:
    """How many records of `topic` carry a timestamp in each of `hours` (naive UTC hour starts).

    For each hour, the first offset at or after its start and at or after the next hour's start
    are looked up per partition; their difference is the count.

    Raises:
        KafkaCountError: the topic does not exist or the broker did not answer in time.
    """
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            **(client_config or {}),
            "group.id": "accord-ledger",
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise KafkaCountError(f"topic {topic!r} does not exist on {bootstrap}")
        partitions = sorted(metadata.partitions)
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)[1]
            for p in partitions
        }

        def offsets_at(moment: datetime) -> dict[int, int]:
            query = [TopicPartition(topic, p, _epoch_ms(moment)) for p in partitions]
            found = consumer.offsets_for_times(query, timeout=timeout_s)
            # -1: no record at or after that time, i.e. the end of the partition
            return {tp.partition: ends[tp.partition] if tp.offset < 0 else tp.offset for tp in found}

        counts = {}
        for hour in hours:
            start, end = offsets_at(hour), offsets_at(hour + timedelta(hours=1))
            counts[hour] = sum(end[p] - start[p] for p in partitions)
        return counts
    except KafkaException as exc:
        raise KafkaCountError(f"cannot read offsets of {topic!r} from {bootstrap}: {exc}") from exc
    finally:
        consumer.close()

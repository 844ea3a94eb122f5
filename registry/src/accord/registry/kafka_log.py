"""The `_schemas` topic: created or verified at start, followed by a reader thread, written to.

One partition, compacted (a topic that is not is refused, as Confluent's registry does). The
reader thread applies every record to the `SchemaStore` and publishes how far it got, so a
writer can wait until its own record has been applied before it answers (read-your-write),
and readiness can report replay progress.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    NewTopic,
    ResourceType,
)

from accord.registry.errors import StoreError, StoreTimeoutError, TopicMisconfiguredError
from accord.registry.store import SchemaStore
from accord.runtime.logs import kafka_client_logging

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """How far the reader got: `applied` records of the `end` the topic had at start.

    `failure` is set once the reader thread has stopped on an error: the registry then no
    longer sees new records, so it is not ready whatever it had read.
    """

    applied: int
    end: int
    ready: bool
    failure: str | None = None


SCHEMAS_REPLICATION = 3
"""Replicas of a new `_schemas` topic, fewer on a smaller cluster (Confluent's registry does the same)."""


def ensure_schemas_topic(
    bootstrap: str,
    topic: str,
    timeout_s: float = 30.0,
    *,
    client_config: Mapping[str, str] | None = None,
) -> None:
    """Create the topic (1 partition, compacted, min(3, brokers) replicas) or check that the
    existing one has 1 partition and is compacted."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **(client_config or {}), **kafka_client_logging()})
    metadata = admin.list_topics(timeout=timeout_s)
    if topic not in metadata.topics:
        replicas = min(SCHEMAS_REPLICATION, len(metadata.brokers))
        new = NewTopic(topic, 1, replicas, config={"cleanup.policy": "compact"})
        try:
            admin.create_topics([new])[topic].result(timeout=timeout_s)
            log.info("schemas topic created", extra={"topic": topic, "replicas": replicas})
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    partitions = _partition_count(admin, topic, timeout_s)
    policy = _cleanup_policy(admin, topic, timeout_s)
    if partitions != 1 or "compact" not in policy.split(","):
        raise TopicMisconfiguredError(
            f"the schemas topic '{topic}' must have exactly 1 partition and cleanup.policy=compact "
            f"(found {partitions} partitions, cleanup.policy={policy}); "
            "schemas would be lost or reordered otherwise"
        )


def _partition_count(admin: AdminClient, topic: str, timeout_s: float) -> int:
    """The topic's partition count, once the metadata shows the topic.

    A topic created a moment ago (by us or by a registry starting beside us) is missing from
    the metadata, or listed with an error and no partitions, until the controller's update
    reaches the broker answering: ask again until it shows.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        listed = admin.list_topics(topic=topic, timeout=timeout_s).topics.get(topic)
        if listed is not None and listed.error is None and listed.partitions:
            return len(listed.partitions)
        if time.monotonic() > deadline:
            raise StoreError(f"the schemas topic '{topic}' does not show in the broker's metadata")
        log.info("schemas topic not in the metadata yet", extra={"topic": topic})
        time.sleep(0.2)


def _cleanup_policy(admin: AdminClient, topic: str, timeout_s: float) -> str:
    """The topic's `cleanup.policy`, once the broker asked knows the topic.

    In a cluster the broker answering may be another than the one whose metadata showed the
    topic, and learn of it a moment later: ask again while it says the topic is unknown.
    """
    resource = ConfigResource(ResourceType.TOPIC, topic)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            configs = admin.describe_configs([resource])[resource].result(timeout=timeout_s)
            return str(configs["cleanup.policy"].value)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART or time.monotonic() > deadline:
                raise
        log.info("schemas topic not known to the broker yet", extra={"topic": topic})
        time.sleep(0.2)


class SchemasLog:
    """Reads `_schemas` into a `SchemaStore` on a thread and appends records to it."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        store: SchemaStore,
        *,
        client_config: Mapping[str, str] | None = None,
    ) -> None:
        self.topic = topic
        self.store = store
        self._bootstrap = bootstrap
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                **(client_config or {}),
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 0,
                **kafka_client_logging(),
            }
        )
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                **(client_config or {}),
                "group.id": f"accord-registry-{uuid.uuid4()}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                **kafka_client_logging(),
            }
        )
        self._applied = threading.Condition()
        self._next_offset = 0
        self._start_end = 0
        self._high = 0
        self._ready = False
        self._failure: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="schemas-reader", daemon=True)

    def start(self) -> None:
        """Begin reading the topic from its start."""
        partition = TopicPartition(self.topic, 0)
        self._start_end = self._end_offset(partition)
        partition.offset = 0
        self._consumer.assign([partition])
        if self._start_end == 0:
            self._mark_ready()
        log.info("reading schemas topic", extra={"topic": self.topic, "end_offset": self._start_end})
        self._thread.start()

    def _end_offset(self, partition: TopicPartition, timeout_s: float = 30.0) -> int:
        # a topic created a moment ago may not have a leader yet: ask again until it has
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                _, high = self._consumer.get_watermark_offsets(partition, timeout=5)
                return int(high)
            except KafkaException as exc:
                if time.monotonic() > deadline:
                    raise StoreError(f"cannot read the end offset of {self.topic}: {exc}") from exc
                log.info("schemas topic not available yet", extra={"topic": self.topic, "error": str(exc)})
                time.sleep(0.5)

    def close(self) -> None:
        """Stop reading and release the Kafka clients."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._consumer.close()
        self._producer.flush(5)

    def lag(self) -> int:
        """Records of the topic not applied yet, from the end offset of the reader's last fetch."""
        with self._applied:
            return max(max(self._high, self._start_end) - self._next_offset, 0)

    def progress(self) -> Progress:
        """Replay progress, for readiness."""
        with self._applied:
            ready = self._ready and self._failure is None
            return Progress(self._next_offset, self._start_end, ready, self._failure)

    def _mark_ready(self) -> None:
        with self._applied:
            self._ready = True
            self._applied.notify_all()
        log.info(
            "schemas topic read to its end",
            extra={
                "topic": self.topic,
                "records": self.store.records_applied,
                "skipped": self.store.records_skipped,
            },
        )

    def _follow(self) -> None:
        try:
            self._read_until_stopped()
        except Exception as exc:
            # the store would silently go stale: record why, so that health and writes fail
            log.exception("schemas reader stopped", extra={"topic": self.topic})
            with self._applied:
                self._failure = f"{type(exc).__name__}: {exc}"
                self._applied.notify_all()

    def _read_until_stopped(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._consumer.consume(num_messages=500, timeout=0.2)
            except KafkaException as exc:
                log.warning("schemas topic read failed, retrying", extra={"error": str(exc)})
                time.sleep(0.5)
                continue
            # only this thread uses the consumer: the end offset it last fetched, for `lag`
            _, high = self._consumer.get_watermark_offsets(TopicPartition(self.topic, 0), cached=True)
            with self._applied:
                self._high = int(high)
            last = None
            for message in messages:
                if message.error() is not None:
                    log.warning("schemas topic read error", extra={"error": str(message.error())})
                    continue
                self.store.apply(message.key(), message.value())
                last = message.offset()
            if last is None:
                continue
            with self._applied:
                self._next_offset = last + 1
                self._applied.notify_all()
            if not self._ready and self._next_offset >= self._start_end:
                self._mark_ready()

    def wait_until_applied(self, offset: int, timeout_s: float) -> None:
        """Block until the record at `offset` has been applied to the store."""
        with self._applied:
            done = self._applied.wait_for(
                lambda: self._next_offset > offset or self._failure is not None, timeout=timeout_s
            )
            if self._failure is not None:
                raise StoreError(f"The registry stopped reading its Kafka store: {self._failure}")
            if not done:
                raise StoreTimeoutError(
                    f"Write to the Kafka store timed out while waiting for offset {offset} to be read back"
                )

    def wait_until_ready(self, timeout_s: float) -> bool:
        """Block until the topic has been read to the end it had at start."""
        with self._applied:
            return self._applied.wait_for(lambda: self._ready, timeout=timeout_s)

    def append(self, key: bytes, value: bytes | None, timeout_s: float) -> int:
        """Write one record, wait for the broker's acknowledgement and for the reader to apply it."""
        outcome: dict[str, object] = {}

        def delivered(error: KafkaError | None, message: object) -> None:
            outcome["error"] = error
            outcome["message"] = message

        self._producer.produce(self.topic, key=key, value=value, partition=0, on_delivery=delivered)
        self._producer.flush(timeout_s)
        error = outcome.get("error")
        message = outcome.get("message")
        if error is not None or message is None:
            raise StoreError(
                f"Register operation failed while writing to the Kafka store: {error or 'timeout'}"
            )
        offset: int = message.offset()  # type: ignore[attr-defined]
        self.wait_until_applied(offset, timeout_s)
        return offset

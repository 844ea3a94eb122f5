"""Producing to Kafka and learning, per request, when every record is acknowledged.

One idempotent producer (acks=all) serves the process. A background thread serves delivery
reports; each request shares one `DeliveryTracker` across its records and is woken once, when
the last report arrives, so the event loop never blocks on Kafka.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from accord.gateway.errors import UnavailableError
from accord.runtime.logs import kafka_client_logging
from accord.wire.error_codes import ErrorCode

log = logging.getLogger(__name__)

Headers = list[tuple[str, str | bytes | None]]
Record = tuple[str, bytes | None, bytes, Headers]
"""topic, key, value, headers"""


class DeliveryTracker:
    """Counts the delivery reports of one request's records and resolves a future at the last."""

    __slots__ = ("_future", "_loop", "error", "pending")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._future: asyncio.Future[None] = loop.create_future()
        self.pending = 0
        self.error: KafkaError | None = None

    def on_delivery(self, error: KafkaError | None, _message: Any) -> None:
        """Delivery report callback; only the producer's polling thread runs it, so counting is safe."""
        if error is not None and self.error is None:
            self.error = error
        self.pending -= 1
        if self.pending == 0:
            self._loop.call_soon_threadsafe(self._resolve)

    def _resolve(self) -> None:
        if not self._future.done():
            self._future.set_result(None)

    async def wait(self, timeout_s: float, retry_after_s: int) -> None:
        """Return when every record is acknowledged; `UnavailableError` when one failed or time ran out."""
        if self.pending:
            try:
                await asyncio.wait_for(asyncio.shield(self._future), timeout_s)
            except TimeoutError:
                raise UnavailableError(
                    ErrorCode.KAFKA_UNAVAILABLE,
                    f"Kafka did not acknowledge the events within {timeout_s:g}s; nothing of this request "
                    "is reported as accepted, retry later",
                    retry_after_s=retry_after_s,
                ) from None
        if self.error is not None:
            raise UnavailableError(
                ErrorCode.KAFKA_UNAVAILABLE,
                f"Kafka refused the events ({self.error.str()}); "
                "nothing of this request is reported as accepted",
                retry_after_s=retry_after_s,
            )


class Publisher:
    """The process's Kafka producer and the thread that serves its delivery reports."""

    def __init__(self, config: dict[str, Any]) -> None:
        self._producer = Producer(
            {
                "acks": "all",
                "enable.idempotence": True,
                "compression.type": "lz4",
                "error_cb": self._on_error,
                **kafka_client_logging(),
                **config,
            }
        )
        self._running = True
        self._poller = threading.Thread(
            target=self._serve_reports, name="kafka-delivery-reports", daemon=True
        )
        self._poller.start()

    def _serve_reports(self) -> None:
        while self._running:
            self._producer.poll(0.05)

    @staticmethod
    def _on_error(error: KafkaError) -> None:
        log.warning(
            "kafka client error", extra={"code": error.name(), "reason": error.str(), "fatal": error.fatal()}
        )

    def produce(self, tracker: DeliveryTracker, records: Sequence[Record], retry_after_s: int) -> None:
        """Enqueue `records` with `tracker` counting their delivery reports.

        The tracker learns the full count before the first record is enqueued, so a report that
        arrives early can never make it look complete.
        """
        tracker.pending = len(records)
        produce = self._producer.produce
        callback = tracker.on_delivery
        for topic, key, value, headers in records:
            try:
                produce(topic, value, key, on_delivery=callback, headers=headers)
            except BufferError:
                raise UnavailableError(
                    ErrorCode.KAFKA_QUEUE_FULL,
                    "the gateway's Kafka queue is full; nothing of this request is reported as accepted",
                    retry_after_s=retry_after_s,
                ) from None
            except KafkaException as exc:
                raise UnavailableError(
                    ErrorCode.KAFKA_UNAVAILABLE, f"Kafka refused a record: {exc}", retry_after_s=retry_after_s
                ) from exc

    def reachable(self, timeout_s: float = 2.0) -> bool:
        """True when the broker answers a metadata request (blocking: call from a worker thread)."""
        try:
            self._producer.list_topics(timeout=timeout_s)
        except KafkaException:
            return False
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        """Deliver what is queued (up to `timeout_s`), then stop the report thread."""
        self._running = False
        self._poller.join()
        remaining = self._producer.flush(timeout_s)
        if remaining:
            log.warning("records not delivered at shutdown", extra={"count": remaining})

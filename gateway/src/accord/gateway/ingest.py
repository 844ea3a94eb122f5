"""The gateway's work on one batch: check each event, produce the valid ones, dead-letter the rest.

Every event of a batch is checked before anything is produced; then the accepted events (to
the events topic) and the dead-letter records (one per rejected event) are produced together
and the answer waits until Kafka acknowledged all of them. If any is not acknowledged the
request is answered 503 and nothing of it is reported as accepted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from accord.gateway.auth import WriteKey
from accord.gateway.catalog import SchemaCatalog, WriterSchema
from accord.gateway.counts import HourlyCounts
from accord.gateway.dedup import RecentEventIds
from accord.gateway.errors import BadRequestError, ForbiddenError, PayloadTooLargeError
from accord.gateway.events import ValidEvent, decode_avro_event, encode_json_event
from accord.gateway.framing import schema_id_of, split_batch
from accord.gateway.metrics import GatewayMetrics
from accord.gateway.publisher import DeliveryTracker, Headers, Publisher, Record
from accord.gateway.ratelimit import RateLimiter
from accord.gateway.rejections import EventInvalidError, FailureType, Rejection
from accord.gateway.settings import GatewaySettings

log = logging.getLogger(__name__)

MAX_VERSION = 2**31 - 1
"""Registries number versions with 32-bit signed integers."""


@dataclass
class BatchOutcome:
    """What became of a batch: counts of accepted and duplicate events, and each rejection."""

    accepted: int = 0
    duplicates: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def status(self) -> int:
        """200 when nothing was rejected, 422 when everything was, 207 otherwise."""
        if not self.rejections:
            return 200
        return 422 if self.accepted + self.duplicates == 0 else 207

    def answer(self) -> dict[str, Any]:
        """The HTTP answer's body."""
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [rejection.answer() for rejection in self.rejections],
        }


@dataclass
class _Batch:
    """Events of one request while they are being checked."""

    key: WriteKey
    received_at_s: float
    sent_at_ms: int
    valid: list[ValidEvent] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    duplicates: int = 0
    ids: set[str] = field(default_factory=set)


class Gateway:
    """The ingestion service: its catalog, producer, keys' limits, dedup window and counts."""

    def __init__(self, settings: GatewaySettings, catalog: SchemaCatalog, publisher: Publisher) -> None:
        self.settings = settings
        self.catalog = catalog
        self.publisher = publisher
        self.metrics = GatewayMetrics()
        self.counts = HourlyCounts()
        self._limiter = RateLimiter(settings.rate_limit_events_per_s, settings.rate_limit_burst)
        self._recent = RecentEventIds(settings.dedup_window_s, settings.dedup_max_ids)
        self._subject_prefix = f"{settings.events_topic}-"

    def _admit(self, key: WriteKey, events: int, now: float) -> None:
        if events == 0:
            raise BadRequestError("empty_batch", "the batch holds no events")
        if events > self.settings.max_batch_events:
            raise PayloadTooLargeError(
                "too_many_events",
                f"the batch holds {events} events; at most {self.settings.max_batch_events} are allowed",
            )
        self._limiter.take(key.key_id, events, now)

    async def ingest_avro(
        self, key: WriteKey, body: bytes, sent_at_ms: int, received_at_s: float
    ) -> BatchOutcome:
        """Check and produce an Avro batch body (length-prefixed framed events)."""
        framed_events, truncated_tail = split_batch(body)
        self._admit(key, len(framed_events) + (truncated_tail is not None), received_at_s)
        batch = _Batch(key, received_at_s, sent_at_ms)
        max_event_bytes = self.settings.max_event_bytes
        catalog = self.catalog
        for index, framed in enumerate(framed_events):
            schema_id: int | None = None
            writer: WriterSchema | None = None
            try:
                if len(framed) > max_event_bytes:
                    raise _too_large(len(framed), max_event_bytes)
                schema_id = schema_id_of(framed)
                writer = catalog.cached(schema_id) or await catalog.writer(schema_id)
                if writer.subject_for(key) is None:
                    await self._authorize(key, writer)
                event = decode_avro_event(framed, writer)
            except EventInvalidError as error:
                subject = writer.claimed_subject(self.settings.events_topic) if writer else None
                batch.rejections.append(
                    Rejection.from_error(index, error, framed, subject=subject, schema_id=schema_id)
                )
                continue
            self._keep(batch, event)
        if truncated_tail is not None:
            truncated = EventInvalidError(
                FailureType.FORMAT_VIOLATION,
                "truncated_event",
                f"the body ends inside event {len(framed_events)}: its 4-byte length prefix announces more "
                f"bytes than the {len(truncated_tail)} left",
            )
            batch.rejections.append(Rejection.from_error(len(framed_events), truncated, truncated_tail))
        return await self._deliver(batch)

    async def ingest_json(
        self, key: WriteKey, document: object, received_at_s: float, sent_at_ms: int
    ) -> BatchOutcome:
        """Check, encode and produce the `events` of a JSON batch document."""
        events = document.get("events") if isinstance(document, dict) else None
        if not isinstance(events, list):
            raise BadRequestError("invalid_batch", "the body must be an object with an 'events' array")
        self._admit(key, len(events), received_at_s)
        batch = _Batch(key, received_at_s, sent_at_ms)
        for index, item in enumerate(events):
            subject: str | None = None
            schema_id: int | None = None
            try:
                subject, version, payload = self._json_item(item)
                if not key.allows(subject):
                    raise _unauthorized(key, subject)
                writer, _ = await self.catalog.for_subject(subject, version)
                schema_id = writer.schema_id
                event = encode_json_event(payload, writer)
                if len(event.value) > self.settings.max_event_bytes:
                    raise _too_large(len(event.value), self.settings.max_event_bytes, event.event_id)
            except EventInvalidError as error:
                batch.rejections.append(
                    Rejection.from_error(
                        index, error, orjson.dumps(item), subject=subject, schema_id=schema_id
                    )
                )
                continue
            self._keep(batch, event)
        return await self._deliver(batch)

    def subject_of(self, name: str) -> str:
        """The subject of a schema named by subject or by record full name."""
        return name if name.startswith(self._subject_prefix) else self._subject_prefix + name

    def _json_item(self, item: object) -> tuple[str, int | None, object]:
        if not isinstance(item, dict):
            raise _format_error("invalid_event", "each event must be an object with 'schema' and 'payload'")
        name, version = item.get("schema"), item.get("version")
        if not isinstance(name, str) or not name:
            raise _format_error(
                "missing_schema", "'schema' must name a subject or record full name", "schema"
            )
        if version is not None and (
            not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION
        ):
            raise _format_error(
                "invalid_version", f"'version' must be an integer from 1 to {MAX_VERSION}", "version"
            )
        if "payload" not in item:
            raise _format_error("missing_payload", "'payload' holds the event's fields", "payload")
        return self.subject_of(name), version, item["payload"]

    async def _authorize(self, key: WriteKey, writer: WriterSchema) -> None:
        """Refuse `writer` for `key` unless a fresh look at its subjects allows it."""
        # the schema may have been registered under another subject since it was cached
        await self.catalog.refresh_subjects(writer)
        if writer.subject_for(key) is None:
            raise _unauthorized(key, writer.claimed_subject(self.settings.events_topic) or "?")

    def _keep(self, batch: _Batch, event: ValidEvent) -> None:
        if event.event_id in batch.ids or self._recent.seen(event.event_id, batch.received_at_s):
            batch.duplicates += 1
            return
        batch.ids.add(event.event_id)
        batch.valid.append(event)

    async def _deliver(self, batch: _Batch) -> BatchOutcome:
        settings = self.settings
        received_at_ms = int(batch.received_at_s * 1000)
        key_id = batch.key.key_id
        shared: Headers = [
            ("accord.received_at", str(received_at_ms).encode()),
            ("accord.sent_at", str(batch.sent_at_ms).encode()),
            ("accord.key_id", key_id.encode()),
        ]
        events_topic = settings.events_topic
        records: list[Record] = [
            (events_topic, event.key, event.value, [*shared, ("accord.event_id", event.event_id.encode())])
            for event in batch.valid
        ]
        kept_bytes = settings.deadletter_original_max_bytes
        records.extend(
            (
                settings.deadletter_topic,
                rejection.event_id.encode() if rejection.event_id else None,
                orjson.dumps(rejection.deadletter_record(received_at_ms, key_id, kept_bytes)),
                shared,
            )
            for rejection in batch.rejections
        )
        tracker = DeliveryTracker(asyncio.get_running_loop())
        started = time.perf_counter()
        self.publisher.produce(tracker, records, settings.retry_after_s)
        await tracker.wait(settings.delivery_timeout_s, settings.retry_after_s)
        self.metrics.produce_latency.observe(time.perf_counter() - started)
        self._recent.remember(batch.ids, batch.received_at_s)
        outcome = BatchOutcome(len(batch.valid), batch.duplicates, batch.rejections)
        self._count(batch, outcome)
        if outcome.status == 422 and all(
            r.failure_type is FailureType.UNAUTHORIZED_SUBJECT for r in outcome.rejections
        ):
            raise ForbiddenError("unauthorized_subject", outcome.rejections[0].message)
        return outcome

    def _count(self, batch: _Batch, outcome: BatchOutcome) -> None:
        self.counts.add(batch.received_at_s, outcome.accepted, outcome.duplicates, len(outcome.rejections))
        events = self.metrics.events
        if outcome.accepted:
            events.labels("accepted", "").inc(outcome.accepted)
        if outcome.duplicates:
            events.labels("duplicate", "").inc(outcome.duplicates)
        for rejection in outcome.rejections:
            events.labels("rejected", rejection.code).inc()
        if outcome.rejections:
            log.info(
                "events rejected",
                extra={
                    "key_id": batch.key.key_id,
                    "rejected": len(outcome.rejections),
                    "codes": sorted({r.code for r in outcome.rejections}),
                },
            )


def _format_error(code: str, message: str, field: str | None = None) -> EventInvalidError:
    return EventInvalidError(FailureType.FORMAT_VIOLATION, code, message, field)


def _too_large(size: int, limit: int, event_id: str | None = None) -> EventInvalidError:
    return EventInvalidError(
        FailureType.SIZE_VIOLATION,
        "event_too_large",
        f"the event is {size} bytes; the limit is {limit} bytes",
        event_id=event_id,
    )


def _unauthorized(key: WriteKey, subject: str) -> EventInvalidError:
    return EventInvalidError(
        FailureType.UNAUTHORIZED_SUBJECT,
        "unauthorized_subject",
        f"write key {key.key_id!r} may not send subject {subject!r}",
        "schema",
    )

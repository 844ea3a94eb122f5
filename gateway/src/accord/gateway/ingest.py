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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from accord.gateway.auth import WriteKey
from accord.gateway.catalog import SchemaCatalog, WriterSchema
from accord.gateway.counts import HourlyCounts
from accord.gateway.dedup import RecentEventIds
from accord.gateway.errors import BadRequestError, ForbiddenError, PayloadTooLargeError
from accord.gateway.events import EventClock, ValidEvent, decode_avro_event, encode_json_event
from accord.gateway.metrics import GatewayMetrics
from accord.gateway.publisher import DeliveryTracker, Headers, Publisher, Record
from accord.gateway.ratelimit import RateLimiter
from accord.gateway.readable_id import avro_event_id, json_event_id
from accord.gateway.rejections import EventInvalidError, Rejection
from accord.gateway.settings import GatewaySettings
from accord.wire import headers
from accord.wire.error_codes import ErrorCode, FailureType
from accord.wire.framing import FramingError, schema_id_of, split_batch
from accord.wire.naming import subject_prefix

log = logging.getLogger(__name__)

MAX_VERSION = 2**31 - 1
"""Registries number versions with 32-bit signed integers."""


@dataclass(frozen=True, slots=True)
class Refused:
    """An event its route refused before validation (a Segment message no mapping names, say).

    `answered` False: the event goes to the dead letters without being reported as rejected,
    for the routes configured to keep such events quietly for a later re-drive.
    """

    error: EventInvalidError
    original: bytes
    answered: bool = True


@dataclass
class BatchOutcome:
    """What became of a batch: counts of accepted and duplicate events, and each rejection.

    `deadlettered` counts events written to the dead letters without being reported as rejected.
    """

    accepted: int = 0
    duplicates: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    deadlettered: int = 0

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
    clock: EventClock
    valid: list[ValidEvent] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    unanswered: list[Rejection] = field(default_factory=list)
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
        self._subject_prefix = subject_prefix(settings.events_topic)

    def _admit(self, key: WriteKey, events: int, now: float) -> None:
        if events == 0:
            raise BadRequestError(ErrorCode.EMPTY_BATCH, "the batch holds no events")
        if events > self.settings.max_batch_events:
            raise PayloadTooLargeError(
                ErrorCode.TOO_MANY_EVENTS,
                f"the batch holds {events} events; at most {self.settings.max_batch_events} are allowed",
            )
        self._limiter.take(key.key_id, events, now)

    async def ingest_avro(
        self, key: WriteKey, body: bytes, sent_at_ms: int, received_at_s: float
    ) -> BatchOutcome:
        """Check and produce an Avro batch body (length-prefixed framed events)."""
        framed_events, truncated_tail = split_batch(body)
        self._admit(key, len(framed_events) + (truncated_tail is not None), received_at_s)
        batch = self._batch(key, received_at_s, sent_at_ms)
        max_event_bytes = self.settings.max_event_bytes
        catalog = self.catalog
        for index, framed in enumerate(framed_events):
            schema_id: int | None = None
            writer: WriterSchema | None = None
            try:
                if len(framed) > max_event_bytes:
                    raise _too_large(len(framed), max_event_bytes)
                schema_id = framed_schema_id(framed)
                writer = catalog.cached(schema_id) or await catalog.writer(schema_id)
                if writer.subject_for(key) is None:
                    await self._authorize(key, writer)
                event = decode_avro_event(framed, writer, batch.clock)
            except EventInvalidError as error:
                subject = writer.claimed_subject(self.settings.events_topic) if writer else None
                readable = avro_event_id(framed, writer.schema_id, writer.schema) if writer else None
                batch.rejections.append(
                    Rejection.from_error(
                        index, error, framed, subject=subject, schema_id=schema_id, readable_id=readable
                    )
                )
                continue
            self._keep(batch, event)
        if truncated_tail is not None:
            truncated = EventInvalidError(
                FailureType.FORMAT_VIOLATION,
                ErrorCode.TRUNCATED_EVENT,
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
            raise BadRequestError(
                ErrorCode.INVALID_BATCH, "the body must be an object with an 'events' array"
            )
        return await self.ingest_json_events(key, events, received_at_s, sent_at_ms)

    async def ingest_json_events(
        self,
        key: WriteKey,
        events: Sequence[object],
        received_at_s: float,
        sent_at_ms: int,
        sent: Sequence[object] | None = None,
    ) -> BatchOutcome:
        """Check, encode and produce JSON events (`{"schema", "payload"}`, or `Refused`).

        `sent` is what the client sent for each event, kept (as JSON) in the dead letters of
        rejected ones, by default the event itself: a route that translated its events passes
        the messages it received.
        """
        self._admit(key, len(events), received_at_s)
        batch = self._batch(key, received_at_s, sent_at_ms)
        for index, item in enumerate(events):
            if isinstance(item, Refused):
                refused = Rejection.from_error(index, item.error, item.original)
                (batch.rejections if item.answered else batch.unanswered).append(refused)
                continue
            subject: str | None = None
            schema_id: int | None = None
            try:
                subject, version, payload = self._json_item(item)
                if not key.allows(subject):
                    raise _unauthorized(key, subject)
                writer, _ = await self.catalog.for_subject(subject, version)
                schema_id = writer.schema_id
                event = encode_json_event(payload, writer, batch.clock)
                if len(event.value) > self.settings.max_event_bytes:
                    raise _too_large(len(event.value), self.settings.max_event_bytes, event.event_id)
            except EventInvalidError as error:
                original = orjson.dumps(item if sent is None else sent[index])
                batch.rejections.append(
                    Rejection.from_error(
                        index,
                        error,
                        original,
                        subject=subject,
                        schema_id=schema_id,
                        readable_id=json_event_id(item),
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
            raise _format_error(
                ErrorCode.INVALID_EVENT, "each event must be an object with 'schema' and 'payload'"
            )
        name, version = item.get("schema"), item.get("version")
        if not isinstance(name, str) or not name:
            raise _format_error(
                ErrorCode.MISSING_SCHEMA, "'schema' must name a subject or record full name", "schema"
            )
        if version is not None and (
            not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION
        ):
            raise _format_error(
                ErrorCode.INVALID_VERSION, f"'version' must be an integer from 1 to {MAX_VERSION}", "version"
            )
        if "payload" not in item:
            raise _format_error(ErrorCode.MISSING_PAYLOAD, "'payload' holds the event's fields", "payload")
        return self.subject_of(name), version, item["payload"]

    def _batch(self, key: WriteKey, received_at_s: float, sent_at_ms: int) -> _Batch:
        settings = self.settings
        clock = EventClock(
            int(received_at_s * 1000), sent_at_ms, settings.event_time_horizon, settings.event_time_skew
        )
        return _Batch(key, received_at_s, sent_at_ms, clock)

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
        received_at_ms = batch.clock.received_at_ms
        key_id = batch.key.key_id
        shared = shared_headers(received_at_ms, batch.sent_at_ms, key_id)
        events_topic = settings.events_topic
        records: list[Record] = [
            (
                events_topic,
                event.key,
                event.value,
                [*shared, (headers.EVENT_ID, headers.encode_text(event.event_id))],
            )
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
            for rejection in (*batch.rejections, *batch.unanswered)
        )
        tracker = DeliveryTracker(asyncio.get_running_loop())
        started = time.perf_counter()
        self.publisher.produce(tracker, records, settings.retry_after_s)
        await tracker.wait(settings.delivery_timeout_s, settings.retry_after_s)
        self.metrics.produce_latency.observe(time.perf_counter() - started)
        self._recent.remember(batch.ids, batch.received_at_s)
        outcome = BatchOutcome(len(batch.valid), batch.duplicates, batch.rejections, len(batch.unanswered))
        self._count(batch, outcome)
        if outcome.status == 422 and all(
            r.failure_type is FailureType.UNAUTHORIZED_SUBJECT for r in outcome.rejections
        ):
            raise ForbiddenError(ErrorCode.UNAUTHORIZED_SUBJECT, outcome.rejections[0].message)
        return outcome

    def _count(self, batch: _Batch, outcome: BatchOutcome) -> None:
        # events dead-lettered unanswered are rejected ones for the ledger: they are in the topic
        rejected = (*outcome.rejections, *batch.unanswered)
        self.counts.add(batch.received_at_s, outcome.accepted, outcome.duplicates, len(rejected))
        events = self.metrics.events
        if outcome.accepted:
            events.labels("accepted", "").inc(outcome.accepted)
        if outcome.duplicates:
            events.labels("duplicate", "").inc(outcome.duplicates)
        for rejection in rejected:
            events.labels("rejected", rejection.code).inc()
        if rejected:
            log.info(
                "events rejected",
                extra={
                    "key_id": batch.key.key_id,
                    "rejected": len(rejected),
                    "codes": sorted({r.code for r in rejected}),
                },
            )


def shared_headers(received_at_ms: int, sent_at_ms: int, key_id: str) -> Headers:
    """The Kafka headers every record of a request carries (the event's id is added per event)."""
    return [
        (headers.RECEIVED_AT, headers.encode_millis(received_at_ms)),
        (headers.SENT_AT, headers.encode_millis(sent_at_ms)),
        (headers.KEY_ID, headers.encode_text(key_id)),
    ]


def framed_schema_id(framed: bytes) -> int:
    """The schema id of a framed event; a format violation when the framing is wrong."""
    try:
        return schema_id_of(framed)
    except FramingError as exc:
        raise EventInvalidError(FailureType.FORMAT_VIOLATION, exc.code, exc.message) from exc


def _format_error(code: ErrorCode, message: str, field: str | None = None) -> EventInvalidError:
    return EventInvalidError(FailureType.FORMAT_VIOLATION, code, message, field)


def _too_large(size: int, limit: int, event_id: str | None = None) -> EventInvalidError:
    return EventInvalidError(
        FailureType.SIZE_VIOLATION,
        ErrorCode.EVENT_TOO_LARGE,
        f"the event is {size} bytes; the limit is {limit} bytes",
        event_id=event_id,
    )


def _unauthorized(key: WriteKey, subject: str) -> EventInvalidError:
    return EventInvalidError(
        FailureType.UNAUTHORIZED_SUBJECT,
        ErrorCode.UNAUTHORIZED_SUBJECT,
        f"write key {key.key_id!r} may not send subject {subject!r}",
        "schema",
    )

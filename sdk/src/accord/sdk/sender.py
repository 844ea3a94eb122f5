"""The background thread that batches queued events, sends them and retries."""

from __future__ import annotations

import functools
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from accord.sdk.config import ClientConfig
from accord.sdk.counters import Tally
from accord.sdk.queue import EventQueue, Pending
from accord.sdk.rejections import RETRIES_EXHAUSTED, RejectedCallback, RejectedEvent
from accord.sdk.transport import (
    BatchAnswer,
    GatewayTransport,
    RequestRefusedError,
    RetryableError,
    rfc3339_now,
)
from accord.wire.error_codes import ErrorCode
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE, JSON_MEDIA_TYPE, batch_body, frame

logger = logging.getLogger(__name__)

T = TypeVar("T")


class _AbandonedError(Exception):
    """`close()` timed out while the gateway was still unavailable: what is left is dropped."""


class _RetriesExhaustedError(Exception):
    """The retry bounds (`retry_timeout_s`, `max_retries`) ran out before the gateway answered."""


def backoff_delay(attempt: int, base_s: float, max_s: float, retry_after: float | None) -> float:
    """Delay before retry `attempt` (1-based): exponential, with jitter over its upper half.

    Jitter spreads the retries of many clients after an outage; a `Retry-After` from the
    gateway is a floor, never shortened.
    """
    ceiling = min(max_s, base_s * 2 ** (attempt - 1))
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography
    return max(delay, retry_after or 0.0)


class Sender:
    """Takes batches from the queue until it is closed and empty, and settles every event."""

    def __init__(
        self,
        queue: EventQueue,
        transport: GatewayTransport,
        tally: Tally,
        config: ClientConfig,
        on_rejected: RejectedCallback | None,
    ) -> None:
        self._queue = queue
        self._transport = transport
        self._tally = tally
        self._config = config
        self._on_rejected = on_rejected
        self._schema_ids: dict[str, int] = {}
        self._abandon = threading.Event()
        self._thread = threading.Thread(target=self._run, name="accord-sdk-sender", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Send what is queued within `timeout` seconds; then give up on the rest (counted dropped)."""
        self._queue.close()
        self._thread.join(timeout)
        finished = not self._thread.is_alive()
        if not finished:
            self._abandon.set()
            self._thread.join()
        self._transport.close()
        return finished

    def _run(self) -> None:
        while batch := self._queue.next_batch():
            try:
                self._deliver(batch)
            except Exception:
                # The thread must outlive any surprise, or every later event would wait forever.
                logger.exception("unexpected error while sending a batch", extra={"events": len(batch)})
                self._tally.settle(dropped=len(batch))

    def _deliver(self, batch: list[Pending]) -> None:
        batch = self._without_refused(batch)
        if not batch:
            return
        if self._abandon.is_set():
            self._tally.settle(dropped=len(batch))
            return
        if self._config.mode == "avro":
            try:
                batch = self._resolve_schema_ids(batch)
            except _AbandonedError:
                self._tally.settle(dropped=len(batch))
                return
        if batch:
            self._send(batch)

    def _without_refused(self, batch: list[Pending]) -> list[Pending]:
        """`batch` without the events refused before sending, which are reported now."""
        kept: list[Pending] = []
        for pending in batch:
            if pending.refusal is None:
                kept.append(pending)
            else:
                self._report(pending, *pending.refusal)
        if len(kept) < len(batch):
            self._tally.settle(rejected=len(batch) - len(kept))
        return kept

    def _resolve_schema_ids(self, batch: list[Pending]) -> list[Pending]:
        refusals: dict[str, tuple[str, str]] = {}
        for pending in batch:
            codec = pending.codec
            if codec.subject in self._schema_ids or codec.subject in refusals:
                continue
            try:
                schema_id = self._retrying(
                    functools.partial(self._transport.resolve, codec.subject, codec.schema), 0
                )
            except RequestRefusedError as refused:
                refusals[codec.subject] = (refused.code, refused.message)
                continue
            except _RetriesExhaustedError as exhausted:
                refusals[codec.subject] = (
                    RETRIES_EXHAUSTED,
                    f"the gateway did not resolve the schema id: {exhausted}",
                )
                continue
            if schema_id is None:
                refusals[codec.subject] = (
                    ErrorCode.SCHEMA_NOT_REGISTERED,
                    f"no registered version of {codec.subject} matches this client's schema",
                )
                continue
            self._schema_ids[codec.subject] = schema_id
            logger.info("schema id resolved", extra={"subject": codec.subject, "schema_id": schema_id})
        unknown = [p for p in batch if p.codec.subject in refusals]
        for pending in unknown:
            self._report(pending, *refusals[pending.codec.subject])
        self._tally.settle(rejected=len(unknown))
        return [p for p in batch if p.codec.subject in self._schema_ids]

    def _body(self, batch: list[Pending]) -> Callable[[str], bytes]:
        if self._config.mode == "avro":
            body = batch_body([frame(self._schema_ids[p.codec.subject], p.payload) for p in batch])
            return lambda _sent_at: body
        events = b",".join(
            b'{"schema":' + json.dumps(p.codec.subject).encode() + b',"payload":' + p.payload + b"}"
            for p in batch
        )
        return lambda sent_at: b'{"sent_at":"' + sent_at.encode() + b'","events":[' + events + b"]}"

    def _send(self, batch: list[Pending]) -> None:
        body_at = self._body(batch)
        content_type = AVRO_BATCH_MEDIA_TYPE if self._config.mode == "avro" else JSON_MEDIA_TYPE

        def post() -> BatchAnswer:
            sent_at = rfc3339_now()
            return self._transport.post_events(body_at(sent_at), content_type, sent_at)

        try:
            answer = self._retrying(post, len(batch))
        except _AbandonedError as abandoned:
            logger.error("batch dropped: %s", abandoned, extra={"events": len(batch)})
            self._tally.settle(dropped=len(batch))
            return
        except _RetriesExhaustedError as exhausted:
            logger.error("batch rejected: %s", exhausted, extra={"events": len(batch)})
            for pending in batch:
                self._report(pending, RETRIES_EXHAUSTED, f"the gateway did not take the event: {exhausted}")
            self._tally.settle(rejected=len(batch))
            return
        except RequestRefusedError as refused:
            if refused.status == 413 and len(batch) > 1:
                half = len(batch) // 2
                self._send(batch[:half])
                self._send(batch[half:])
                return
            logger.error(
                "gateway refused a batch",
                extra={"status": refused.status, "code": refused.code, "events": len(batch)},
            )
            for pending in batch:
                self._report(pending, refused.code, refused.message)
            self._tally.settle(rejected=len(batch))
            return
        rejected = 0
        for entry in answer.rejected:
            index = entry.get("index")
            if not isinstance(index, int) or not 0 <= index < len(batch):
                logger.warning("rejection with an unknown index", extra={"entry": entry})
                continue
            rejected += 1
            self._report(batch[index], str(entry.get("code")), str(entry.get("message")), entry.get("field"))
        self._tally.settle(sent=len(batch) - rejected, rejected=rejected, duplicates=answer.duplicates)

    def _retrying(self, call: Callable[[], T], events: int) -> T:
        """The result of `call`, retried with backoff while the gateway is unavailable.

        Raises `_RetriesExhaustedError` once the next attempt would start after
        `retry_timeout_s` (counted from the first attempt) or exceed `max_retries`, and
        `_AbandonedError` when the client is closing and its timeout ran out.
        """
        config = self._config
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return call()
            except RetryableError as failure:
                attempt += 1
                if self._abandon.is_set():
                    raise _AbandonedError(
                        f"the client was closed before the gateway came back: {failure.reason}"
                    ) from failure
                delay = backoff_delay(
                    attempt, config.backoff_base_s, config.backoff_max_s, failure.retry_after
                )
                elapsed = time.monotonic() - started
                out_of_time = config.retry_timeout_s is not None and elapsed + delay > config.retry_timeout_s
                if out_of_time or (config.max_retries is not None and attempt > config.max_retries):
                    raise _RetriesExhaustedError(
                        f"gave up after {attempt} attempts in {elapsed:.1f} s: {failure.reason}"
                    ) from failure
                logger.warning(
                    "gateway unavailable, retrying",
                    extra={"reason": failure.reason, "attempt": attempt, "delay_s": round(delay, 3)},
                )
                if self._abandon.wait(delay):
                    raise _AbandonedError("the client was closed before the gateway came back") from failure
                self._tally.retried(events)

    def _report(self, pending: Pending, code: str, message: str, field: str | None = None) -> None:
        rejection = RejectedEvent(pending.event_id, pending.codec.subject, code, field, message)
        logger.warning(
            "event rejected",
            extra={
                "event_id": pending.event_id,
                "subject": pending.codec.subject,
                "code": code,
                "field": field,
            },
        )
        if self._on_rejected is None:
            return
        try:
            self._on_rejected(rejection)
        except Exception:
            logger.exception("on_rejected callback failed", extra={"event_id": pending.event_id})

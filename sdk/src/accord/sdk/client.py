"""`Client`: the one object an application uses to send events to Accord."""

from __future__ import annotations

import atexit
import functools
import logging
import os
import threading
import weakref
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any

import httpx

from accord.sdk.codec import EventCodec, codec_for, codec_for_class, is_event_class
from accord.sdk.config import ClientConfig
from accord.sdk.counters import Counters, Tally
from accord.sdk.errors import ClientClosedError, ConfigError, QueueFullError
from accord.sdk.queue import EventQueue, Pending
from accord.sdk.record import Record, utc_now, uuid7
from accord.sdk.rejections import EVENT_TOO_LARGE, RejectedCallback
from accord.sdk.sender import Sender
from accord.sdk.transport import GatewayTransport
from accord.wire.framing import FRAME_HEADER_BYTES

logger = logging.getLogger(__name__)

LIBRARY_NAME = "accord-sdk-python"
try:
    LIBRARY_VERSION: str | None = version("accord-sdk")
except PackageNotFoundError:  # running from a source tree that was never installed
    LIBRARY_VERSION = None


_CLOSED = "this client is closed; create a new Client to send more events"

_AVRO_PER_JSON_BYTE = 3
"""Avro never takes more than three times the bytes of an event's JSON text (a double in an
array: 8 bytes, its JSON with the comma at least 4), so smaller JSON needs no Avro size check."""


class Client:
    """Sends typed events to the Accord gateway from a background thread.

    `track(event)` validates and encodes the event at once (a bad event raises an
    `InvalidEventError` naming the field, and nothing is queued), then queues it; a background
    thread sends batches, retries what the gateway could not take, and reports what it refused
    to `on_rejected`. `close()` (or leaving a `with` block, or interpreter exit) sends what is
    queued within `config.close_timeout_s`.

    Example:
        with Client("http://127.0.0.1:8080", write_key) as client:
            client.track(PageView(envelope=Envelope(user_id="u-42"), url="https://example.com/pricing"))

    Thread-safe. After `os.fork()` the child gets a fresh, empty queue and sender (what was
    queued before the fork is sent by the parent) and its own counters.
    """

    def __init__(
        self,
        gateway_url: str,
        write_key: str,
        config: ClientConfig | None = None,
        *,
        on_rejected: RejectedCallback | None = None,
        http_transport: httpx.BaseTransport | None = None,
    ) -> None:
        """Start a client and its sender thread.

        Args:
            gateway_url: base URL of the gateway, e.g. `http://127.0.0.1:8080`.
            write_key: the write key sent as `Authorization: Bearer <key>`.
            config: batching, queue and retry settings; defaults when None.
            on_rejected: called (on the sender thread) with a `RejectedEvent` for each event
                that will never be delivered: refused by the gateway, too large to send, or
                still undelivered when the retry bounds ran out; such events are counted as
                rejected and never retried.
            http_transport: an httpx transport to use instead of the network (for tests).
        """
        if not gateway_url.startswith(("http://", "https://")):
            raise ConfigError("gateway_url", f"must be an http(s) URL, got {gateway_url!r}")
        if not write_key:
            raise ConfigError("write_key", "must not be empty")
        self.config = config or ClientConfig()
        self._gateway_url = gateway_url
        self._write_key = write_key
        self._on_rejected = on_rejected
        self._http_transport = http_transport
        self._closed = False
        self._dropping = False
        self._start()
        self._exit_hook = functools.partial(_close_at_exit, weakref.ref(self))
        atexit.register(self._exit_hook)

    def _start(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._tally = Tally()
        config = self.config
        self._queue = EventQueue(config.queue_size, config.batch_size, config.batch_bytes, config.linger_s)
        transport = GatewayTransport(
            self._gateway_url,
            self._write_key,
            timeout_s=self.config.request_timeout_s,
            gzip_bodies=self.config.gzip,
            http_transport=self._http_transport,
        )
        self._sender = Sender(self._queue, transport, self._tally, self.config, self._on_rejected)
        self._sender.start()

    def track(self, event: Record) -> bool:
        """Validate, encode and queue `event`; True once queued, False if the full queue dropped it.

        Fills `envelope.event_id` (a UUIDv7) and `envelope.event_time` (now, UTC) when they
        are None. Tracking the same event object again sends the same event_id, which the
        platform treats as a duplicate. An event larger than `config.max_event_bytes` is never
        sent: it is counted and reported to `on_rejected` (code `event_too_large`), like events
        the gateway refuses.

        Raises:
            InvalidEventError: (a subclass naming the field) the event cannot be sent as it is.
            QueueFullError: under the "block" policy, the queue stayed full for `block_timeout_s`.
            ClientClosedError: the client was closed.
        """
        self._check_usable()
        codec = codec_for(event)
        record = event.to_avro()
        event_id = _stamp(event, record)
        if self.config.mode == "avro":
            payload = codec.encode(record)
            framed_bytes = FRAME_HEADER_BYTES + len(payload)
        else:
            payload = codec.to_json(record).encode()
            framed_bytes = 0  # the gateway counts framed Avro: only JSON near the limit needs the figure
            if _AVRO_PER_JSON_BYTE * len(payload) > self.config.max_event_bytes:
                framed_bytes = FRAME_HEADER_BYTES + len(codec.encode(record))
        return self._enqueue(self._pending(codec, event_id, payload, framed_bytes))

    def _pending(self, codec: EventCodec, event_id: str, payload: bytes, framed_bytes: int) -> Pending:
        """The queue entry of an event; one refused without its payload when the gateway would refuse it."""
        limit = self.config.max_event_bytes
        if framed_bytes <= limit:
            return Pending(codec, event_id, payload, len(payload))
        message = (
            f"the event is {framed_bytes} bytes encoded; the gateway takes at most {limit} "
            "(ClientConfig.max_event_bytes), so it was not sent"
        )
        return Pending(codec, event_id, b"", 0, refusal=(EVENT_TOO_LARGE, message))

    def _check_usable(self) -> None:
        if self._pid != os.getpid():
            self._start()  # a forked child: the parent's sender thread does not exist here
        if self._closed:
            raise ClientClosedError(_CLOSED)

    def _enqueue(self, pending: Pending) -> bool:
        self._tally.accepted()
        blocking = self.config.when_full == "block"
        if self._queue.put(pending, self.config.block_timeout_s if blocking else 0):
            self._dropping = False
            return True
        self._tally.settle(dropped=1)
        if self._closed:
            raise ClientClosedError(_CLOSED)
        if not self._dropping:
            self._dropping = True
            logger.warning(
                "send queue full, dropping events",
                extra={"queue_size": self.config.queue_size, "when_full": self.config.when_full},
            )
        if blocking:
            raise QueueFullError(
                f"the send queue ({self.config.queue_size} events) stayed full for "
                f"{self.config.block_timeout_s} s; event {pending.event_id} was dropped"
            )
        return False

    def track_encoded(self, event_class: type[Record], avro_body: bytes, event_id: str) -> bool:
        """Queue an Avro body already encoded with `event_class`'s schema, as is, unvalidated.

        For replaying stored bodies (and for fault injection in tests and the simulator); the
        gateway is the only check, and what it refuses goes to `on_rejected`. Returns and
        raises like `track`; raises `ConfigError` in JSON mode.
        """
        if self.config.mode != "avro":
            raise ConfigError("mode", "track_encoded sends Avro bodies; this client is in JSON mode")
        self._check_usable()
        if not is_event_class(event_class):
            raise ConfigError("event_class", f"{event_class!r} is not an Accord event class")
        codec = codec_for_class(event_class)
        return self._enqueue(self._pending(codec, event_id, avro_body, FRAME_HEADER_BYTES + len(avro_body)))

    def flush(self, timeout: float | None = None) -> bool:
        """Send everything queued so far now; True once all of it is settled, False on timeout."""
        self._queue.expedite()
        return self._tally.wait_settled(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Send what is queued (within `timeout`, default `config.close_timeout_s`) and stop.

        Returns True when every event was settled in time; events still unsent when the
        timeout passes are counted as dropped. Closing twice does nothing.
        """
        with self._lock:
            if self._closed:
                return True
            self._closed = True
        atexit.unregister(self._exit_hook)
        if self._pid != os.getpid():
            return True  # the sender belongs to the parent process
        finished = self._sender.stop(self.config.close_timeout_s if timeout is None else timeout)
        counters = self.counters
        logger.info("client closed", extra=vars(counters))
        return finished

    @property
    def counters(self) -> Counters:
        """What happened so far to the events this client accepted."""
        return self._tally.snapshot()

    @property
    def closed(self) -> bool:
        """True once `close()` was called."""
        return self._closed

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _stamp(event: Record, record: dict[str, Any]) -> str:
    """Fill the envelope's missing id and time (in the event too, so a resend keeps its id)."""
    envelope = record.get("envelope")
    if not isinstance(envelope, dict):
        return ""  # the validation names the missing envelope
    target = getattr(event, "envelope", None)
    if envelope.get("event_id") is None:
        envelope["event_id"] = uuid7()
        if target is not None:
            target.event_id = envelope["event_id"]
    if envelope.get("event_time") is None:
        envelope["event_time"] = utc_now()
        if target is not None:
            target.event_time = envelope["event_time"]
    context = envelope.get("context")
    if isinstance(context, dict) and context.get("library_name") is None:
        context["library_name"] = LIBRARY_NAME
        context["library_version"] = LIBRARY_VERSION
        target_context = getattr(target, "context", None)
        if target_context is not None:
            target_context.library_name = LIBRARY_NAME
            target_context.library_version = LIBRARY_VERSION
    return str(envelope["event_id"])


def _close_at_exit(client_ref: weakref.ReferenceType[Client]) -> None:
    client = client_ref()
    if client is not None and not client.closed:
        client.close()

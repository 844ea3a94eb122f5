"""The settings of a `Client`: batching, queue, retries, encoding."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

from accord.sdk.errors import ConfigError


@dataclass(frozen=True)
class ClientConfig:
    """How a `Client` batches, queues and retries. Every field has a working default.

    Attributes:
        mode: "avro" sends Confluent-framed Avro binary; "json" sends Avro's JSON encoding.
        batch_size: most events in one request (the gateway takes up to 1,000).
        batch_bytes: most encoded bytes in one request, before gzip.
        linger_s: how long an event may wait for its batch to fill before it is sent anyway.
        queue_size: most events waiting to be sent; what happens beyond is `when_full`.
        when_full: "block" makes `track` wait up to `block_timeout_s` for room, then raise
            `QueueFullError`; "drop" makes `track` return False at once. Both count the event
            as dropped.
        block_timeout_s: longest wait in `track` under the "block" policy.
        gzip: compress request bodies.
        request_timeout_s: timeout of one HTTP request.
        backoff_base_s: first retry delay; it doubles with each attempt, with jitter.
        backoff_max_s: longest delay between two attempts (a longer `Retry-After` still wins).
        retry_timeout_s: longest time a batch is retried; then its events go to `on_rejected`
            with code `retries_exhausted`. None retries until the client is closed.
        max_retries: most attempts after the first (None: no bound but `retry_timeout_s`);
            then the batch's events go to `on_rejected` as for the timeout.
        max_event_bytes: largest event the gateway takes (its `ACCORD_GATEWAY_MAX_EVENT_BYTES`,
            framed Avro bytes); a larger event is never sent: it goes to `on_rejected` with code
            `event_too_large`.
        close_timeout_s: how long `close()` and interpreter exit wait for queued events.
    """

    mode: Literal["avro", "json"] = "avro"
    batch_size: int = 500
    batch_bytes: int = 1_000_000
    linger_s: float = 0.5
    queue_size: int = 10_000
    when_full: Literal["block", "drop"] = "block"
    block_timeout_s: float = 5.0
    gzip: bool = True
    request_timeout_s: float = 10.0
    backoff_base_s: float = 0.2
    backoff_max_s: float = 30.0
    retry_timeout_s: float | None = 600.0
    max_retries: int | None = None
    max_event_bytes: int = 64_000
    close_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if self.mode not in ("avro", "json"):
            raise ConfigError("mode", f"must be 'avro' or 'json', got {self.mode!r}")
        if self.when_full not in ("block", "drop"):
            raise ConfigError("when_full", f"must be 'block' or 'drop', got {self.when_full!r}")
        for name in ("batch_size", "batch_bytes", "queue_size", "max_event_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(name, f"must be a positive int, got {value!r}")
        if self.max_retries is not None and self.max_retries < 0:
            raise ConfigError("max_retries", f"must be None or >= 0, got {self.max_retries!r}")
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "retry_timeout_s" and value is None:
                continue
            if item.name.endswith("_s") and (not isinstance(value, int | float) or value < 0):
                raise ConfigError(item.name, f"must be a number of seconds >= 0, got {value!r}")

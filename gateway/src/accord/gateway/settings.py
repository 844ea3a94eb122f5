"""The gateway's configuration, read from `ACCORD_*` environment variables."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from accord.runtime.addresses import gateway_port, is_loopback, kafka_bootstrap, registry_url
from accord.runtime.errors import InvalidSettingError
from accord.runtime.kafka_security import KafkaSecurity
from accord.wire.naming import DEADLETTER_TOPIC, EVENTS_TOPIC
from accord.wire.rules import DEFAULT_HORIZON, DEFAULT_SKEW


class GatewaySettings(BaseSettings):
    """Every knob of the ingestion gateway.

    Gateway-specific fields use the prefix `ACCORD_GATEWAY_` (e.g. `ACCORD_GATEWAY_PORT`); the
    names shared by the whole platform keep theirs (`ACCORD_KAFKA_BOOTSTRAP`, `ACCORD_REGISTRY_URL`,
    `ACCORD_EVENTS_TOPIC`, `ACCORD_DEADLETTER_TOPIC`, and Silver's `ACCORD_EVENT_TIME_HORIZON` and
    `ACCORD_EVENT_TIME_SKEW`, so that the gateway accepts only events Silver keeps).
    """

    model_config = SettingsConfigDict(env_prefix="ACCORD_GATEWAY_", extra="ignore", populate_by_name=True)

    host: str = "127.0.0.1"
    port: int = Field(default_factory=gateway_port)
    workers: int = Field(
        default=1,
        ge=1,
        description="gateway processes serving the port; their /metrics and /v1/stats add up, while "
        "each keeps its own dedup window and rate limits (Silver is the dedup of record)",
    )
    kafka_bootstrap: str = Field(default_factory=kafka_bootstrap, validation_alias="ACCORD_KAFKA_BOOTSTRAP")
    kafka_security: KafkaSecurity = Field(
        default_factory=KafkaSecurity, description="TLS and SASL from ACCORD_KAFKA_SECURITY_PROTOCOL, …"
    )
    registry_url: str = Field(default_factory=registry_url, validation_alias="ACCORD_REGISTRY_URL")
    events_topic: str = Field(default=EVENTS_TOPIC, validation_alias="ACCORD_EVENTS_TOPIC")
    deadletter_topic: str = Field(default=DEADLETTER_TOPIC, validation_alias="ACCORD_DEADLETTER_TOPIC")
    event_time_horizon: timedelta = Field(
        default=DEFAULT_HORIZON,
        validation_alias="ACCORD_EVENT_TIME_HORIZON",
        description="how long before its reception an event may have happened (skew-corrected)",
    )
    event_time_skew: timedelta = Field(
        default=DEFAULT_SKEW,
        validation_alias="ACCORD_EVENT_TIME_SKEW",
        description="how far after its reception a skew-corrected event time may be",
    )
    write_keys_file: Path | None = Field(
        default=None,
        description="JSON list of {key_id, sha256, subjects}; without it only the development key works",
    )
    allow_development_key: bool = Field(
        default=False,
        description="accept the development key on an address other hosts reach (no keys file)",
    )
    segment_mapping_file: Path | None = Field(
        default=None,
        description="the Segment mapping (schemas/segment.json): which Segment call becomes which Accord "
        "event; without it every Segment message is unmapped",
    )
    segment_unmapped: Literal["reject", "deadletter"] = Field(
        default="reject",
        description="a Segment message no mapping names: 'reject' answers it rejected "
        "(unmapped_segment_event) and dead-letters it; 'deadletter' only dead-letters it (counted in "
        "the answer's 'deadlettered'), for a re-drive once it is mapped",
    )
    max_body_bytes: int = Field(default=5_000_000, description="largest request body, after gzip decoding")
    max_event_bytes: int = Field(default=64_000, description="largest single event (framed Avro or JSON)")
    deadletter_original_max_bytes: int = Field(
        default=262_144,
        ge=0,
        le=700_000,
        description="most bytes of a rejected event copied into its dead-letter record, so that the "
        "record (base64) always fits Kafka's 1 MB limit; the record keeps the full size and SHA-256",
    )
    max_batch_events: int = Field(default=1_000, description="most events in one request")
    rate_limit_events_per_s: float = Field(default=50_000.0, description="sustained events/s per write key")
    rate_limit_burst: int = Field(default=100_000, description="events a key may send at once")
    dedup_window_s: float = Field(default=600.0, description="how long an accepted event_id is remembered")
    dedup_max_ids: int = Field(default=1_000_000, description="bound on remembered event ids")
    delivery_timeout_s: float = Field(
        default=10.0, description="longest wait for Kafka to acknowledge a request's events"
    )
    retry_after_s: int = Field(default=5, description="Retry-After sent with 503 answers")
    latest_ttl_s: float = Field(
        default=30.0, description="how long the latest version of a subject is cached"
    )
    producer_linger_ms: int = 5
    producer_queue_max_messages: int = 100_000
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _development_key_stays_local(self) -> Self:
        # the development key is public: on an address other hosts reach it would let anyone send
        if self.write_keys_file is None and not self.allow_development_key and not is_loopback(self.host):
            raise InvalidSettingError(
                "ACCORD_GATEWAY_HOST",
                self.host,
                "a gateway other hosts reach needs ACCORD_GATEWAY_WRITE_KEYS_FILE "
                "(or ACCORD_GATEWAY_ALLOW_DEVELOPMENT_KEY=true to accept the development key)",
            )
        return self

"""Shapes of the HTTP API, for the OpenAPI document.

Handlers build their answers with orjson directly (no model per event on the hot path); these
models only describe what they send, and the schemathesis run checks that the two agree.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, Field


class RejectedEvent(BaseModel):
    """Why one event of a batch was refused."""

    index: int = Field(description="position of the event in the batch, from 0")
    event_id: str | None = Field(description="envelope.event_id when it could be read")
    code: str = Field(
        description="what is wrong: truncated_event, truncated_frame, bad_magic_byte, unknown_schema_id, "
        "unknown_subject, unknown_version, unauthorized_subject, event_too_large, undecodable_avro, "
        "trailing_bytes, missing_event_id, invalid_uuid, missing_field, wrong_type, unknown_field, "
        "out_of_range, not_in_enum, invalid_event, missing_schema, invalid_version, missing_payload, "
        "contract_rule_violation"
    )
    field: str | None = Field(
        description="path of the field at fault from the payload's root, e.g. envelope.event_id"
    )
    message: str
    rule: str | None = Field(
        default=None,
        description="with contract_rule_violation: the name of the data-contract rule the event breaks",
    )


class BatchResult(BaseModel):
    """The per-event results of `POST /v1/events`.

    `accepted + duplicates + len(rejected)` is the number of events sent. Duplicates (an
    event_id accepted within the dedup window) are not produced again but count as delivered.
    """

    accepted: int = Field(description="events produced to Kafka and acknowledged by it")
    duplicates: int = Field(description="events whose event_id was accepted recently: not produced again")
    rejected: list[RejectedEvent]


class ErrorDetail(BaseModel):
    """A request-level problem."""

    code: str = Field(description="stable machine-readable code, e.g. invalid_write_key, malformed_json")
    message: str


class ErrorBody(BaseModel):
    """The body of every request-level error."""

    error: ErrorDetail


class JsonEvent(BaseModel):
    """One event of a JSON batch."""

    schema_: str = Field(
        alias="schema",
        min_length=1,
        description="subject (events-<record full name>) or record full name, e.g. accord.events.PageView",
    )
    version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="registered version; the latest when absent"
    )
    payload: dict[str, Any] = Field(
        description="the record's fields as JSON: unions by their plain value, longs as integers, "
        "timestamps as epoch milliseconds (microseconds for timestamp-micros) or RFC 3339 text with an "
        "offset, decimals as strings, enums as their symbol; must contain envelope.event_id (a UUID)"
    )


class JsonBatch(BaseModel):
    """A JSON batch body."""

    sent_at: AwareDatetime | int = Field(
        description="the client's clock when the batch left: RFC 3339 with offset, or epoch milliseconds"
    )
    events: list[JsonEvent] = Field(min_length=1)


class ResolveRequest(BaseModel):
    """A schema the SDK holds, to be matched against the registered versions of a subject."""

    subject: str = Field(min_length=1)
    schema_: dict[str, Any] | str = Field(alias="schema", description="self-contained Avro schema JSON")


class ResolveResult(BaseModel):
    """The registered version whose parsing canonical form equals the given schema."""

    subject: str
    id: int
    version: int


class HourCounts(BaseModel):
    """Events received in one hour (UTC)."""

    hour: str = Field(description="start of the hour, RFC 3339, e.g. 2026-01-31T12:00:00Z")
    accepted: int
    duplicates: int
    rejected: int


class Stats(BaseModel):
    """Counts per hour of receipt since the gateway started."""

    hours: list[HourCounts]


class Health(BaseModel):
    """Liveness or readiness, with the state of each dependency when checked."""

    status: str
    checks: dict[str, bool] = Field(default_factory=dict)


class SegmentResult(BatchResult):
    """The per-message results of the Segment-spec routes (`index` is the position in `batch`).

    `accepted + duplicates + deadlettered + len(rejected)` is the number of messages sent.
    """

    deadlettered: int = Field(
        description="unmapped messages written to the dead letters without being rejected "
        "(ACCORD_GATEWAY_SEGMENT_UNMAPPED=deadletter)"
    )


class SegmentMessage(BaseModel, extra="allow"):
    """One Segment-spec call (https://segment.com/docs/connections/spec/common/)."""

    type: str | None = Field(
        default=None, description="track, page, screen or identify; implied by the single-call routes"
    )
    messageId: str = Field(  # noqa: N815 - Segment's spelling
        description="unique per message; the event id is its UUIDv5 (namespace SEGMENT_NAMESPACE)"
    )
    event: str | None = Field(default=None, description="track: the event's name, e.g. Order Completed")
    name: str | None = Field(default=None, description="page or screen: its name")
    userId: str | None = None  # noqa: N815
    anonymousId: str | None = None  # noqa: N815
    timestamp: AwareDatetime | None = Field(
        default=None, description="when it happened (device clock); the time of reception when absent"
    )
    sentAt: AwareDatetime | int | None = None  # noqa: N815
    properties: dict[str, Any] | None = None
    traits: dict[str, Any] | None = None
    context: dict[str, Any] | None = Field(
        default=None, description="app, os, locale, timezone, userAgent, library, page, campaign, device"
    )
    writeKey: str | None = Field(  # noqa: N815
        default=None, description="the write key, when no Authorization header can be sent (beacons)"
    )


class SegmentBatch(BaseModel, extra="allow"):
    """A Segment-spec batch."""

    batch: list[SegmentMessage] = Field(min_length=1)
    sentAt: AwareDatetime | int | None = Field(  # noqa: N815
        default=None, description="the client's clock when the batch left; the time of reception when absent"
    )
    context: dict[str, Any] | None = Field(default=None, description="merged under every message's context")
    writeKey: str | None = None  # noqa: N815

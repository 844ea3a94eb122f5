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
        "out_of_range, not_in_enum, invalid_event, missing_schema, invalid_version, missing_payload"
    )
    field: str | None = Field(
        description="path of the field at fault from the payload's root, e.g. envelope.event_id"
    )
    message: str


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

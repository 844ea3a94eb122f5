"""The gateway's error codes, stable across releases, and the dead-letter failure types.

A request-level code is answered with its HTTP status and `{"error": {"code", "message"}}`; a
per-event code appears in the answer's `rejected` list and, with its failure type, in the
event's dead-letter record. `python -m accord.wire.error_codes` prints the documented table.
"""

from __future__ import annotations

from enum import StrEnum


class FailureType(StrEnum):
    """The failure types of dead-letter records."""

    FORMAT_VIOLATION = "format_violation"
    SCHEMA_VIOLATION = "schema_violation"
    SIZE_VIOLATION = "size_violation"
    UNKNOWN_SCHEMA = "unknown_schema"
    UNAUTHORIZED_SUBJECT = "unauthorized_subject"


class ErrorCode(StrEnum):
    """Every code the gateway answers with; `answered` says how, `description` what it means."""

    answered: str
    description: str

    def __new__(cls, code: str, answered: str, description: str) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.answered = answered
        member.description = description
        return member

    @classmethod
    def parse(cls, text: str) -> ErrorCode | None:
        """The code spelled `text`, None when the gateway has no such code."""
        found = cls._value2member_map_.get(text)
        return found if isinstance(found, ErrorCode) else None

    # request-level
    MALFORMED_JSON = "malformed_json", "400", "the body is not valid JSON"
    INVALID_BATCH = (
        "invalid_batch",
        "400",
        "the JSON body is not an object with `sent_at` and an `events` array",
    )
    EMPTY_BATCH = "empty_batch", "400", "the batch holds no events"
    MISSING_SENT_AT = "missing_sent_at", "400", "no `Accord-Sent-At` header (Avro) or `sent_at` field (JSON)"
    INVALID_SENT_AT = (
        "invalid_sent_at",
        "400",
        "`sent_at` is neither epoch milliseconds nor an RFC 3339 time with a UTC offset",
    )
    SENT_AT_OUT_OF_RANGE = (
        "sent_at_out_of_range",
        "400",
        "`sent_at` is before 2000-01-01 or after 2100-01-01 (rule `time_out_of_range`)",
    )
    INVALID_GZIP = "invalid_gzip", "400", "the body sent with `Content-Encoding: gzip` is not valid gzip"
    GZIP_TRAILING_DATA = (
        "gzip_trailing_data",
        "400",
        "bytes after the last gzip member are not another gzip member",
    )
    TOO_MANY_GZIP_MEMBERS = "too_many_gzip_members", "400", "the gzip body holds more than 1,000 members"
    JSON_TOO_DEEP = "json_too_deep", "400", "the JSON nests arrays and objects deeper than 254 levels"
    INVALID_REQUEST = (
        "invalid_request",
        "400",
        "a resolve request is not an object with `subject` and `schema`",
    )
    INVALID_SCHEMA = "invalid_schema", "400", "the schema of a resolve request is not a valid Avro schema"
    MISSING_WRITE_KEY = "missing_write_key", "401", "no `Authorization: Bearer <write key>` header"
    MALFORMED_AUTHORIZATION = (
        "malformed_authorization",
        "401",
        "the Authorization header is not `Bearer <key>`",
    )
    INVALID_WRITE_KEY = "invalid_write_key", "401", "the write key is not known to this gateway"
    INVALID_PARAMETERS = (
        "invalid_parameters",
        "400",
        "a query parameter or header is not of its documented form",
    )
    ORIGIN_NOT_ALLOWED = (
        "origin_not_allowed",
        "403",
        "the browser Origin is not one of the write key's allowed origins (CORS)",
    )
    SCHEMA_NOT_REGISTERED = "schema_not_registered", "404", "no version of the subject has this schema"
    NOT_FOUND = "not_found", "404", "the gateway has no route at this path"
    METHOD_NOT_ALLOWED = "method_not_allowed", "405", "the route does not answer this method (see `Allow`)"
    BODY_TOO_LARGE = "body_too_large", "413", "the body (after gzip decoding) exceeds the limit"
    TOO_MANY_EVENTS = "too_many_events", "413", "the batch holds more events than the limit"
    UNSUPPORTED_CONTENT_TYPE = (
        "unsupported_content_type",
        "415",
        "Content-Type is neither Avro batch nor JSON",
    )
    UNSUPPORTED_CONTENT_ENCODING = (
        "unsupported_content_encoding",
        "415",
        "Content-Encoding is neither gzip nor none",
    )
    RATE_LIMITED = "rate_limited", "429", "the write key sent more events than its rate allows; retry later"
    INTERNAL_ERROR = "internal_error", "500", "the gateway failed unexpectedly; the request may be retried"
    KAFKA_UNAVAILABLE = "kafka_unavailable", "503", "Kafka did not acknowledge the request's records; retry"
    KAFKA_QUEUE_FULL = "kafka_queue_full", "503", "the gateway's producer queue is full; retry"
    REGISTRY_UNAVAILABLE = "registry_unavailable", "503", "the schema registry cannot be reached; retry"
    # per event (`unauthorized_subject` is also a 403 when every event of a request has it)
    TRUNCATED_EVENT = "truncated_event", "format_violation", "the Avro batch body ends inside an event"
    TRUNCATED_FRAME = (
        "truncated_frame",
        "format_violation",
        "the event is shorter than the 5-byte frame header",
    )
    BAD_MAGIC_BYTE = "bad_magic_byte", "format_violation", "the event's first byte is not the magic byte 0"
    INVALID_EVENT = (
        "invalid_event",
        "format_violation",
        "a JSON event is not an object with `schema` and `payload`",
    )
    MISSING_SCHEMA = "missing_schema", "format_violation", "a JSON event names no subject or record"
    INVALID_VERSION = (
        "invalid_version",
        "format_violation",
        "a JSON event's `version` is not a positive integer",
    )
    MISSING_PAYLOAD = "missing_payload", "format_violation", "a JSON event has no `payload`"
    INVALID_SEGMENT_MESSAGE = (
        "invalid_segment_message",
        "format_violation",
        "a Segment message is not an object with a known `type` and a `messageId`",
    )
    UNMAPPED_SEGMENT_EVENT = (
        "unmapped_segment_event",
        "unknown_schema",
        "no mapping names an Accord event for this Segment call (`type`, and `event` for track)",
    )
    UNDECODABLE_AVRO = (
        "undecodable_avro",
        "schema_violation",
        "the Avro body does not decode with its schema id",
    )
    TRAILING_BYTES = "trailing_bytes", "schema_violation", "bytes remain after decoding the Avro body"
    NOT_A_RECORD = "not_a_record", "schema_violation", "the event's schema is not an Avro record"
    MISSING_EVENT_ID = "missing_event_id", "schema_violation", "the event has no `envelope.event_id`"
    INVALID_UUID = (
        "invalid_uuid",
        "schema_violation",
        "`envelope.event_id` is not a lower-case hyphenated UUID",
    )
    MISSING_IDENTITY = "missing_identity", "schema_violation", "neither `user_id` nor `anonymous_id` is set"
    TIME_OUT_OF_RANGE = (
        "time_out_of_range",
        "schema_violation",
        "`event_time` is before 2000-01-01 or after 2100-01-01",
    )
    EVENT_TIME_TOO_OLD = (
        "event_time_too_old",
        "schema_violation",
        "the skew-corrected event time is more than the horizon before reception",
    )
    EVENT_TIME_IN_FUTURE = (
        "event_time_in_future",
        "schema_violation",
        "the skew-corrected event time is more than the allowed skew after reception",
    )
    CONTRACT_RULE_VIOLATION = (
        "contract_rule_violation",
        "schema_violation",
        "the event breaks a data-contract rule of its schema (`rule` names it, `field` what it reads)",
    )
    MISSING_FIELD = "missing_field", "schema_violation", "a required field is absent"
    WRONG_TYPE = "wrong_type", "schema_violation", "a field's value is not of the schema's type"
    UNKNOWN_FIELD = "unknown_field", "schema_violation", "a JSON payload has a field the schema does not have"
    OUT_OF_RANGE = "out_of_range", "schema_violation", "an integer does not fit its Avro int or long"
    NOT_IN_ENUM = "not_in_enum", "schema_violation", "a value is not one of its enum's symbols"
    INVALID_TIMESTAMP = (
        "invalid_timestamp",
        "schema_violation",
        "a timestamp field is neither epoch milliseconds nor an RFC 3339 time with a UTC offset",
    )
    INVALID_DECIMAL = "invalid_decimal", "schema_violation", "a decimal field is not a decimal number"
    DECIMAL_OUT_OF_RANGE = (
        "decimal_out_of_range",
        "schema_violation",
        "a decimal has more digits or decimal places than its precision and scale",
    )
    INVALID_VALUE = (
        "invalid_value",
        "schema_violation",
        "the payload does not encode with the registered schema",
    )
    EVENT_TOO_LARGE = "event_too_large", "size_violation", "the event is larger than the per-event limit"
    UNKNOWN_SCHEMA_ID = "unknown_schema_id", "unknown_schema", "the framed schema id is not registered"
    UNKNOWN_SUBJECT = (
        "unknown_subject",
        "unknown_schema",
        "a JSON event names a subject that is not registered",
    )
    UNKNOWN_VERSION = (
        "unknown_version",
        "unknown_schema",
        "a JSON event names a version that is not registered",
    )
    UNAUTHORIZED_SUBJECT = (
        "unauthorized_subject",
        "unauthorized_subject",
        "the write key may not send the event's subject (403 when no event of the request is allowed)",
    )


TABLE_HEADER = ("code", "answered", "meaning")


def error_code_table() -> str:
    """The Markdown table of every error code: code, HTTP status or failure type, meaning."""
    rows = [
        "| " + " | ".join(TABLE_HEADER) + " |",
        "| " + " | ".join("---" for _ in TABLE_HEADER) + " |",
    ]
    rows += [f"| `{code.value}` | {code.answered} | {code.description} |" for code in ErrorCode]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(error_code_table(), end="")

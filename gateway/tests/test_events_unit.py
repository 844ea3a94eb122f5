from __future__ import annotations

import base64
import hashlib
import io
import time
from typing import Any

import fastavro
import orjson
import pytest

from accord.gateway import events
from accord.gateway.catalog import WriterSchema, without_logical_types
from accord.gateway.events import EventClock, decode_avro_event, encode_json_event
from accord.gateway.rejections import MAX_TEXT_CHARS, EventInvalidError, Rejection
from accord.wire.error_codes import ErrorCode, FailureType
from accord.wire.framing import frame
from accord.wire.vectors import wire_vectors

from .schemas import click, click_schema

pytestmark = pytest.mark.unit


def _now() -> EventClock:
    now_ms = int(time.time() * 1000)
    return EventClock(received_at_ms=now_ms, sent_at_ms=now_ms)


def _writer(schema_id: int = 5) -> WriterSchema:
    schema = click_schema("test.unit")
    return WriterSchema(
        schema_id=schema_id,
        schema=schema,
        parsed=fastavro.parse_schema(schema),
        checker=fastavro.parse_schema(without_logical_types(schema)),
        subjects=("events-test.unit.Click",),
        subjects_loaded_at=time.monotonic(),
    )


def _avro(writer: WriterSchema, record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, writer.parsed, record)
    return frame(writer.schema_id, buffer.getvalue())


def test_an_avro_event_is_forwarded_unchanged_with_its_id_and_user_key() -> None:
    writer, record = _writer(), click(user_id="u-42")
    framed = _avro(writer, record)
    event = decode_avro_event(framed, writer, _now())
    assert event.value is framed
    assert event.event_id == record["envelope"]["event_id"]
    assert event.key == b"u-42"


def test_an_avro_event_whose_event_id_is_not_a_uuid_is_refused() -> None:
    writer = _writer()
    record = click()
    record["envelope"]["event_id"] = "not-a-uuid"
    with pytest.raises(EventInvalidError) as caught:
        decode_avro_event(_avro(writer, record), writer, _now())
    assert (caught.value.code, caught.value.field) == ("invalid_uuid", "envelope.event_id")


def test_the_anonymous_id_is_the_key_without_a_user() -> None:
    writer = _writer()
    assert decode_avro_event(_avro(writer, click(user_id=None)), writer, _now()).key == b"anon-1"


@pytest.mark.parametrize(
    ("mangle", "code"),
    [(lambda b: b[:-3], "undecodable_avro"), (lambda b: b + b"\x00", "trailing_bytes")],
)
def test_avro_that_does_not_decode_exactly_is_a_schema_violation(mangle: Any, code: str) -> None:
    writer = _writer()
    with pytest.raises(EventInvalidError) as caught:
        decode_avro_event(mangle(_avro(writer, click())), writer, _now())
    assert caught.value.code == code
    assert caught.value.failure_type is FailureType.SCHEMA_VIOLATION


def test_a_json_event_encodes_to_the_same_bytes_as_fastavro() -> None:
    writer, record = _writer(), click()
    event = encode_json_event(record, writer, _now())
    assert event.value == _avro(writer, record)
    assert event.event_id == record["envelope"]["event_id"]


def test_optional_fields_may_be_left_out_of_a_json_event() -> None:
    writer, record = _writer(), click()
    del record["label"]
    encode_json_event(record, writer, _now())


def _with(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    target = record
    for name in parents:
        target = target[name]
    if value is _DROP:
        del target[last]
    else:
        target[last] = value
    return record


_DROP = object()


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        ("count", "three", "wrong_type"),
        ("count", 1.5, "wrong_type"),
        ("count", True, "wrong_type"),
        ("count", 2**70, "out_of_range"),
        ("button", _DROP, "missing_field"),
        ("kind", "TERTIARY", "not_in_enum"),
        ("colour", "red", "unknown_field"),
        ("envelope.event_time", "yesterday", "invalid_timestamp"),
        ("envelope.user_id", 7, "wrong_type"),
        ("envelope.event_id", "not-a-uuid", "invalid_uuid"),
    ],
)
def test_an_invalid_json_event_names_the_field_and_rule(path: str, value: Any, code: str) -> None:
    with pytest.raises(EventInvalidError) as caught:
        encode_json_event(_with(click(), path, value), _writer(), _now())
    assert (caught.value.field, caught.value.code) == (path, code)
    assert path in caught.value.message


def test_a_json_event_without_event_id_is_refused() -> None:
    record = click()
    del record["envelope"]["event_id"]
    with pytest.raises(EventInvalidError) as caught:
        encode_json_event(record, _writer(), _now())
    assert caught.value.field == "envelope.event_id"


def test_the_deadletter_record_follows_the_wire_contract() -> None:
    error = EventInvalidError(
        FailureType.SCHEMA_VIOLATION, ErrorCode.WRONG_TYPE, "count is string", "count", event_id="e1"
    )
    rejection = Rejection.from_error(3, error, b"\x00raw", subject="events-x.Y", schema_id=9)
    assert rejection.deadletter_record(1234, "web", original_max_bytes=100) == {
        "stage": "gateway",
        "failure_type": "schema_violation",
        "subject": "events-x.Y",
        "schema_id": 9,
        "errors": [{"field": "count", "rule": "wrong_type", "message": "count is string"}],
        "event_id": "e1",
        "original": base64.b64encode(b"\x00raw").decode(),
        "original_size": 4,
        "original_sha256": hashlib.sha256(b"\x00raw").hexdigest(),
        "original_truncated": False,
        "recoverable": True,
        "received_at": 1234,
        "key_id": "web",
    }
    assert rejection.answer() == {
        "index": 3,
        "event_id": "e1",
        "code": "wrong_type",
        "field": "count",
        "message": "count is string",
    }


def test_a_deadletter_record_keeps_a_bounded_part_of_a_large_original_with_its_size_and_digest() -> None:
    original = bytes(range(256)) * 4_000
    huge = "x" * 4_000_000
    error = EventInvalidError(
        FailureType.SCHEMA_VIOLATION, ErrorCode.INVALID_UUID, f"not a UUID: {huge}", huge, event_id=huge
    )
    rejection = Rejection.from_error(0, error, original, subject=huge)
    record = rejection.deadletter_record(1, "web", original_max_bytes=1_000)
    assert base64.b64decode(record["original"]) == original[:1_000]
    assert record["original_size"] == len(original)
    assert record["original_sha256"] == hashlib.sha256(original).hexdigest()
    assert record["original_truncated"] is True
    # whatever the client sent, neither the record nor the answer grows with it
    assert len(orjson.dumps(record)) < 10_000
    assert len(orjson.dumps(rejection.answer())) < 5_000
    assert record["event_id"].startswith("x" * MAX_TEXT_CHARS)


def _decimal_type(precision: int, scale: int) -> dict[str, Any]:
    return {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale}


def _order_writer(precision: int = 12, scale: int = 2) -> WriterSchema:
    schema = {
        "type": "record",
        "name": "Order",
        "namespace": "test.unit",
        "fields": [
            {"name": "envelope", "type": click_schema("test.unit")["fields"][0]["type"]},
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale},
            },
            {
                "name": "tip",
                "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}],
                "default": None,
            },
            {
                "name": "lines",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "Line",
                        "fields": [{"name": "price", "type": _decimal_type(8, 2)}],
                    },
                },
                "default": [],
            },
        ],
    }
    return WriterSchema(
        schema_id=9,
        schema=schema,
        parsed=fastavro.parse_schema(schema),
        checker=fastavro.parse_schema(without_logical_types(schema)),
        subjects=("events-test.unit.Order",),
        subjects_loaded_at=time.monotonic(),
    )


@pytest.mark.parametrize(("amount", "tip"), [("12.50", "1.05"), (12.5, None), (7, "0.10")])
def test_json_decimals_given_as_text_or_numbers_encode_exactly(amount: Any, tip: Any) -> None:
    from decimal import Decimal

    writer = _order_writer()
    envelope = click()["envelope"]
    event = encode_json_event({"envelope": envelope, "amount": amount, "tip": tip}, writer, _now())
    decoded: Any = fastavro.schemaless_reader(io.BytesIO(event.value[5:]), writer.parsed, None)
    assert decoded["amount"] == Decimal(str(amount)).quantize(Decimal("0.01"))
    assert decoded["tip"] == (None if tip is None else Decimal(tip))


def test_a_json_decimal_that_is_not_a_number_names_the_field() -> None:
    writer = _order_writer()
    with pytest.raises(EventInvalidError) as caught:
        encode_json_event({"envelope": click()["envelope"], "amount": "twelve"}, writer, _now())
    assert (caught.value.code, caught.value.field) == ("invalid_decimal", "amount")


RULES = wire_vectors()["rules"]


def _at(event_time: int, sent_at: int) -> tuple[dict[str, Any], EventClock]:
    record = click()
    record["envelope"]["event_time"] = event_time
    return record, EventClock(received_at_ms=RULES["received_at_ms"], sent_at_ms=sent_at)


@pytest.mark.parametrize("case", RULES["event_time"], ids=lambda c: f"{c['event_time']}@{c['sent_at']}")
def test_event_time_rules_of_the_vectors_hold_for_avro_and_json(case: dict[str, Any]) -> None:
    writer = _writer()
    record, clock = _at(case["event_time"], case["sent_at"])
    framed = _avro(writer, record)

    def as_avro() -> object:
        return decode_avro_event(framed, writer, clock)

    def as_json() -> object:
        return encode_json_event(record, writer, clock)

    for check in (as_avro, as_json):
        if case["verdict"] is None:
            check()
            continue
        with pytest.raises(EventInvalidError) as caught:
            check()
        assert (caught.value.code, caught.value.field) == (case["verdict"], "envelope.event_time")
        assert caught.value.failure_type is FailureType.SCHEMA_VIOLATION
        assert caught.value.event_id == record["envelope"]["event_id"]


@pytest.mark.parametrize("case", RULES["identity"], ids=lambda c: f"{c['user_id']}/{c['anonymous_id']}")
def test_identity_rule_of_the_vectors(case: dict[str, Any]) -> None:
    record = click()
    record["envelope"].update(user_id=case["user_id"], anonymous_id=case["anonymous_id"])
    if case["verdict"] is None:
        encode_json_event(record, _writer(), _now())
        return
    with pytest.raises(EventInvalidError) as caught:
        encode_json_event(record, _writer(), _now())
    assert caught.value.code == case["verdict"]


@pytest.mark.parametrize("case", RULES["uuid"], ids=lambda c: c["value"])
def test_uuid_rule_of_the_vectors(case: dict[str, Any]) -> None:
    writer, record = _writer(), click()
    record["envelope"]["event_id"] = case["value"]
    if case["verdict"] is None:
        assert decode_avro_event(_avro(writer, record), writer, _now()).event_id == case["value"]
        return
    with pytest.raises(EventInvalidError) as caught:
        decode_avro_event(_avro(writer, record), writer, _now())
    assert (caught.value.code, caught.value.field) == (case["verdict"], "envelope.event_id")


@pytest.mark.parametrize("case", RULES["decimal"], ids=lambda c: c["value"])
def test_decimal_rule_of_the_vectors_is_applied_before_encoding(case: dict[str, Any]) -> None:
    writer = _order_writer(case["precision"], case["scale"])
    event = {"envelope": click()["envelope"], "amount": case["value"]}
    if case["verdict"] is None:
        encode_json_event(event, writer, _now())
        return
    with pytest.raises(EventInvalidError) as caught:
        encode_json_event(event, writer, _now())
    assert (caught.value.code, caught.value.field) == (case["verdict"], "amount")


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"amount": "1e1000000"}, "decimal_out_of_range", "amount"),
        ({"amount": "1e10000000"}, "decimal_out_of_range", "amount"),
        ({"amount": "-9.99E+999999999"}, "decimal_out_of_range", "amount"),
        ({"amount": "0.1e-1000000"}, "decimal_out_of_range", "amount"),
        ({"amount": "1" * 5_000}, "decimal_out_of_range", "amount"),
        ({"amount": "12345678901"}, "decimal_out_of_range", "amount"),
        ({"amount": "12.345"}, "decimal_out_of_range", "amount"),
        ({"amount": "NaN"}, "decimal_out_of_range", "amount"),
        ({"amount": "-Infinity"}, "decimal_out_of_range", "amount"),
        ({"amount": "1", "tip": "1e999999"}, "decimal_out_of_range", "tip"),
        (
            {"amount": "1", "lines": [{"price": "1"}, {"price": "1e999999"}]},
            "decimal_out_of_range",
            "lines[1].price",
        ),
    ],
)
def test_decimals_that_cannot_fit_are_refused_before_fastavro_sees_them(
    fields: dict[str, Any], code: str, field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fastavro's decimal writer (run by validation as well as by the writer) computes 10**exponent:
    # refusing must not reach it
    def never(*_: object, **__: object) -> bool:
        raise AssertionError("fastavro was handed a decimal that cannot fit")

    monkeypatch.setattr(events, "validate", never)
    monkeypatch.setattr(fastavro, "schemaless_writer", never)
    with pytest.raises(EventInvalidError) as caught:
        encode_json_event({"envelope": click()["envelope"], **fields}, _order_writer(), _now())
    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.message.startswith(field)
    assert caught.value.failure_type is FailureType.SCHEMA_VIOLATION


def test_decimals_at_the_bounds_of_their_type_are_accepted() -> None:
    from decimal import Decimal

    writer = _order_writer()
    payload = {
        "envelope": click()["envelope"],
        "amount": "-9999999999.99",
        "tip": "9999.9",
        "lines": [{"price": "1.2e5"}, {"price": 0.5}],
    }
    event = encode_json_event(payload, writer, _now())
    decoded: Any = fastavro.schemaless_reader(io.BytesIO(event.value[5:]), writer.parsed, None)
    assert decoded["amount"] == Decimal("-9999999999.99")
    assert [line["price"] for line in decoded["lines"]] == [Decimal("120000"), Decimal("0.5")]

"""Local validation: every bad value raises a specific error naming the field; good ones encode."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from fastavro import parse_schema, schemaless_reader

from accord.sdk import (
    InvalidEventError,
    InvalidValueError,
    MissingFieldError,
    NaiveDatetimeError,
    NotAnEventError,
    ValueOutOfRangeError,
    WrongTypeError,
)
from accord.sdk.codec import codec_for
from accord.wire.vectors import wire_vectors

from .sample_event import Sample, SampleEnvelope

pytestmark = pytest.mark.unit


def test_a_valid_event_encodes_to_what_fastavro_reads_back() -> None:
    event = Sample(lines=[2, 3], attrs={"a": 2**40}, note="hi")
    codec = codec_for(event)
    body = codec.encode(event.to_avro())
    decoded = cast(
        "dict[str, Any]", schemaless_reader(io.BytesIO(body), parse_schema(Sample.AVRO_SCHEMA), None)
    )
    assert str(decoded["envelope"]["event_id"]) == event.envelope.event_id
    assert decoded["envelope"]["event_time"] == event.envelope.event_time
    assert decoded["amount"] == Decimal("12.50")
    assert decoded["lines"] == [{"quantity": 2}, {"quantity": 3}]
    assert decoded["attrs"] == {"a": 2**40}
    assert decoded["code"] == b"EUR"


@pytest.mark.parametrize(
    ("changes", "error", "field", "words"),
    [
        ({"count": "three"}, WrongTypeError, "count", "expected int, got str"),
        ({"count": 2**31}, ValueOutOfRangeError, "count", "out of range for int"),
        ({"count": -(2**31) - 1}, ValueOutOfRangeError, "count", "out of range for int"),
        ({"count": 1.5}, WrongTypeError, "count", "expected int, got float"),
        ({"count": True}, WrongTypeError, "count", "expected int, got bool"),
        ({"flag": "yes"}, WrongTypeError, "flag", "expected bool"),
        ({"ratio": "0.5"}, WrongTypeError, "ratio", "expected float"),
        ({"name": None}, MissingFieldError, "name", "required field is None"),
        ({"name": 7}, WrongTypeError, "name", "expected str, got int"),
        ({"code": b"EURO"}, InvalidValueError, "code", "holds 4 bytes; fixed Code takes exactly 3"),
        ({"code": "EUR"}, WrongTypeError, "code", "expected bytes of length 3"),
        ({"amount": Decimal("1.234")}, ValueOutOfRangeError, "amount", "more than 2 digits after"),
        ({"amount": Decimal("1234567.00")}, ValueOutOfRangeError, "amount", "more than 6 digits before"),
        ({"amount": 12.5}, WrongTypeError, "amount", "expected Decimal"),
        ({"kind": "C"}, InvalidValueError, "kind", "'C' is not one of A, B"),
        ({"lines": [1, 2**40]}, ValueOutOfRangeError, "lines[1].quantity", "out of range"),
        ({"attrs": {"k": "v"}}, WrongTypeError, "attrs['k']", "expected long"),
        ({"note": 5}, WrongTypeError, "note", "expected str, got int 5"),
    ],
)
def test_a_bad_value_raises_a_specific_error_naming_the_field(
    changes: dict[str, Any], error: type[InvalidEventError], field: str, words: str
) -> None:
    event = Sample(**changes)
    with pytest.raises(error) as raised:
        codec_for(event).encode(event.to_avro())
    assert raised.value.field == field
    assert raised.value.event_type == "Sample"
    assert words in str(raised.value)
    assert str(raised.value).startswith(f"Sample.{field}: ")


def test_a_naive_event_time_is_refused_rather_than_taken_as_utc() -> None:
    event = Sample(envelope=SampleEnvelope(event_time=datetime(2026, 1, 1, 12, 0)))
    with pytest.raises(NaiveDatetimeError) as raised:
        codec_for(event).encode(event.to_avro())
    assert raised.value.field == "envelope.event_time"
    assert "has no time zone" in str(raised.value)


def test_an_event_id_that_is_not_a_uuid_is_refused() -> None:
    event = Sample(envelope=SampleEnvelope(event_id="order-17"))
    with pytest.raises(InvalidValueError, match=r"Sample\.envelope\.event_id: 'order-17' is not a UUID"):
        codec_for(event).encode(event.to_avro())


@pytest.mark.parametrize("case", wire_vectors()["rules"]["uuid"], ids=lambda c: c["value"])
def test_event_ids_are_checked_by_the_wire_uuid_rule(case: dict[str, str | None]) -> None:
    event = Sample(envelope=SampleEnvelope(event_id=str(case["value"])))
    if case["verdict"] is None:
        codec_for(event).encode(event.to_avro())
        return
    with pytest.raises(InvalidValueError, match="canonical form"):
        codec_for(event).encode(event.to_avro())


def test_a_missing_required_key_is_named() -> None:
    event = Sample()
    record = event.to_avro()
    del record["name"]
    with pytest.raises(MissingFieldError, match=r"Sample\.name: required field is missing"):
        codec_for(event).encode(record)


def test_an_object_that_is_not_an_event_is_refused() -> None:
    with pytest.raises(NotAnEventError, match="dict: not an Accord event"):
        codec_for({"url": "x"})


def test_the_json_form_has_plain_values_millisecond_times_and_decimal_strings() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    event = Sample(envelope=SampleEnvelope(event_time=moment), note="n")
    text = codec_for(event).to_json(event.to_avro())
    assert '"event_time":1767323045678' in text
    assert '"amount":"12.50"' in text
    assert '"note":"n"' in text


def test_the_json_form_is_validated_too() -> None:
    event = Sample(count=2**33)
    with pytest.raises(ValueOutOfRangeError, match=r"Sample\.count"):
        codec_for(event).to_json(event.to_avro())

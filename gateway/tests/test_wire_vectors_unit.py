"""The gateway's framing, headers, subjects and sent_at checks against the shared wire vectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from accord.gateway.bodies import sent_at_ms
from accord.gateway.errors import BadRequestError
from accord.gateway.ingest import Gateway, framed_schema_id, shared_headers
from accord.gateway.rejections import EventInvalidError
from accord.gateway.settings import GatewaySettings
from accord.wire.error_codes import ErrorCode, FailureType
from accord.wire.vectors import wire_vectors

pytestmark = pytest.mark.unit

VECTORS = wire_vectors()


@pytest.mark.parametrize("case", VECTORS["framing"]["framed"], ids=lambda c: str(c["schema_id"]))
def test_the_schema_id_of_a_framed_event(case: dict[str, Any]) -> None:
    assert framed_schema_id(bytes.fromhex(case["framed_hex"])) == case["schema_id"]


@pytest.mark.parametrize("case", VECTORS["framing"]["invalid"], ids=lambda c: c["framed_hex"] or "empty")
def test_bad_framing_is_a_format_violation(case: dict[str, Any]) -> None:
    with pytest.raises(EventInvalidError) as caught:
        framed_schema_id(bytes.fromhex(case["framed_hex"]))
    assert caught.value.code == case["code"]
    assert caught.value.failure_type is FailureType.FORMAT_VIOLATION


def test_records_carry_the_documented_headers() -> None:
    names = VECTORS["headers"]["names"]
    millis = VECTORS["headers"]["millis"][1]
    assert shared_headers(millis["millis"], millis["millis"], "web") == [
        (names["received_at"], millis["value"].encode()),
        (names["sent_at"], millis["value"].encode()),
        (names["key_id"], b"web"),
    ]


@pytest.mark.parametrize("case", VECTORS["subjects"], ids=lambda c: c["subject"])
def test_a_json_event_names_its_schema_by_subject_or_full_name(case: dict[str, str]) -> None:
    gateway = Gateway(GatewaySettings(events_topic=case["topic"]), None, None)  # type: ignore[arg-type]
    assert gateway.subject_of(case["full_name"]) == case["subject"]
    assert gateway.subject_of(case["subject"]) == case["subject"]


@pytest.mark.parametrize("case", VECTORS["rules"]["sent_at"], ids=lambda c: str(c["sent_at"]))
def test_sent_at_outside_the_time_range_is_refused(case: dict[str, Any]) -> None:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=case["sent_at"])
    text = moment.isoformat().replace("+00:00", "Z")
    if case["verdict"] is None:
        assert sent_at_ms(text, "header Accord-Sent-At") == case["sent_at"]
        return
    with pytest.raises(BadRequestError) as caught:
        sent_at_ms(text, "header Accord-Sent-At")
    assert caught.value.code is ErrorCode.SENT_AT_OUT_OF_RANGE
    assert "header Accord-Sent-At" in caught.value.message
    assert "time_out_of_range" in caught.value.message

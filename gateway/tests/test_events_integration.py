"""POST /v1/events against the real gateway, broker and registry."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import httpx
import orjson
import pytest

from accord.gateway.testing import GatewayHandle, now_rfc3339, post_json
from accord.runtime.testing import TopicReader
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE as AVRO_BATCH
from accord.wire.framing import batch_body, frame
from accord.wire.headers import EVENT_ID, KEY_ID, RECEIVED_AT, SENT_AT

from .helpers import Registered, post_avro, post_raw
from .schemas import click

pytestmark = pytest.mark.integration


def _json_event(clicks: Registered, record: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"schema": clicks.subject, "payload": record, **extra}


def test_an_avro_batch_is_produced_unchanged_with_key_and_headers(
    gateway_server: GatewayHandle, clicks: Registered, events_topic: TopicReader
) -> None:
    records = [click(user_id=f"user-{i}") for i in range(5)]
    sent_at = "2026-01-31T12:00:00.250Z"
    for record in records:
        # the client's clock is behind: its events happened a second before it sent them
        record["envelope"]["event_time"] = 1_769_860_799_250
    framed = [clicks.framed(r) for r in records]

    response = post_avro(
        gateway_server.url, gateway_server.write_key, framed, headers={"Accord-Sent-At": sent_at}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 5, "duplicates": 0, "rejected": []}
    produced = {r.headers[EVENT_ID]: r for r in events_topic.read(5)}
    assert len(produced) == 5
    for record, value in zip(records, framed, strict=True):
        got = produced[record["envelope"]["event_id"]]
        assert got.value == value
        assert got.key == record["envelope"]["user_id"].encode()
        assert got.headers[SENT_AT] == "1769860800250"
        assert got.headers[KEY_ID] == "test"
        assert abs(int(got.headers[RECEIVED_AT]) - int(got.headers[SENT_AT])) < 10**12


def test_a_json_batch_is_validated_encoded_and_framed(
    gateway_server: GatewayHandle, clicks: Registered, events_topic: TopicReader
) -> None:
    by_subject, by_name = click(), click(user_id=None)
    full_name = clicks.subject.removeprefix("events-")
    response = post_json(
        gateway_server.url,
        gateway_server.write_key,
        [_json_event(clicks, by_subject, version=clicks.version), {"schema": full_name, "payload": by_name}],
    )

    assert response.status_code == 200, response.text
    produced = events_topic.read(2)
    assert len(produced) == 2
    for got in produced:
        assert got.value[:5] == frame(clicks.schema_id, b"")
    decoded = {r.headers[EVENT_ID]: clicks.decode(r.value) for r in produced}
    assert decoded[by_subject["envelope"]["event_id"]]["button"] == "buy"
    assert {r.key for r in produced} == {b"user-1", b"anon-1"}


def test_gzip_bodies_are_accepted(gateway_server: GatewayHandle, clicks: Registered) -> None:
    avro = post_avro(
        gateway_server.url,
        gateway_server.write_key,
        [],
        body=gzip.compress(batch_body([clicks.framed(click())])),
        headers={"Content-Encoding": "gzip"},
    )
    document = {"sent_at": now_rfc3339(), "events": [_json_event(clicks, click())]}
    as_json = httpx.post(
        f"{gateway_server.url}/v1/events",
        content=gzip.compress(orjson.dumps(document)),
        headers={
            "Authorization": f"Bearer {gateway_server.write_key}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert (avro.status_code, as_json.status_code) == (200, 200)
    assert avro.json()["accepted"] == as_json.json()["accepted"] == 1


def test_bad_avro_events_are_rejected_one_by_one_and_the_valid_ones_accepted(
    gateway_server: GatewayHandle, clicks: Registered, events_topic: TopicReader, deadletters: TopicReader
) -> None:
    good = [click(), click()]
    good_frames = [clicks.framed(r) for r in good]
    truncated = clicks.framed(click())[:-4]
    events = [
        good_frames[0],
        b"\x07" + good_frames[1][1:],  # wrong magic byte
        frame(2_000_000_000, good_frames[1][5:]),  # unknown schema id
        truncated,
        frame(clicks.schema_id, b"\x00" * 70_000),  # larger than max_event_bytes
        good_frames[1],
    ]
    body = batch_body(events) + (500).to_bytes(4, "big") + b"\x00\x00"  # ends inside a last event

    response = post_avro(gateway_server.url, gateway_server.write_key, [], body=body)

    assert response.status_code == 207, response.text
    result = response.json()
    assert result["accepted"] == 2
    assert [(r["index"], r["code"]) for r in result["rejected"]] == [
        (1, "bad_magic_byte"),
        (2, "unknown_schema_id"),
        (3, "undecodable_avro"),
        (4, "event_too_large"),
        (6, "truncated_event"),
    ]
    assert all(r["message"] for r in result["rejected"])
    assert {r.headers[EVENT_ID] for r in events_topic.read(2)} == {r["envelope"]["event_id"] for r in good}
    dead = [json.loads(r.value) for r in deadletters.read(5)]
    assert sorted(d["errors"][0]["rule"] for d in dead) == sorted(r["code"] for r in result["rejected"])
    by_rule = {d["errors"][0]["rule"]: d for d in dead}
    assert by_rule["bad_magic_byte"]["failure_type"] == "format_violation"
    assert by_rule["bad_magic_byte"]["recoverable"] is False
    assert base64.b64decode(by_rule["bad_magic_byte"]["original"]) == events[1]
    assert by_rule["unknown_schema_id"]["failure_type"] == "unknown_schema"
    assert by_rule["unknown_schema_id"]["schema_id"] == 2_000_000_000
    assert by_rule["undecodable_avro"]["failure_type"] == "schema_violation"
    assert by_rule["undecodable_avro"]["subject"] == clicks.subject
    assert by_rule["event_too_large"]["failure_type"] == "size_violation"
    assert all(d["stage"] == "gateway" and d["key_id"] == "test" for d in dead)


def test_bad_json_events_name_field_and_rule_and_go_to_the_dead_letters(
    gateway_server: GatewayHandle, clicks: Registered, events_topic: TopicReader, deadletters: TopicReader
) -> None:
    valid = click()
    missing = click()
    del missing["button"]
    wrong_type = click(count="three")
    events = [
        _json_event(clicks, valid),
        _json_event(clicks, missing),
        _json_event(clicks, wrong_type),
        {"schema": "events-test.gateway.NoSuchEvent", "payload": click()},
        _json_event(clicks, click(), version=999),
        {"payload": click()},
        "not an event",
    ]

    response = post_json(gateway_server.url, gateway_server.write_key, events)

    assert response.status_code == 207, response.text
    rejected = [(r["index"], r["code"], r["field"]) for r in response.json()["rejected"]]
    assert rejected == [
        (1, "missing_field", "button"),
        (2, "wrong_type", "count"),
        (3, "unknown_subject", "schema"),
        (4, "unknown_version", "version"),
        (5, "missing_schema", "schema"),
        (6, "invalid_event", None),
    ]
    assert response.json()["rejected"][1]["event_id"] == wrong_type["envelope"]["event_id"]
    assert [r.headers[EVENT_ID] for r in events_topic.read(1)] == [valid["envelope"]["event_id"]]
    dead = {json.loads(r.value)["errors"][0]["rule"]: json.loads(r.value) for r in deadletters.read(6)}
    assert dead["wrong_type"]["errors"][0]["field"] == "count"
    assert json.loads(base64.b64decode(dead["wrong_type"]["original"]))["payload"]["count"] == "three"
    assert dead["unknown_subject"]["failure_type"] == "unknown_schema"


def test_a_batch_with_every_event_rejected_is_answered_422(
    gateway_server: GatewayHandle, clicks: Registered
) -> None:
    response = post_json(
        gateway_server.url, gateway_server.write_key, [_json_event(clicks, click(count="x"))]
    )
    assert response.status_code == 422
    assert response.json()["accepted"] == 0
    assert response.json()["rejected"][0]["code"] == "wrong_type"


def test_a_resent_batch_is_answered_as_duplicates_and_not_produced_again(
    gateway_server: GatewayHandle, clicks: Registered, events_topic: TopicReader
) -> None:
    framed = [clicks.framed(click()) for _ in range(3)]
    first = post_avro(gateway_server.url, gateway_server.write_key, framed)
    again = post_avro(gateway_server.url, gateway_server.write_key, [*framed, framed[0]])

    assert first.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 4, "rejected": []}
    assert len(events_topic.read(3)) == 3


@pytest.mark.parametrize(
    ("envelope", "code", "field"),
    [
        ({"event_time": 0}, "time_out_of_range", "envelope.event_time"),
        ({"event_time": 32_503_680_000_000}, "time_out_of_range", "envelope.event_time"),
        ({"event_time": 9_223_372_036_854_775}, "time_out_of_range", "envelope.event_time"),
        ({"event_id": "0190D1E0-7C4B-7ABC-8DEF-0123456789AB"}, "invalid_uuid", "envelope.event_id"),
        ({"user_id": None, "anonymous_id": None}, "missing_identity", "envelope.user_id"),
    ],
)
def test_events_breaking_an_event_rule_are_answered_422_naming_the_rule(
    gateway_server: GatewayHandle,
    clicks: Registered,
    deadletters: TopicReader,
    envelope: dict[str, Any],
    code: str,
    field: str,
) -> None:
    record = click()
    record["envelope"].update(envelope)

    for response in (
        post_avro(gateway_server.url, gateway_server.write_key, [clicks.framed(record)]),
        post_json(gateway_server.url, gateway_server.write_key, [_json_event(clicks, record)]),
    ):
        assert response.status_code == 422, response.text
        [rejected] = response.json()["rejected"]
        assert (rejected["code"], rejected["field"]) == (code, field)
    dead = [json.loads(r.value) for r in deadletters.read(2)]
    assert {d["errors"][0]["rule"] for d in dead} == {code}
    assert {d["failure_type"] for d in dead} == {"schema_violation"}


@pytest.mark.parametrize("sent_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_sent_at_outside_the_time_range_is_a_bad_request(
    gateway_server: GatewayHandle, clicks: Registered, sent_at: str
) -> None:
    response = post_avro(
        gateway_server.url,
        gateway_server.write_key,
        [clicks.framed(click())],
        headers={"Accord-Sent-At": sent_at},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "sent_at_out_of_range"
    assert "Accord-Sent-At" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        (
            b'{"sent_at": "2026-01-01T00:00:00Z", "events": [',
            {"Content-Type": "application/json"},
            400,
            "malformed_json",
        ),
        (b"[1, 2]", {"Content-Type": "application/json"}, 400, "invalid_batch"),
        (
            b'{"sent_at": "2026-01-01T00:00:00Z", "events": []}',
            {"Content-Type": "application/json"},
            400,
            "empty_batch",
        ),
        (b'{"events": [{}]}', {"Content-Type": "application/json"}, 400, "missing_sent_at"),
        (b"", {"Content-Type": AVRO_BATCH, "Accord-Sent-At": "2026-01-01T00:00:00Z"}, 400, "empty_batch"),
        (b"\x00\x00\x00\x01\x00", {"Content-Type": AVRO_BATCH}, 400, "missing_sent_at"),
        (
            b"\x00\x00\x00\x01\x00",
            {"Content-Type": AVRO_BATCH, "Accord-Sent-At": "noon"},
            400,
            "invalid_sent_at",
        ),
        (b"{}", {"Content-Type": "text/html"}, 415, "unsupported_content_type"),
        (b"{}", {}, 415, "unsupported_content_type"),
        (
            b"{}",
            {"Content-Type": "application/json", "Content-Encoding": "br"},
            415,
            "unsupported_content_encoding",
        ),
        (b"{}", {"Content-Type": "application/json", "Content-Encoding": "gzip"}, 400, "invalid_gzip"),
        (b"x" * 5_000_001, {"Content-Type": "application/json"}, 413, "body_too_large"),
    ],
)
def test_request_level_problems_get_a_specific_4xx(
    gateway_server: GatewayHandle, content: bytes, headers: dict[str, str], status: int, code: str
) -> None:
    response = post_raw(gateway_server, content, **headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_a_gzip_bomb_is_refused_as_too_large(gateway_server: GatewayHandle) -> None:
    bomb = gzip.compress(b"{" + b" " * 6_000_000 + b"}")
    response = post_raw(
        gateway_server, bomb, **{"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "missing_write_key"),
        ("Bearer not-a-key", "invalid_write_key"),
        ("Token abc", "malformed_authorization"),
    ],
)
def test_requests_without_a_valid_write_key_get_401(
    gateway_server: GatewayHandle, clicks: Registered, authorization: str | None, code: str
) -> None:
    headers = {"Content-Type": AVRO_BATCH, "Accord-Sent-At": now_rfc3339()}
    if authorization:
        headers["Authorization"] = authorization
    response = httpx.post(
        f"{gateway_server.url}/v1/events", content=batch_body([clicks.framed(click())]), headers=headers
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code


def test_ids_and_versions_beyond_what_a_registry_holds_are_rejected_per_event(
    gateway_server: GatewayHandle, clicks: Registered
) -> None:
    as_json = post_json(
        gateway_server.url,
        gateway_server.write_key,
        [_json_event(clicks, click(), version=2**40), _json_event(clicks, click())],
    )
    as_avro = post_avro(
        gateway_server.url,
        gateway_server.write_key,
        [frame(0xFFFFFFFF, clicks.framed(click())[5:]), clicks.framed(click())],
    )
    assert as_json.status_code == as_avro.status_code == 207
    assert [(r["index"], r["code"]) for r in as_json.json()["rejected"]] == [(0, "invalid_version")]
    assert [(r["index"], r["code"]) for r in as_avro.json()["rejected"]] == [(0, "unknown_schema_id")]

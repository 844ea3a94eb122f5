"""Inputs a careless or hostile client sends get a specific answer, never a 5xx or a partial 200."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import uuid
from typing import Any

import httpx
import orjson
import pytest

from accord.gateway.testing import GatewayHandle, now_rfc3339, post_json
from accord.registry.testing import RegistryHandle
from accord.runtime.testing import TopicReader
from accord.wire.framing import batch_body
from accord.wire.headers import EVENT_ID

from .helpers import Registered, post_avro, post_raw, register
from .schemas import click, order_schema

pytestmark = pytest.mark.integration


def _json_batch(events: list[Any]) -> bytes:
    return orjson.dumps({"sent_at": now_rfc3339(), "events": events})


def test_an_avro_event_of_800_kb_is_dead_lettered_and_the_valid_ones_accepted(
    gateway_server: GatewayHandle, clicks: Registered, events_topic: TopicReader, deadletters: TopicReader
) -> None:
    valid = [click() for _ in range(5)]
    huge = clicks.framed(click(button="a" * 800_000))
    framed = [clicks.framed(valid[0]), clicks.framed(valid[1]), huge, *map(clicks.framed, valid[2:])]

    response = post_avro(gateway_server.url, gateway_server.write_key, framed)
    alone = post_avro(gateway_server.url, gateway_server.write_key, [huge])

    assert response.status_code == 207, response.text
    assert response.json()["accepted"] == 5
    assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [(2, "event_too_large")]
    assert alone.status_code == 422
    assert alone.json()["rejected"][0]["code"] == "event_too_large"
    produced = events_topic.read(5)
    assert sorted(r.headers[EVENT_ID] for r in produced) == sorted(r["envelope"]["event_id"] for r in valid)
    letters = [json.loads(r.value) for r in deadletters.read(2)]
    assert len(letters) == 2
    for letter in letters:
        assert letter["failure_type"] == "size_violation"
        assert letter["original_size"] == len(huge)
        assert letter["original_sha256"] == hashlib.sha256(huge).hexdigest()
        assert letter["original_truncated"] is True
        assert huge.startswith(base64.b64decode(letter["original"]))


def test_a_json_event_holding_a_5_mb_string_is_dead_lettered_and_the_valid_ones_accepted(
    gateway_server: GatewayHandle, clicks: Registered, events_topic: TopicReader, deadletters: TopicReader
) -> None:
    valid = [click() for _ in range(5)]
    huge_payload = click(button="a" * 4_900_000)
    huge = {"schema": clicks.subject, "payload": huge_payload}
    events = [{"schema": clicks.subject, "payload": record} for record in valid]

    response = post_raw(
        gateway_server, _json_batch([*events[:3], huge, *events[3:]]), **{"Content-Type": "application/json"}
    )

    assert response.status_code == 207, response.text
    assert response.json()["accepted"] == 5
    assert [(r["index"], r["code"], r["event_id"]) for r in response.json()["rejected"]] == [
        (3, "event_too_large", huge_payload["envelope"]["event_id"])
    ]
    assert len(events_topic.read(5)) == 5
    (letter,) = [json.loads(r.value) for r in deadletters.read(1)]
    original = orjson.dumps(huge)
    assert (letter["original_size"], letter["original_sha256"]) == (
        len(original),
        hashlib.sha256(original).hexdigest(),
    )
    assert letter["original_truncated"] is True


def test_every_member_of_a_multi_member_gzip_body_is_read(
    gateway_server: GatewayHandle, clicks: Registered, events_topic: TopicReader
) -> None:
    records = [click() for _ in range(6)]
    framed = [clicks.framed(r) for r in records]
    body = gzip.compress(batch_body(framed[:3])) + gzip.compress(batch_body(framed[3:]))

    response = post_avro(
        gateway_server.url, gateway_server.write_key, [], body=body, headers={"Content-Encoding": "gzip"}
    )

    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 6
    assert len(events_topic.read(6)) == 6


def test_bytes_after_the_last_gzip_member_refuse_the_whole_body(
    gateway_server: GatewayHandle, clicks: Registered, events_topic: TopicReader
) -> None:
    body = gzip.compress(batch_body([clicks.framed(click()) for _ in range(3)])) + b"garbage"
    response = post_avro(
        gateway_server.url, gateway_server.write_key, [], body=body, headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "gzip_trailing_data"
    assert events_topic.read(0, timeout_s=2) == []


def _batch_nesting(clicks: Registered, levels: int) -> bytes:
    """A JSON batch of one Click whose `label` nests `levels` objects and arrays, built as text
    (orjson would refuse to write it)."""
    event = {"schema": clicks.subject, "payload": click(label="NESTED")}
    nested = '{"a":[' * (levels // 2) + '"leaf"' + "]}" * (levels // 2)
    return _json_batch([event]).replace(b'"NESTED"', nested.encode())


@pytest.mark.parametrize("levels", [260, 600, 1100])
def test_a_json_event_nested_too_deep_is_refused_with_400(
    gateway_server: GatewayHandle, clicks: Registered, levels: int
) -> None:
    response = post_raw(
        gateway_server, _batch_nesting(clicks, levels), **{"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "json_too_deep"


def test_a_json_event_nested_within_the_bound_is_answered_per_event(
    gateway_server: GatewayHandle, clicks: Registered, deadletters: TopicReader
) -> None:
    # the label sits 4 levels down (batch, events, event, payload): 4 + 250 levels is within 254
    response = post_raw(gateway_server, _batch_nesting(clicks, 250), **{"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["rejected"][0]["code"] == "wrong_type"
    assert len(deadletters.read(1)) == 1


def test_a_schema_nested_too_deep_is_refused_by_resolve(gateway_server: GatewayHandle) -> None:
    schema: Any = "string"
    for _ in range(300):
        schema = {"type": "array", "items": schema}
    for sent in (schema, json.dumps(schema)):
        response = httpx.post(
            f"{gateway_server.url}/v1/schemas/resolve",
            json={"subject": "events-x.Y", "schema": sent},
            headers={"Authorization": f"Bearer {gateway_server.write_key}"},
            timeout=30,
        )
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "json_too_deep"


@pytest.fixture(scope="module")
def orders(registry_server: RegistryHandle) -> Registered:
    return register(registry_server.url, order_schema(f"test.gw{uuid.uuid4().hex[:10]}"))


@pytest.mark.parametrize("amount", ["1e1000000", "1e10000000", "-1E+999999999"])
def test_a_decimal_with_a_huge_exponent_is_refused_at_once(
    gateway_server: GatewayHandle, orders: Registered, amount: str
) -> None:
    valid = {"schema": orders.subject, "payload": {"envelope": click()["envelope"], "amount": "12.50"}}
    huge = {"schema": orders.subject, "payload": {"envelope": click()["envelope"], "amount": amount}}
    response = post_json(gateway_server.url, gateway_server.write_key, [valid, huge])
    assert response.status_code == 207, response.text
    assert [(r["index"], r["code"], r["field"]) for r in response.json()["rejected"]] == [
        (1, "decimal_out_of_range", "amount")
    ]

"""Dead-letter records keep the event id whenever the envelope's id can be read from the original."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from accord.gateway.testing import GatewayHandle, post_json
from accord.registry.testing import RegistryHandle
from accord.runtime.testing import BrokerHandle, TopicReader
from accord.wire.framing import frame

from .helpers import Registered, post_avro, register_click
from .schemas import click

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def clicks(registry_server: RegistryHandle) -> Registered:
    return register_click(registry_server.url)


@pytest.fixture
def deadletters(kafka_broker: BrokerHandle) -> Iterator[TopicReader]:
    with TopicReader(kafka_broker.bootstrap, kafka_broker.settings.deadletter_topic) as reader:
        yield reader


def test_avro_events_that_do_not_decode_keep_their_envelope_id(
    gateway_server: GatewayHandle, clicks: Registered, deadletters: TopicReader
) -> None:
    cut, trailing = click(), click()
    whole = clicks.framed(cut)
    events = [
        whole[:-3],  # cut inside the fields after the envelope, as a broken client would
        clicks.framed(trailing) + b"\x00\x01",
        frame(clicks.schema_id, b"\xff" * 40),  # not even the id's length decodes
    ]

    response = post_avro(gateway_server.url, gateway_server.write_key, events)

    assert response.status_code == 422, response.text
    rejected = response.json()["rejected"]
    assert [r["code"] for r in rejected] == ["undecodable_avro", "trailing_bytes", "undecodable_avro"]
    assert [r["event_id"] for r in rejected] == [
        cut["envelope"]["event_id"],
        trailing["envelope"]["event_id"],
        None,
    ]
    records = deadletters.read(3)
    by_id = {json.loads(r.value)["event_id"]: json.loads(r.value) for r in records}
    assert by_id.keys() == {cut["envelope"]["event_id"], trailing["envelope"]["event_id"], None}
    assert by_id[cut["envelope"]["event_id"]]["errors"][0]["rule"] == "undecodable_avro"
    assert by_id[trailing["envelope"]["event_id"]]["errors"][0]["rule"] == "trailing_bytes"
    # the dead letter's Kafka key is the id too, so a rejected event's records share a partition
    assert cut["envelope"]["event_id"].encode() in {r.key for r in records}


def test_json_events_refused_before_encoding_keep_their_envelope_id(
    gateway_server: GatewayHandle, clicks: Registered, deadletters: TopicReader
) -> None:
    unknown, unnamed = click(), click()
    events = [
        {"schema": "events-test.gateway.NoSuchEvent", "payload": unknown},
        {"payload": unnamed},
        {"schema": clicks.subject, "payload": {"envelope": {"event_id": 7}}},  # no id to keep
    ]

    response = post_json(gateway_server.url, gateway_server.write_key, events)

    assert response.status_code == 422, response.text
    by_rule = {json.loads(r.value)["errors"][0]["rule"]: json.loads(r.value) for r in deadletters.read(3)}
    assert by_rule["unknown_subject"]["event_id"] == unknown["envelope"]["event_id"]
    assert by_rule["missing_schema"]["event_id"] == unnamed["envelope"]["event_id"]
    (refused_as_invalid,) = (d for r, d in by_rule.items() if r not in ("unknown_subject", "missing_schema"))
    assert refused_as_invalid["event_id"] is None

"""The Segment-spec API against the real gateway, broker and registry, with the real Segment clients."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from segment.analytics import Client

from accord.gateway.segment import SEGMENT_NAMESPACE
from accord.gateway.testing import GatewayHandle, TestKey, now_rfc3339, start_gateway
from accord.registry.testing import RegistryHandle
from accord.runtime.testing import BrokerHandle, TopicReader
from accord.streaming.testing import Pipeline
from accord.wire.headers import EVENT_ID

from .helpers import SEGMENT_MAPPING, Registered, register_contract

pytestmark = pytest.mark.integration

NODE_CLIENT = Path(__file__).parent / "segment_node"


@pytest.fixture(scope="module")
def contracts(registry_server: RegistryHandle) -> dict[str, Registered]:
    """The platform's Purchase and PageView contracts, registered."""
    return {name: register_contract(registry_server.url, name) for name in ("Purchase", "PageView")}


def _gateway(
    factory: pytest.TempPathFactory, broker: BrokerHandle, registry: RegistryHandle, **overrides: Any
) -> GatewayHandle:
    return start_gateway(
        factory.mktemp("gateway-segment"),
        broker.bootstrap,
        registry.url,
        [TestKey("segment"), TestKey("web", origins=("https://shop.example.com",))],
        {"segment_mapping_file": SEGMENT_MAPPING, **overrides},
    )


@pytest.fixture(scope="module")
def segment_gateway(
    tmp_path_factory: pytest.TempPathFactory,
    kafka_broker: BrokerHandle,
    registry_server: RegistryHandle,
    contracts: dict[str, Registered],
) -> Iterator[GatewayHandle]:
    """A gateway reading the Segment mapping of the contracts; unmapped messages rejected."""
    handle = _gateway(tmp_path_factory, kafka_broker, registry_server)
    yield handle
    handle.stop()


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def _event_id(message_id: str) -> str:
    return str(uuid.uuid5(SEGMENT_NAMESPACE, message_id))


def _by_id(records: list[Any], contracts: dict[str, Registered]) -> dict[str, tuple[str, dict[str, Any]]]:
    decoded = {}
    for record in records:
        name = next(n for n, c in contracts.items() if record.value[1:5] == c.schema_id.to_bytes(4, "big"))
        decoded[record.headers[EVENT_ID]] = (name, contracts[name].decode(record.value))
    return decoded


def _order(run: str, message_id: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Order Completed",
        "messageId": message_id,
        "userId": f"user-{run}",
        "timestamp": now_rfc3339(),
        "properties": {"order_id": f"order-{run}", "total": "19.90", "currency": "EUR", **properties},
    }


@pytest.mark.spark
def test_segment_analytics_python_events_reach_kafka_and_silver_once_with_the_mapped_fields(
    segment_gateway: GatewayHandle,
    contracts: dict[str, Registered],
    events_topic: TopicReader,
    pipeline: Pipeline,
) -> None:
    run = uuid.uuid4().hex[:8]
    errors: list[object] = []
    client = Client(
        segment_gateway.write_key,
        host=segment_gateway.url,
        sync_mode=True,
        on_error=lambda e, _: errors.append(e),
    )
    order_id = f"py-order-{run}"
    client.track(
        f"user-{run}",
        "Order Completed",
        {
            "order_id": order_id,
            "total": 42.5,
            "currency": "EUR",
            "products": [{"sku": "s1", "quantity": 2, "price": 21.25}],
        },
        context={"locale": "fr-FR", "app": {"name": "checkout", "version": "4.2"}, "ip": "203.0.113.9"},
        message_id=order_id,
    )
    client.page(
        anonymous_id=f"anon-{run}", name="Pricing", properties={"url": "https://shop.example.com/pricing"}
    )
    # a resend of the same message (a client retry): a duplicate, not a second event
    client.track(
        f"user-{run}",
        "Order Completed",
        {"order_id": order_id, "total": 42.5, "currency": "EUR"},
        message_id=order_id,
    )
    client.flush()

    assert errors == []
    records = _by_id(events_topic.read(2), contracts)
    assert len(records) == 2
    name, purchase = records[_event_id(order_id)]
    assert name == "Purchase"
    assert purchase["order_id"] == order_id
    assert purchase["amount"] == Decimal("42.50")
    assert purchase["items"] == [{"sku": "s1", "quantity": 2, "unit_price": Decimal("21.25")}]
    envelope = purchase["envelope"]
    assert envelope["user_id"] == f"user-{run}"
    assert envelope["context"]["locale"] == "fr-FR"
    assert envelope["context"]["app_name"] == "checkout"
    assert envelope["context"]["library_name"] == "analytics-python"
    assert envelope["context"]["platform"] == "SERVER"
    ((page_name, page),) = [v for k, v in records.items() if k != _event_id(order_id)]
    assert page_name == "PageView"
    assert page["url"] == "https://shop.example.com/pricing"
    assert page["title"] == "Pricing"
    assert page["envelope"]["anonymous_id"] == f"anon-{run}"
    pipeline.assert_each_in_silver_once(set(records), "analytics-python")


@pytest.mark.spark
def test_segment_analytics_node_events_reach_kafka_and_silver_once_with_the_mapped_fields(
    segment_gateway: GatewayHandle,
    contracts: dict[str, Registered],
    events_topic: TopicReader,
    pipeline: Pipeline,
) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the @segment/analytics-node client cannot be run")
    subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=NODE_CLIENT, check=True, timeout=300
    )
    run = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "GATEWAY_URL": segment_gateway.url,
        "WRITE_KEY": segment_gateway.write_key,
        "RUN_ID": run,
    }
    for _ in range(2):  # the second run resends the same messageIds: duplicates
        sent = subprocess.run(
            ["node", "send.mjs"],
            cwd=NODE_CLIENT,
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        assert json.loads(sent.stdout)["statuses"] == [200], sent.stdout + sent.stderr

    records = _by_id(events_topic.read(2), contracts)
    assert len(records) == 2
    name, purchase = records[_event_id(f"node-order-{run}")]
    assert name == "Purchase"
    assert purchase["amount"] == Decimal("42.50")
    assert purchase["items"][0]["sku"] == "sku-1"
    assert purchase["envelope"]["context"]["library_name"] == "@segment/analytics-node"
    assert purchase["envelope"]["context"]["timezone"] == "Europe/Paris"
    page_name, page = records[_event_id(f"node-page-{run}")]
    assert (page_name, page["path"], page["title"]) == ("PageView", "/pricing", "Pricing")
    pipeline.assert_each_in_silver_once(set(records), "analytics-node")


def test_per_message_results_dead_letters_and_unmapped_events_are_answered(
    segment_gateway: GatewayHandle, events_topic: TopicReader, deadletters: TopicReader
) -> None:
    run = uuid.uuid4().hex[:8]
    batch = [
        _order(run, f"ok-{run}"),
        _order(run, f"bad-{run}", total="a lot"),
        {"type": "track", "event": "Cart Abandoned", "messageId": f"unmapped-{run}", "userId": "u"},
        {"type": "identify", "messageId": f"identify-{run}", "userId": "u", "traits": {"plan": "team"}},
        {"type": "track", "event": "Order Completed", "userId": "u"},
    ]
    response = httpx.post(
        f"{segment_gateway.url}/v1/batch",
        json={"batch": batch, "sentAt": now_rfc3339()},
        headers={"Authorization": _basic(segment_gateway.write_key)},
        timeout=30,
    )

    assert response.status_code == 207, response.text
    answer = response.json()
    assert (answer["accepted"], answer["duplicates"], answer["deadlettered"]) == (1, 0, 0)
    rejected = {r["index"]: (r["code"], r["field"]) for r in answer["rejected"]}
    assert rejected == {
        1: ("invalid_decimal", "amount"),
        2: ("unmapped_segment_event", "event"),
        3: ("unmapped_segment_event", "type"),
        4: ("invalid_segment_message", "messageId"),
    }
    assert [r.headers[EVENT_ID] for r in events_topic.read(1)] == [_event_id(f"ok-{run}")]
    dead = [json.loads(r.value) for r in deadletters.read(4)]
    assert len(dead) == 4
    originals = {json.loads(base64.b64decode(d["original"])).get("messageId") for d in dead}
    assert originals == {f"bad-{run}", f"unmapped-{run}", f"identify-{run}", None}


def test_unmapped_messages_can_be_dead_lettered_instead_of_rejected(
    tmp_path_factory: pytest.TempPathFactory,
    kafka_broker: BrokerHandle,
    registry_server: RegistryHandle,
    contracts: dict[str, Registered],
    deadletters: TopicReader,
) -> None:
    gateway = _gateway(tmp_path_factory, kafka_broker, registry_server, segment_unmapped="deadletter")
    try:
        response = httpx.post(
            f"{gateway.url}/v1/identify",
            json={"messageId": "id-1", "userId": "u", "traits": {}},
            headers={"Authorization": f"Bearer {gateway.write_key}"},
            timeout=30,
        )
    finally:
        gateway.stop()

    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 0, "duplicates": 0, "rejected": [], "deadlettered": 1}
    (dead,) = [json.loads(r.value) for r in deadletters.read(1)]
    assert dead["errors"][0]["rule"] == "unmapped_segment_event"
    assert dead["failure_type"] == "unknown_schema"


def test_a_beacon_body_names_its_key_and_cors_allows_only_the_keys_origins(
    segment_gateway: GatewayHandle, events_topic: TopicReader
) -> None:
    run = uuid.uuid4().hex[:8]
    web = segment_gateway.keys[1].secret
    origin = "https://shop.example.com"
    preflight = httpx.options(
        f"{segment_gateway.url}/v1/batch",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    refused = httpx.options(
        f"{segment_gateway.url}/v1/batch?writeKey={web}",
        headers={"Origin": "https://elsewhere.example.com", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    assert refused.json()["error"]["code"] == "origin_not_allowed"

    body = {"writeKey": web, "batch": [_order(run, f"beacon-{run}")], "sentAt": now_rfc3339()}
    beacon = httpx.post(
        f"{segment_gateway.url}/v1/batch",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": origin},
        timeout=30,
    )
    assert beacon.status_code == 200, beacon.text
    assert beacon.headers["access-control-allow-origin"] == origin
    assert len(events_topic.read(1)) == 1

    elsewhere = httpx.post(
        f"{segment_gateway.url}/v1/batch",
        content=json.dumps(body),
        headers={"Content-Type": "text/plain", "Origin": "https://elsewhere.example.com"},
        timeout=30,
    )
    assert elsewhere.status_code == 403
    assert elsewhere.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in elsewhere.headers


def test_a_batch_of_things_that_are_not_messages_is_rejected_per_message(
    segment_gateway: GatewayHandle,
) -> None:
    response = httpx.post(
        f"{segment_gateway.url}/v1/batch",
        json={"batch": [42, {"type": "alias", "messageId": "x"}]},
        headers={"Authorization": _basic(segment_gateway.write_key)},
        timeout=30,
    )

    assert response.status_code == 422, response.text
    assert [(r["index"], r["code"]) for r in response.json()["rejected"]] == [
        (0, "invalid_segment_message"),
        (1, "invalid_segment_message"),
    ]

"""The gateway refuses an event that breaks a data-contract rule of its schema, naming the rule.

The Purchase contract ships two rules (`schemas/avro/accord/events/Purchase.rules.json`):
the amount is positive and the currency is three upper-case letters. They reach the gateway
with the schema from the registry, as `accord schemas register` stored them.
"""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from accord.gateway.testing import GatewayHandle, post_json
from accord.registry.testing import RegistryHandle
from accord.runtime.testing import TopicReader

from .helpers import Registered, post_avro, register_contract

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def purchases(registry_server: RegistryHandle) -> Registered:
    return register_contract(registry_server.url, "Purchase")


def purchase(amount: str, currency: str) -> dict[str, Any]:
    """A Purchase payload as a JSON client sends it."""
    return {
        "envelope": {
            "event_id": str(uuid.uuid4()),
            "event_time": int(time.time() * 1000),
            "user_id": "buyer-1",
            "context": {},
        },
        "order_id": f"order-{uuid.uuid4().hex[:8]}",
        "amount": amount,
        "currency": currency,
    }


def as_record(payload: dict[str, Any]) -> dict[str, Any]:
    """The same purchase as the Avro record an SDK encodes."""
    return {**payload, "amount": Decimal(payload["amount"])}


def test_json_events_breaking_a_rule_get_the_rule_and_field_the_valid_one_is_accepted(
    gateway_server: GatewayHandle, purchases: Registered, deadletters: TopicReader
) -> None:
    batch = [purchase("12.50", "EUR"), purchase("-3.00", "EUR"), purchase("5.00", "eur")]
    answer = post_json(
        gateway_server.url,
        gateway_server.write_key,
        [{"schema": purchases.subject, "payload": payload} for payload in batch],
    )
    assert answer.status_code == 207, answer.text
    body = answer.json()
    assert body["accepted"] == 1
    rejected = {entry["index"]: entry for entry in body["rejected"]}
    assert set(rejected) == {1, 2}
    assert rejected[1]["code"] == rejected[2]["code"] == "contract_rule_violation"
    assert (rejected[1]["rule"], rejected[1]["field"]) == ("purchase_amount_positive", "amount")
    assert (rejected[2]["rule"], rejected[2]["field"]) == ("currency_code", "currency")
    assert "currency_code" in rejected[2]["message"]
    assert rejected[1]["event_id"] == batch[1]["envelope"]["event_id"]
    letters = [json.loads(record.value) for record in deadletters.read(2)]
    assert {letter["errors"][0]["rule"] for letter in letters} == {"contract_rule_violation"}
    assert {letter["event_id"] for letter in letters} == {
        batch[1]["envelope"]["event_id"],
        batch[2]["envelope"]["event_id"],
    }


def test_avro_events_are_held_to_the_same_rules(gateway_server: GatewayHandle, purchases: Registered) -> None:
    valid, zero = purchase("1.00", "USD"), purchase("0.00", "USD")
    answer = post_avro(
        gateway_server.url,
        gateway_server.write_key,
        [purchases.framed(as_record(valid)), purchases.framed(as_record(zero))],
    )
    assert answer.status_code == 207, answer.text
    assert answer.json()["accepted"] == 1
    [entry] = answer.json()["rejected"]
    assert (entry["index"], entry["code"], entry["rule"], entry["field"]) == (
        1,
        "contract_rule_violation",
        "purchase_amount_positive",
        "amount",
    )
    only_bad = post_avro(gateway_server.url, gateway_server.write_key, [purchases.framed(as_record(zero))])
    assert only_bad.status_code == 422

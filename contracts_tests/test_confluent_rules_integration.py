"""confluent-kafka's own `AvroSerializer`, pointed at Accord's registry, enforces the contracts' rules.

The client code is what a Confluent user writes for data-contract rules: the CEL executor
registered, `use.latest.version` on, no auto-registration. The rules come from the registry,
where `accord schemas register` put them from `Purchase.rules.json`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient, topic_record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.rules.cel.cel_executor import CelExecutor
from confluent_kafka.schema_registry.serde import RuleConditionError
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

from accord.registry.testing import RegistryHandle
from accord.registry_client import RegistryClient
from accord.schemas.catalog import Catalog
from accord.schemas.check import self_contained_text
from accord.schemas.register import register_catalog

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def serializer(registry_server: RegistryHandle, catalog: Catalog) -> AvroSerializer:
    register_catalog(catalog, RegistryClient(registry_server.url))
    CelExecutor.register()  # type: ignore[no-untyped-call]
    purchase = catalog.require("accord.events.Purchase")
    serializer: AvroSerializer = AvroSerializer(
        SchemaRegistryClient({"url": registry_server.url}),
        self_contained_text(catalog, purchase),
        conf={
            "auto.register.schemas": False,
            "use.latest.version": True,
            "subject.name.strategy": topic_record_subject_name_strategy,
        },
    )
    return serializer


def purchase(amount: str, currency: str) -> dict[str, Any]:
    return {
        "envelope": {
            "event_id": str(uuid.uuid4()),
            "event_time": datetime.now(UTC),
            "user_id": "buyer-1",
            "context": {},
        },
        "order_id": "order-1",
        "amount": Decimal(amount),
        "currency": currency,
    }


CONTEXT = SerializationContext("events", MessageField.VALUE)


def test_a_valid_purchase_serializes_under_the_registered_id(
    serializer: AvroSerializer, registry_server: RegistryHandle
) -> None:
    framed = serializer(purchase("12.50", "EUR"), CONTEXT)
    assert framed is not None
    latest = RegistryClient(registry_server.url).latest("events-accord.events.Purchase")
    assert framed[0] == 0
    assert int.from_bytes(framed[1:5], "big") == latest.id


@pytest.mark.parametrize(
    ("amount", "currency", "rule"),
    [
        ("-1.00", "EUR", "purchase_amount_positive"),
        ("0.00", "EUR", "purchase_amount_positive"),
        ("9.99", "euro", "currency_code"),
    ],
)
def test_a_purchase_breaking_a_rule_is_refused_with_the_rules_doc(
    serializer: AvroSerializer, catalog: Catalog, amount: str, currency: str, rule: str
) -> None:
    rule_set = catalog.require("accord.events.Purchase").rule_set
    assert rule_set is not None
    [doc] = [r["doc"] for r in rule_set["domainRules"] if r["name"] == rule]
    with pytest.raises(SerializationError) as refused:
        serializer(purchase(amount, currency), CONTEXT)
    # Confluent's ERROR action raises a bare SerializationError from the rule's condition error
    assert isinstance(refused.value.__cause__, RuleConditionError)
    assert str(refused.value.__cause__) == doc

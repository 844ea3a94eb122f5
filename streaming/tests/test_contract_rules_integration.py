"""Silver quarantines a purchase that breaks a data-contract rule and reached Kafka past the gateway.

The rules are the Purchase contract's (`Purchase.rules.json`), registered with the schema; the
records are produced straight to the topic, framed with the registered id, as a producer that
bypasses the gateway writes them.
"""

from __future__ import annotations

import io
import time
import uuid
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from accord.registry_client import RegistryClient
from accord.streaming.testing import Pipeline, envelope, produce_raw
from accord.wire.framing import frame

pytestmark = [pytest.mark.integration, pytest.mark.spark]

SUBJECT = "events-accord.events.Purchase"


def _framed(registry_url: str, amount: str, currency: str) -> tuple[str, bytes]:
    client = RegistryClient(registry_url)
    schema_id = client.latest(SUBJECT).id
    event_id = str(uuid.uuid4())
    record: dict[str, Any] = {
        "envelope": envelope(event_id, event_time_ms=int(time.time() * 1000)),
        "order_id": f"order-{event_id[:8]}",
        "amount": Decimal(amount),
        "currency": currency,
    }
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(client.resolved_schema(schema_id)), record)
    return event_id, frame(schema_id, buffer.getvalue())


def test_a_purchase_breaking_a_rule_is_quarantined_with_the_rules_name(
    pipeline: Pipeline, registered_schemas: str
) -> None:
    valid, valid_bytes = _framed(registered_schemas, "19.90", "EUR")
    negative, negative_bytes = _framed(registered_schemas, "-5.00", "EUR")
    lower, lower_bytes = _framed(registered_schemas, "5.00", "eur")
    produce_raw(
        pipeline.settings.kafka_bootstrap,
        pipeline.settings.events_topic,
        [valid_bytes, negative_bytes, lower_bytes],
        int(time.time() * 1000),
    )

    pipeline.run()

    silver = {r.event_id for r in pipeline.table("silver").select("event_id").collect()}
    quarantined = {r.event_id: (r.reason, r.detail) for r in pipeline.table("quarantine").collect()}
    assert valid in silver
    assert {negative, lower}.isdisjoint(silver)
    assert quarantined[negative][0] == "rule_violation:purchase_amount_positive"
    assert quarantined[negative][1].startswith("amount: ")
    assert quarantined[lower][0] == "rule_violation:currency_code"
    assert quarantined[lower][1].startswith("currency: ")

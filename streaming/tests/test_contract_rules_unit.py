"""Silver's contract check on one framed record, as its UDF runs it in a Python worker."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import fastavro
import pytest

from accord.streaming.contract_rules import Ruled, first_violation
from accord.wire.framing import frame

pytestmark = pytest.mark.unit

SCHEMA = {
    "type": "record",
    "name": "Purchase",
    "namespace": "accord.events",
    "fields": [
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2}},
        {"name": "currency", "type": "string"},
    ],
}
RULES = {
    "domainRules": [
        {
            "name": "amount_positive",
            "type": "CEL",
            "mode": "WRITE",
            "expr": 'decimal(message.amount) > decimal("0")',
        },
        {
            "name": "currency_code",
            "type": "CEL",
            "mode": "READ",
            "expr": "message.currency.matches('^[A-Z]{3}$')",
        },
    ]
}
RULED: Ruled = {7: (json.dumps(SCHEMA), json.dumps(RULES))}


def framed(record: dict[str, Any], schema_id: int = 7) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(SCHEMA), record)
    return frame(schema_id, buffer.getvalue())


def test_every_mode_is_checked_and_the_broken_rule_is_named_with_its_field() -> None:
    assert first_violation(RULED, framed({"amount": Decimal("2.00"), "currency": "EUR"}), 7) is None
    negative = first_violation(RULED, framed({"amount": Decimal("-2.00"), "currency": "EUR"}), 7)
    assert negative is not None
    assert negative[0] == "amount_positive"
    assert negative[1].startswith("amount: ")
    lower = first_violation(RULED, framed({"amount": Decimal("2.00"), "currency": "eur"}), 7)
    assert lower is not None
    assert lower[0] == "currency_code"


def test_ids_without_rules_and_undecodable_values_are_left_to_the_other_reasons() -> None:
    assert first_violation(RULED, framed({"amount": Decimal("-2.00"), "currency": "x"}, 8), 8) is None
    assert first_violation(RULED, frame(7, b"\x99"), 7) is None
    assert first_violation(RULED, None, 7) is None

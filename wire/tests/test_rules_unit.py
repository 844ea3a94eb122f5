"""The shared event rules, against the shared vectors."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from accord.wire.error_codes import ErrorCode
from accord.wire.rules import (
    DEFAULT_HORIZON,
    DEFAULT_SKEW,
    Rule,
    corrected_event_time,
    decimal_rule,
    event_time_rules,
    identity_rule,
    time_in_range,
    uuid_rule,
)
from accord.wire.vectors import wire_vectors

pytestmark = pytest.mark.unit

VECTORS = wire_vectors()["rules"]


def _verdict(violation: Any) -> str | None:
    return None if violation is None else str(violation.rule)


def test_the_vectors_use_the_default_horizon_and_skew() -> None:
    assert VECTORS["horizon_ms"] == DEFAULT_HORIZON // timedelta(milliseconds=1)
    assert VECTORS["skew_ms"] == DEFAULT_SKEW // timedelta(milliseconds=1)


@pytest.mark.parametrize("case", VECTORS["event_time"], ids=lambda c: f"{c['event_time']}@{c['sent_at']}")
def test_event_time_verdicts(case: dict[str, Any]) -> None:
    violation = event_time_rules(case["event_time"], case["sent_at"], VECTORS["received_at_ms"])
    assert _verdict(violation) == case["verdict"]
    if violation is not None:
        assert violation.field == "envelope.event_time"


@pytest.mark.parametrize("case", VECTORS["sent_at"], ids=lambda c: str(c["sent_at"]))
def test_sent_at_verdicts(case: dict[str, Any]) -> None:
    assert _verdict(time_in_range("sent_at", case["sent_at"])) == case["verdict"]


def test_a_shorter_horizon_and_skew_are_honoured() -> None:
    received = VECTORS["received_at_ms"]
    hour = 3_600_000
    assert event_time_rules(received - 2 * hour, received, received, horizon=timedelta(hours=1)) is not None
    assert event_time_rules(received + 2_000, received, received, skew=timedelta(seconds=1)) is not None
    assert event_time_rules(received - 2 * hour, received, received) is None


@pytest.mark.parametrize(
    ("limit", "limit_ms"),
    [(timedelta(days=3, seconds=7, microseconds=1_500), 259_207_001), (timedelta(microseconds=999), 0)],
)
def test_a_horizon_and_skew_count_in_whole_milliseconds_to_the_millisecond(
    limit: timedelta, limit_ms: int
) -> None:
    received = VECTORS["received_at_ms"]
    assert event_time_rules(received - limit_ms, received, received, horizon=limit) is None
    assert event_time_rules(received - limit_ms - 1, received, received, horizon=limit) is not None
    assert event_time_rules(received + limit_ms, received, received, skew=limit) is None
    assert event_time_rules(received + limit_ms + 1, received, received, skew=limit) is not None


def test_the_correction_moves_the_device_time_onto_the_platform_clock() -> None:
    # the device clock is an hour behind: its event, a second before sending, is a second before reception
    assert corrected_event_time(996_400_000, 996_401_000, 1_000_001_000) == 1_000_000_000


@pytest.mark.parametrize("case", VECTORS["identity"], ids=lambda c: f"{c['user_id']}/{c['anonymous_id']}")
def test_identity_verdicts(case: dict[str, Any]) -> None:
    assert _verdict(identity_rule(case["user_id"], case["anonymous_id"])) == case["verdict"]


@pytest.mark.parametrize("case", VECTORS["uuid"], ids=lambda c: c["value"])
def test_uuid_verdicts(case: dict[str, Any]) -> None:
    assert _verdict(uuid_rule(case["value"])) == case["verdict"]


@pytest.mark.parametrize("case", VECTORS["decimal"], ids=lambda c: c["value"])
def test_decimal_verdicts(case: dict[str, Any]) -> None:
    violation = decimal_rule(Decimal(case["value"]), case["precision"], case["scale"], "purchase.amount")
    assert _verdict(violation) == case["verdict"]
    if violation is not None:
        assert violation.field == "purchase.amount"
        assert len(violation.message) < 200


def test_every_rule_is_a_gateway_error_code() -> None:
    for rule in Rule:
        assert ErrorCode[rule.name].value == rule.value

"""Data-contract conditions as the gateway and Silver run them: Confluent's rule semantics."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from accord.registry_client.contract_rules import (
    ContractChecker,
    InvalidRuleError,
    Side,
    compile_problems,
    condition_rules,
    referenced_fields,
)

pytestmark = pytest.mark.unit

SCHEMA = '{"type":"record","name":"Purchase","fields":[]}'


def rule(name: str, expr: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "CONDITION", "type": "CEL", "mode": "WRITEREAD", "expr": expr, **extra}


POSITIVE = rule("amount_positive", 'decimal(message.amount) > decimal("0")')
CURRENCY = rule("currency_code", "message.currency.matches('^[A-Z]{3}$')")


def checker(*rules: dict[str, Any], side: Side | None = Side.WRITE) -> ContractChecker:
    return ContractChecker(SCHEMA, condition_rules({"domainRules": list(rules)}), side)


def test_a_record_keeping_every_rule_passes_and_the_first_broken_one_is_named_with_its_field() -> None:
    check = checker(POSITIVE, CURRENCY)
    assert check.first_violation({"amount": Decimal("12.50"), "currency": "EUR"}) is None
    broken = check.first_violation({"amount": Decimal("-1.00"), "currency": "eur"})
    assert broken is not None
    assert (broken.rule, broken.field) == ("amount_positive", "amount")
    assert "amount_positive" in broken.message
    currency = check.first_violation({"amount": Decimal("1.00"), "currency": "eur"})
    assert currency is not None
    assert (currency.rule, currency.field) == ("currency_code", "currency")


def test_a_rule_that_cannot_be_evaluated_on_the_record_counts_as_broken() -> None:
    broken = checker(POSITIVE).first_violation({"currency": "EUR"})
    assert broken is not None
    assert broken.rule == "amount_positive"
    assert "could not be evaluated" in broken.message


def test_modes_choose_the_side_that_checks_a_rule() -> None:
    write_only = rule("w", "message.n > 0", mode="WRITE")
    read_only = rule("r", "message.n > 0", mode="READ")
    assert [r.name for r in checker(write_only, read_only, side=Side.WRITE).rules] == ["w"]
    assert [r.name for r in checker(write_only, read_only, side=Side.READ).rules] == ["r"]
    assert [r.name for r in checker(write_only, read_only, side=None).rules] == ["w", "r"]


def test_on_failure_none_and_disabled_rules_let_the_record_through() -> None:
    lenient = rule("lenient", "message.n > 0", onFailure="NONE")
    disabled = rule("off", "message.n > 0", disabled=True)
    assert checker(lenient, disabled).first_violation({"n": -1}) is None
    # WRITEREAD with two actions: the first for writes, the second for reads
    split = rule("split", "message.n > 0", onFailure="ERROR,NONE")
    assert checker(split, side=Side.WRITE).first_violation({"n": -1}) is not None
    assert checker(split, side=Side.READ).first_violation({"n": -1}) is None


def test_a_guard_before_the_semicolon_skips_the_condition_as_confluent_does() -> None:
    guarded = rule("coupon_known", "message.coupon != null; message.coupon.startsWith('C-')")
    check = checker(guarded)
    assert check.first_violation({"coupon": None}) is None
    assert check.first_violation({"coupon": "C-10"}) is None
    assert check.first_violation({"coupon": "X"}) is not None


def test_timestamps_are_compared_as_cel_timestamps() -> None:
    recent = rule("recent", "message.at > timestamp('2020-01-01T00:00:00Z')")
    check = checker(recent)
    assert check.first_violation({"at": datetime(2024, 5, 1, tzinfo=UTC)}) is None
    assert check.first_violation({"at": datetime(2019, 5, 1, tzinfo=UTC)}) is not None


def test_the_fields_a_rule_reads_are_the_message_paths_of_its_expression() -> None:
    expr = "has(message.coupon) && message.envelope.context.locale != '' && size(message.items) > 0"
    assert referenced_fields(expr) == ("coupon", "envelope.context.locale", "items")
    assert referenced_fields("size(message) > 0") == ()


def test_rules_of_other_types_are_left_to_the_clients_that_run_them() -> None:
    rule_set = {
        "domainRules": [
            POSITIVE,
            {"name": "encrypt_pii", "kind": "TRANSFORM", "type": "ENCRYPT", "tags": ["PII"]},
            {"name": "jsonata", "kind": "TRANSFORM", "type": "JSONATA", "expr": "$"},
        ],
        "migrationRules": [{"name": "up", "kind": "TRANSFORM", "type": "JSONATA", "mode": "UPGRADE"}],
    }
    assert [r.name for r in condition_rules(rule_set)] == ["amount_positive"]
    assert condition_rules(None) == ()


@pytest.mark.parametrize(
    ("rule_set", "problem"),
    [
        ({"domainRules": [rule("bad", "message.amount >")]}, "rule 'bad' does not compile"),
        ({"domainRules": [rule("", "true")]}, "needs a 'name'"),
        ({"domainRules": [rule("x", "true"), rule("x", "false")]}, "two rules are named 'x'"),
        ({"domainRules": [rule("m", "true", mode="UPGRADE")]}, "mode is WRITE, READ or WRITEREAD"),
        ({"domainRules": "nope"}, "must be an array"),
    ],
)
def test_malformed_or_uncompilable_rules_are_reported(rule_set: dict[str, Any], problem: str) -> None:
    [found] = compile_problems(rule_set)
    assert problem in found
    with pytest.raises(InvalidRuleError):
        condition_rules(rule_set)

"""Data-contract rules: the CEL conditions of a schema's `ruleSet.domainRules`, checked on records.

A rule is Confluent's shape (`name`, `kind: CONDITION`, `type: CEL`, `mode`, `expr`,
`onFailure`, `disabled`). Rules are compiled and run by confluent-kafka's own CEL executor
(`confluent_kafka.schema_registry.rules.cel`, on cel-python), with the record as
`message`, so a rule means the same at the gateway, in Silver and in a Confluent serializer
with rule execution on. The record is the one fastavro reads with logical types (decimals as
`Decimal`, timestamps as `datetime`), as the Confluent deserializer hands it to its rules.

Only what a condition needs is taken from the rule set; transforms, migration and encoding
rules are left to the clients that run them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

RULE_TYPE = "CEL"
CONDITION = "CONDITION"
FAILING_ACTIONS = frozenset({"ERROR", "DLQ"})
"""`onFailure` actions that refuse the record; `NONE` lets it through."""


class Side(StrEnum):
    """Where a record is checked: written (gateway, serializer) or read (Silver, deserializer)."""

    WRITE = "WRITE"
    READ = "READ"


class InvalidRuleError(ValueError):
    """A rule set, or one of its rules, is malformed or does not compile."""


@dataclass(frozen=True)
class ContractRule:
    """One CEL condition of a rule set, and the message fields its expression reads."""

    name: str
    expr: str
    mode: str
    on_failure: str | None
    disabled: bool
    fields: tuple[str, ...]

    def action(self, side: Side) -> str:
        """What a failure does on `side`: the first `onFailure` action for writes, the last for reads."""
        actions = [a.strip().upper() for a in (self.on_failure or "ERROR").split(",")]
        return actions[0] if side is Side.WRITE else actions[-1]

    def runs_on(self, side: Side | None) -> bool:
        """True when the rule is checked on `side` (None: on every side, as Silver checks)."""
        if self.disabled:
            return False
        if side is None:
            return self.mode in ("WRITE", "READ", "WRITEREAD")
        return self.mode in (side.value, "WRITEREAD")


@dataclass(frozen=True)
class RuleViolation:
    """A record broke `rule`; `field` is the first message field the rule reads (None: the whole record)."""

    rule: str
    field: str | None
    message: str


@cache
def _shared_executor() -> Any:
    # confluent-kafka's CEL module takes a second to import: only components that check rules pay
    from confluent_kafka.schema_registry.rules.cel.cel_executor import CelExecutor

    return CelExecutor()  # type: ignore[no-untyped-call]


def referenced_fields(expr: str) -> tuple[str, ...]:
    """The `message.<path>` paths an expression reads, in order of appearance, without repeats."""
    from celpy.celparser import CELParseError, CELParser
    from lark import Token, Tree

    try:
        tree = CELParser().parse(expr)
    except CELParseError as exc:
        raise InvalidRuleError(f"does not compile: {exc.args[0] if exc.args else exc}") from exc

    def path(node: Tree[Any]) -> list[str] | None:
        if node.data == "member_dot":
            inner, name = node.children
            below = path(inner) if isinstance(inner, Tree) else None
            return [*below, str(name)] if below is not None and isinstance(name, Token) else None
        if node.data in ("member", "primary") and len(node.children) == 1:
            child = node.children[0]
            if isinstance(child, Tree):
                return path(child)
            return [] if isinstance(child, Token) and child.type == "IDENT" and child == "message" else None
        if node.data == "ident" and node.children and node.children[0] == "message":
            return []
        return None

    found: list[str] = []

    def visit(node: Tree[Any]) -> None:
        if node.data == "member_dot":
            dotted = path(node)
            if dotted:
                name = ".".join(dotted)
                if name not in found:
                    found.append(name)
                return
        for child in node.children:
            if isinstance(child, Tree):
                visit(child)

    visit(tree)
    return tuple(found)


def _rule(raw: object, index: int) -> ContractRule | None:
    """The CEL condition `raw` describes; None for a rule of another kind or type."""
    if not isinstance(raw, Mapping):
        raise InvalidRuleError(f"domainRules[{index}] must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidRuleError(f"domainRules[{index}] needs a 'name'")
    if str(raw.get("type", "")).upper() != RULE_TYPE or str(raw.get("kind", CONDITION)).upper() != CONDITION:
        return None
    expr = raw.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        raise InvalidRuleError(f"rule {name!r} needs an 'expr'")
    mode = str(raw.get("mode", "WRITEREAD")).upper()
    if mode not in ("WRITE", "READ", "WRITEREAD"):
        raise InvalidRuleError(f"rule {name!r}: a condition's mode is WRITE, READ or WRITEREAD, not {mode!r}")
    on_failure = raw.get("onFailure")
    if on_failure is not None and not isinstance(on_failure, str):
        raise InvalidRuleError(f"rule {name!r}: 'onFailure' must be a string")
    try:
        fields = referenced_fields(expr.split(";", 1)[-1])
    except InvalidRuleError as exc:
        raise InvalidRuleError(f"rule {name!r} {exc}") from exc
    return ContractRule(name, expr, mode, on_failure, raw.get("disabled") is True, fields)


def condition_rules(rule_set: object) -> tuple[ContractRule, ...]:
    """The CEL conditions of a `ruleSet` (None or a set without domain rules: none).

    Raises `InvalidRuleError` when the rule set is malformed or an expression does not parse.
    """
    if rule_set is None:
        return ()
    if not isinstance(rule_set, Mapping):
        raise InvalidRuleError("a ruleSet must be an object")
    domain = rule_set.get("domainRules") or []
    if not isinstance(domain, Sequence) or isinstance(domain, str):
        raise InvalidRuleError("ruleSet.domainRules must be an array")
    names = [raw.get("name") for raw in domain if isinstance(raw, Mapping)]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise InvalidRuleError(f"two rules are named {duplicate!r}")
    rules = [_rule(raw, index) for index, raw in enumerate(domain)]
    return tuple(rule for rule in rules if rule is not None)


def compile_problems(rule_set: object) -> list[str]:
    """One sentence per rule that is malformed or does not compile with the CEL executor (empty: fine)."""
    try:
        rules = condition_rules(rule_set)
    except InvalidRuleError as exc:
        return [str(exc)]
    import celpy
    from celpy.celparser import CELParseError

    problems = []
    environment = celpy.Environment()
    for rule in rules:
        for part in rule.expr.split(";", 1):
            if not part.strip():
                continue
            try:
                environment.compile(part)
            except CELParseError as exc:
                problems.append(f"rule {rule.name!r} does not compile: {exc.args[0] if exc.args else exc}")
    return problems


class ContractChecker:
    """The conditions of one schema, checked on its records (thread-safe; compiled once)."""

    def __init__(self, schema: str, rules: Sequence[ContractRule], side: Side | None) -> None:
        from confluent_kafka.schema_registry import Rule, RuleMode, Schema
        from confluent_kafka.schema_registry.serde import RuleContext

        self.side = side
        self.rules = tuple(rule for rule in rules if rule.runs_on(side))
        mode = RuleMode.READ if side is Side.READ else RuleMode.WRITE
        target = Schema(schema, "AVRO")
        self._contexts = [
            (
                rule,
                RuleContext(
                    None,
                    None,  # type: ignore[arg-type] # the CEL executor reads no serialization context
                    None,
                    target,
                    "",
                    mode,
                    Rule.from_dict(
                        {
                            "name": rule.name,
                            "kind": CONDITION,
                            "mode": rule.mode,
                            "type": RULE_TYPE,
                            "expr": rule.expr,
                        }
                    ),
                    index,
                    [],
                    None,
                    None,
                ),
            )
            for index, rule in enumerate(self.rules)
        ]
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def first_violation(self, record: Any) -> RuleViolation | None:
        """The first rule `record` breaks whose failure refuses it, None when it keeps them all.

        A rule that cannot be evaluated on the record (a field it reads is absent, a type it
        cannot compare) counts as broken, as in Confluent's serializers.
        """
        executor = _shared_executor()
        for rule, context in self._contexts:
            side = self.side or Side.READ
            if rule.action(side) not in FAILING_ACTIONS:
                continue
            try:
                with self._lock:  # celpy's programs keep evaluation state
                    kept = executor.transform(context, record)
            except Exception as exc:  # any evaluation error fails the condition (Confluent does so)
                return _violation(rule, f"rule {rule.name!r} could not be evaluated: {exc}")
            if not kept:
                return _violation(rule, f"the event breaks rule {rule.name!r}: {rule.expr}")
        return None


def _violation(rule: ContractRule, message: str) -> RuleViolation:
    field = rule.fields[0] if rule.fields else None
    if field is not None:
        message = f"{field}: {message}"
    return RuleViolation(rule.name, field, message)

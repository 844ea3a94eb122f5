"""Validation rules every decoded event must pass before it becomes a Silver row.

Each rule is a column that is true when the event breaks it; the first broken rule names the
Quarantine reason `rule_violation:<rule>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from accord.wire.rules import UUID_PATTERN

if TYPE_CHECKING:
    from pyspark.sql import Column


@dataclass(frozen=True)
class Rule:
    """One rule: its name, when it is broken, and a sentence saying what was wrong.

    `reason` replaces `rule_violation:<name>` when the reason is known per row only (the
    data-contract rules of `accord.streaming.contract_rules` name the broken rule per event).
    """

    name: str
    broken: Column
    detail: Column
    reason: Column | None = None


def interval(delta: timedelta) -> Column:
    """A Spark interval literal of `delta`, to the millisecond."""
    from pyspark.sql import functions as sf

    return sf.expr(f"INTERVAL '{delta.total_seconds():.3f}' SECOND")


def _blank(name: str) -> Column:
    from pyspark.sql import functions as sf

    return sf.coalesce(sf.length(sf.trim(sf.col(name))), sf.lit(0)) == 0


def event_rules(horizon: timedelta, skew: timedelta) -> list[Rule]:
    """The rules, over `event_id`, `user_id`, `anonymous_id`, `event_time_corrected` and `reference_time`.

    `reference_time` is when the platform received the event; `event_time_corrected` is null when
    it could not be computed (see `accord.streaming.decode.corrected_time`).
    """
    from pyspark.sql import functions as sf

    corrected, reference = sf.col("event_time_corrected"), sf.col("reference_time")
    return [
        Rule(
            "invalid_event_id",
            ~sf.coalesce(sf.col("event_id").rlike(UUID_PATTERN), sf.lit(False)),
            sf.concat(sf.lit("event_id is not a UUID: "), sf.coalesce(sf.col("event_id"), sf.lit("null"))),
        ),
        Rule(
            "missing_identity",
            _blank("user_id") & _blank("anonymous_id"),
            sf.lit("neither user_id nor anonymous_id is set"),
        ),
        Rule(
            "event_time_out_of_range",
            corrected.isNull(),
            sf.format_string(
                "event time %s, sent at %s, received at %s: the corrected time is outside years 1-9999",
                sf.col("event_time"),
                sf.col("sent_at"),
                sf.col("received_at"),
            ),
        ),
        Rule(
            "event_time_too_old",
            corrected < reference - interval(horizon),
            sf.format_string(
                "event time %s is more than %s before it was received", corrected, sf.lit(str(horizon))
            ),
        ),
        Rule(
            "event_time_in_future",
            corrected > reference + interval(skew),
            sf.format_string(
                "event time %s is more than %s after it was received", corrected, sf.lit(str(skew))
            ),
        ),
    ]


def first_broken(rules: list[Rule]) -> tuple[Column, Column]:
    """The reason code and detail of the first rule an event breaks (both null when none is)."""
    from pyspark.sql import functions as sf

    reason = sf.coalesce(
        *[
            sf.when(
                rule.broken, sf.lit(f"rule_violation:{rule.name}") if rule.reason is None else rule.reason
            )
            for rule in rules
        ]
    )
    detail = sf.coalesce(*[sf.when(rule.broken, rule.detail) for rule in rules])
    return reason, detail

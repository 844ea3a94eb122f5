"""Data-contract rules in Silver: the CEL conditions of each writer schema's `ruleSet`.

The gateway refuses events that break their schema's rules; this check catches the ones that
reached Kafka another way (a producer writing straight to the topic). Each record is read
from its Avro bytes with fastavro and judged by `accord.registry_client.contract_rules`, the
code the gateway runs (confluent-kafka's CEL executor), in a Python UDF; CEL is not mapped to
Spark SQL, whose comparisons, regular expressions and decimals differ from CEL's. Silver
checks every condition, whatever its mode: it is where data lands, so it stands in for the
write check the event skipped. Only schema ids with rules pay for the UDF.

A broken rule quarantines the event as `rule_violation:<rule name>`, after the built-in rules.
"""

from __future__ import annotations

import functools
import json
import logging
from io import BytesIO
from typing import TYPE_CHECKING, Any

from accord.registry_client.contract_rules import ContractChecker, InvalidRuleError, condition_rules
from accord.streaming.batch_schemas import BatchSchemas
from accord.streaming.rules import Rule
from accord.wire.framing import FRAME_HEADER_BYTES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger(__name__)

CONTRACT_COLUMN = "_contract_violation"
"""The per-event verdict (`rule`, `detail`, both null when the event keeps its rules); dropped after."""

Ruled = dict[int, tuple[str, str]]
"""Schema id → (writer schema JSON, rule set JSON), for the ids whose schema has rules."""

_checkers: dict[tuple[int, str], tuple[Any, ContractChecker]] = {}
"""Per Python worker: the parsed writer and compiled rules of each (schema id, rule set)."""


def _ruled(schemas: BatchSchemas) -> Ruled:
    ruled: Ruled = {}
    for writers in schemas.by_subject.values():
        for writer in writers:
            if writer.rule_set_json is None:
                continue
            try:
                condition_rules(json.loads(writer.rule_set_json))
            except InvalidRuleError as exc:
                # as at the gateway: lint keeps such rules out, and refusing every event is an outage
                facts = {"schema_id": writer.schema_id, "error": str(exc)}
                log.error("data-contract rules not enforced", extra=facts)
                continue
            ruled[writer.schema_id] = (writer.writer_json, writer.rule_set_json)
    return ruled


def first_violation(ruled: Ruled, value: bytes | None, schema_id: int | None) -> tuple[str, str] | None:
    """(rule, detail) of the first rule the framed `value` breaks; None when it keeps them all.

    A value that does not decode is left to the `undecodable` reason.
    """
    if value is None or schema_id is None or schema_id not in ruled:
        return None
    writer_json, rules_json = ruled[schema_id]
    entry = _checkers.get((schema_id, rules_json))
    if entry is None:
        import fastavro

        rules = condition_rules(json.loads(rules_json))
        entry = (fastavro.parse_schema(json.loads(writer_json)), ContractChecker(writer_json, rules, None))
        _checkers[(schema_id, rules_json)] = entry
    parsed, checker = entry
    import fastavro

    body = BytesIO(value)
    body.seek(FRAME_HEADER_BYTES)
    try:
        record = fastavro.schemaless_reader(body, parsed, None)
    except Exception:  # any decoding failure is the `undecodable` reason's
        return None
    violation = checker.first_violation(record)
    return None if violation is None else (violation.rule, violation.message)


def contract_rules(events: DataFrame, schemas: BatchSchemas) -> tuple[DataFrame, list[Rule]]:
    """`events` with the contract verdict column, and the rule naming the broken one.

    Unchanged and no rule when no schema of the batch has rules.
    """
    from pyspark.sql import functions as sf
    from pyspark.sql.types import StringType, StructField, StructType

    ruled = _ruled(schemas)
    if not ruled:
        return events, []
    verdict_type = StructType([StructField("rule", StringType()), StructField("detail", StringType())])
    # row by row, pickled: Arrow batches would need pandas, which the stream does not install
    check = sf.udf(functools.partial(first_violation, ruled), verdict_type, useArrow=False)
    checked = events.withColumn(CONTRACT_COLUMN, check(sf.col("value"), sf.col("schema_id")))
    verdict = sf.col(CONTRACT_COLUMN)
    rule = Rule(
        "contract",
        verdict.isNotNull(),
        verdict.getField("detail"),
        reason=sf.concat(sf.lit("rule_violation:"), verdict.getField("rule")),
    )
    return checked, [rule]

"""The experiments file checked against the contracts, as a hook of `accord schemas lint`.

The schemas component does not import Gold (Gold reads the contracts, not the other way round):
`accord schemas lint` calls every function of the `accord.lint` entry-point group with the
loaded catalog, and this one is Gold's. It reports, in lint's `file:place: rule: message` form:

| rule | what it asks |
| --- | --- |
| metric-event | a metric's event is the event type of a contract |
| metric-field | a summed field, and every filtered field, is a field of that event |
| metric-numeric | a summed field is a number (int, long, float, double or decimal) |
| dimension-field | a dimension is a field of the events' context (`accord.common.Context`) |
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from accord.gold.errors import ExperimentConfigError
from accord.gold.experiments_config import (
    Aggregate,
    ExperimentConfig,
    default_experiments_file,
    load_experiments,
)
from accord.gold.settings import GoldSettings
from accord.schemas.catalog import Catalog, display_path
from accord.schemas.findings import Finding
from accord.wire.naming import event_type_of

CONTEXT_TYPE = "accord.common.Context"
_NUMBERS = frozenset({"int", "long", "float", "double"})


def _is_number(avro_type: Any) -> bool:
    if isinstance(avro_type, list):
        branches = [branch for branch in avro_type if branch != "null"]
        return len(branches) == 1 and _is_number(branches[0])
    if isinstance(avro_type, dict):
        return avro_type.get("logicalType") == "decimal" or avro_type.get("type") in _NUMBERS
    return avro_type in _NUMBERS


def _event_fields(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """Event type -> its fields' Avro types (the envelope left out: Silver flattens it)."""
    return {
        event_type_of(file.name): {
            f["name"]: f["type"] for f in file.schema["fields"] if f["name"] != "envelope"
        }
        for file in catalog.events
    }


def _aggregate_findings(
    path: str, place: str, aggregate: Aggregate, events: dict[str, dict[str, Any]]
) -> Iterator[Finding]:
    fields = events.get(aggregate.event)
    if fields is None:
        yield Finding(
            path, f"{place}.event", "metric-event", f"no contract has the event type {aggregate.event!r}"
        )
        return
    named = [aggregate.field] if aggregate.field else []
    for field in [*named, *aggregate.filters]:
        if field not in fields:
            yield Finding(path, place, "metric-field", f"event {aggregate.event!r} has no field {field!r}")
    if aggregate.field in fields and not _is_number(fields[aggregate.field]):
        yield Finding(
            path, f"{place}.field", "metric-numeric", f"{aggregate.event}.{aggregate.field} is not a number"
        )


def experiment_findings(path: str, experiments: list[ExperimentConfig], catalog: Catalog) -> list[Finding]:
    """Every metric and dimension of `experiments` that names what no contract has."""
    events = _event_fields(catalog)
    context = catalog.get(CONTEXT_TYPE)
    context_fields = {f["name"] for f in context.schema["fields"]} if context else set()
    findings: list[Finding] = []
    for i, experiment in enumerate(experiments):
        where = f"experiment [{i}] {experiment.experiment_id}"
        for metric in experiment.metrics:
            parts = [("", metric.aggregates()[0])] if metric.kind != "ratio" else []
            if metric.numerator and metric.denominator:
                parts = [(".numerator", metric.numerator), (".denominator", metric.denominator)]
            for suffix, aggregate in parts:
                findings += _aggregate_findings(
                    path, f"{where} metric {metric.name}{suffix}", aggregate, events
                )
        findings += [
            Finding(path, f"{where} dimensions", "dimension-field", f"the context has no field {dimension!r}")
            for dimension in experiment.dimensions
            if dimension not in context_fields
        ]
    return findings


def lint_experiments(catalog: Catalog) -> list[Finding]:
    """The `accord.lint` hook: the experiments file of `GoldSettings` against `catalog`.

    An experiments file that cannot be read or validated is one finding, not an exception.
    """
    configured = GoldSettings().experiments_file
    try:
        experiments = load_experiments(configured)
    except ExperimentConfigError as exc:
        return [Finding(_shown(configured), "file", "experiments-file", str(exc))]
    return experiment_findings(_shown(configured), experiments, catalog)


def _shown(path: Path | None) -> str:
    return display_path(path or default_experiments_file())

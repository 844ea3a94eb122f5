"""`accord schemas lint` checks the experiments file's metrics and dimensions against the contracts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.gold.experiments_config import load_experiments
from accord.gold.lint import experiment_findings
from accord.schemas.catalog import load_catalog
from accord.schemas.cli import schemas
from accord.schemas.settings import SchemasSettings

pytestmark = pytest.mark.unit

BAD = [
    {
        "experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 1},
        "dimensions": ["platform", "country"],
        "metrics": [
            {"name": "orders", "kind": "count", "event": "purchase", "filters": {"currency": "EUR"}},
            {"name": "m1", "kind": "sum", "event": "purchase", "field": "currency"},
            {"name": "m2", "kind": "count", "event": "checkout", "role": "guardrail"},
            {
                "name": "m3", "kind": "ratio",
                "numerator": {
                    "kind": "sum", "event": "purchase", "field": "amount", "filters": {"coupn": "X"},
                },
                "denominator": {"kind": "count", "event": "purchase"},
            },
        ],
    }
]  # fmt: skip


def test_each_unknown_event_field_or_dimension_is_one_finding(tmp_path: Path) -> None:
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps(BAD))
    catalog = load_catalog(SchemasSettings().schemas_dir)
    findings = experiment_findings("experiments.json", load_experiments(path), catalog)
    assert [(f.place, f.rule) for f in findings] == [
        ("experiment [0] x metric m1.field", "metric-numeric"),
        ("experiment [0] x metric m2.event", "metric-event"),
        ("experiment [0] x metric m3.numerator", "metric-field"),
        ("experiment [0] x dimensions", "dimension-field"),
    ]
    assert "'coupn'" in findings[2].message


def test_the_shipped_experiments_pass_against_the_shipped_contracts() -> None:
    catalog = load_catalog(SchemasSettings().schemas_dir)
    assert experiment_findings("experiments.json", load_experiments(), catalog) == []


def test_schemas_lint_fails_on_a_metric_no_contract_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps(BAD))
    monkeypatch.setenv("ACCORD_EXPERIMENTS_FILE", str(path))
    result = CliRunner().invoke(schemas, ["lint"])
    assert result.exit_code == 1
    assert "metric-event: no contract has the event type 'checkout'" in result.stdout

    monkeypatch.delenv("ACCORD_EXPERIMENTS_FILE")
    assert CliRunner().invoke(schemas, ["lint"]).exit_code == 0

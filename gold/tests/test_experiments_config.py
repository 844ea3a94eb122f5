"""The experiments file: the shipped default loads, and a bad file says exactly what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.gold.errors import ExperimentConfigError
from accord.gold.experiments_config import ExperimentConfig, load_experiments

pytestmark = pytest.mark.unit


def test_the_shipped_file_holds_the_demo_experiment() -> None:
    (checkout,) = load_experiments()
    assert checkout.experiment_id == "new_checkout"
    assert checkout.control == "control"
    assert checkout.window_hours == 72
    assert checkout.conversion_event == "purchase"
    roles = {metric.name: metric.role for metric in checkout.analysed_metrics()}
    assert len(roles) >= 3
    assert roles["conversion_rate"] == "goal"
    assert "guardrail" in roles.values()
    assert checkout.dimensions == ("platform",)


def _metric_entry(**metric: object) -> dict[str, object]:
    return {"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 1}, "metrics": [metric]}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (_metric_entry(name="m", kind="sum", event="purchase"), "metrics.0: a `sum` names the `field`"),
        (_metric_entry(name="m", kind="count", event="purchase", field="amount"), "only a `sum` has one"),
        (_metric_entry(name="m", kind="binomial"), "metrics.0: a `binomial` metric names its `event`"),
        (_metric_entry(name="m", kind="ratio", event="purchase"), "a `ratio` has a `numerator`"),
        (_metric_entry(name="m", kind="median", event="purchase"), "metrics.0.kind: "),
        (_metric_entry(name="m", kind="count", event="purchase", role="kpi"), "metrics.0.role: "),
        (_metric_entry(name="Revenue", kind="count", event="purchase"), "metrics.0.name: "),
        (
            _metric_entry(
                name="m", kind="ratio", numerator={"kind": "sum", "event": "purchase"},
                denominator={"kind": "count", "event": "purchase"},
            ),
            "metrics.0.numerator: a `sum` names the `field`",
        ),
        (
            {"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 1}, "engine": "bayesian",
             "sequential": True},
            "sequential testing is a frequentist engine",
        ),
        (
            {"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 1}, "correction": "bonferroni"},
            "correction: ",
        ),
    ],
)  # fmt: skip
def test_an_invalid_metric_or_analysis_is_refused_with_the_reason(
    tmp_path: Path, entry: dict[str, object], message: str
) -> None:
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps([entry]))
    with pytest.raises(ExperimentConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_experiments(path)


def test_without_metrics_an_experiment_is_judged_on_its_conversion_and_revenue() -> None:
    experiment = ExperimentConfig(
        experiment_id="x", control="a", variants={"a": 1, "b": 1}, conversion_event="trial_started"
    )
    conversion, revenue = experiment.analysed_metrics()
    assert (conversion.name, conversion.kind, conversion.event, conversion.role) == (
        "conversion_rate", "binomial", "trial_started", "goal",
    )  # fmt: skip
    assert (revenue.kind, revenue.event, revenue.field) == ("sum", "trial_started", "value")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"experiment_id": "x", "control": "a", "variants": {"b": 1, "c": 1}},
            "experiment [0] control: 'a' is not one of the variants b, c",
        ),
        ({"experiment_id": "x", "control": "a", "variants": {"a": 1}}, "experiment [0] variants: "),
        (
            {"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 0}},
            "variants.b: .*greater than 0",
        ),
        ({"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": True}}, "variants.b: "),
        (
            {"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 1}, "window_hours": 0},
            "window_hours: .*greater than 0",
        ),
        (
            {"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 1}, "window_hours": "72"},
            "window_hours: ",
        ),
        ({"control": "a", "variants": {"a": 1, "b": 1}}, "experiment [0] experiment_id: Field required"),
        (
            {"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 1}, "conversion_event": ""},
            "conversion_event: ",
        ),
        (
            {"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 1}, "window_hour": 24},
            "window_hour: Extra inputs are not permitted",
        ),
    ],
)
def test_an_invalid_experiment_is_refused_with_the_reason(
    tmp_path: Path, entry: dict[str, object], message: str
) -> None:
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps([entry]))
    with pytest.raises(ExperimentConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_experiments(path)


def test_left_out_fields_take_their_defaults_and_variants_keep_the_file_order(tmp_path: Path) -> None:
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps([{"experiment_id": "x", "control": "b", "variants": {"b": 1, "a": 3}}]))
    (experiment,) = load_experiments(path)
    assert (experiment.conversion_event, experiment.window_hours) == ("purchase", 72.0)
    assert list(experiment.variants) == ["b", "a"]


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "experiments.json"
    path.write_text("[{")
    with pytest.raises(ExperimentConfigError, match="Invalid JSON"):
        load_experiments(path)


def test_an_experiment_id_may_appear_once(tmp_path: Path) -> None:
    entry = {"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 1}}
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps([entry, entry]))
    with pytest.raises(ExperimentConfigError, match=r"more than once .*\['x'\]"):
        load_experiments(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ExperimentConfigError, match=r"cannot read experiments file .*nope\.json"):
        load_experiments(tmp_path / "nope.json")


def test_an_experiment_written_from_the_model_loads_back_equal(tmp_path: Path) -> None:
    experiment = ExperimentConfig(
        experiment_id="x",
        control="a",
        variants={"a": 0.3, "b": 0.7},
        conversion_event="signup",
        window_hours=24,
    )
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps([experiment.model_dump()]))
    assert load_experiments(path) == [experiment]

"""The experiments file: the shipped default loads, and a bad file says exactly what is wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.streaming.demo.truth import load_truth, true_relative_lifts
from accord.streaming.gold.errors import ExperimentConfigError, GoldError
from accord.streaming.gold.experiments_config import load_experiments

pytestmark = pytest.mark.unit


def test_the_shipped_file_holds_the_demo_experiment() -> None:
    (checkout,) = load_experiments()
    assert checkout.experiment_id == "new_checkout"
    assert checkout.control == "control"
    assert checkout.window_hours == 72
    assert checkout.conversion_event == "purchase"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"experiment_id": "x", "control": "a", "variants": {"b": 1, "c": 1}}, "control 'a' is not one of"),
        ({"experiment_id": "x", "control": "a", "variants": {"a": 1}}, "at least two variants"),
        ({"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 0}}, "weights must be positive"),
        (
            {"experiment_id": "x", "control": "a", "variants": {"a": 1, "b": 1}, "window_hours": 0},
            "window_hours",
        ),
    ],
)
def test_an_invalid_experiment_is_refused_with_the_reason(
    tmp_path: Path, entry: dict[str, object], message: str
) -> None:
    path = tmp_path / "experiments.json"
    path.write_text(json.dumps([entry]))
    with pytest.raises(ExperimentConfigError, match=message):
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


def test_the_truth_file_gives_the_true_lift_of_every_treatment(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    experiment = {"experiment_id": "x", "control": "a", "variants": {"a": 0.5, "b": 0.5}, "true_lift": 0.2}
    path.write_text(json.dumps({"sent": {"unique_valid": 3}, "experiments": [experiment]}))
    assert true_relative_lifts(load_truth(path)) == {("x", "b"): 0.2}


def test_a_file_that_is_not_a_truth_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    path.write_text(json.dumps({"seed": 1}))
    with pytest.raises(GoldError, match="cannot read the simulator's truth file"):
        load_truth(path)

"""The truth file: one model, written by the simulator and read back by the demo, refused when foreign."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from accord.demo.errors import TruthFileError
from accord.demo.simulator.traffic import ConversionFact, ExposureFact
from accord.demo.simulator.truth import Tally, load_truth, write_truth
from accord.gold.experiments_config import ExperimentConfig

pytestmark = pytest.mark.unit

CHECKOUT = ExperimentConfig(
    experiment_id="new_checkout", control="control", variants={"control": 0.5, "treatment": 0.5}
)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _write(path: Path) -> None:
    tally = Tally(
        valid_ids={"e-a": "experiment_exposure", "e-b": "experiment_exposure", "p-a": "purchase"},
        late_ids=["p-a"],
        malformed_ids=["m-1"],
        duplicates=2,
        exposures=[
            ExposureFact("new_checkout", "control", "a", T0, "e-a"),
            ExposureFact("new_checkout", "treatment", "b", T0, "e-b"),
        ],
        conversions=[ConversionFact("a", "purchase", None, T0 + timedelta(hours=1), "p-a")],
    )
    write_truth(
        path,
        seed=3,
        users=2,
        gateway_url="http://gateway",
        experiments=[CHECKOUT],
        baseline_rate=0.1,
        true_lift=0.2,
        tally=tally,
        rejected={"m-1": "undecodable_avro"},
    )


def test_what_the_simulator_writes_reads_back_as_the_same_truth(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    _write(path)
    truth = load_truth(path)
    assert (truth.sent.unique_valid, truth.sent.malformed, truth.sent.late, truth.sent.duplicates) == (
        3,
        1,
        1,
        2,
    )
    assert truth.by_type["purchase"] == 1
    (experiment,) = truth.experiments
    assert experiment.exposed == {"control": 1, "treatment": 1}
    assert experiment.converted == {"control": 1, "treatment": 0}
    assert experiment.window_hours == CHECKOUT.window_hours
    assert truth.late_event_ids_file.read_text() == "p-a\n"
    assert truth.true_relative_lifts() == {("new_checkout", "treatment"): 0.2}


def test_a_file_that_is_not_a_truth_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    _write(path)
    document = json.loads(path.read_text())
    del document["sent"]["unique_valid"]
    path.write_text(json.dumps(document))
    with pytest.raises(TruthFileError, match=r"cannot read the simulator's truth file .*sent\.unique_valid"):
        load_truth(path)


def test_a_missing_truth_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TruthFileError, match=r"cannot read the simulator's truth file .*nope\.json"):
        load_truth(tmp_path / "nope.json")

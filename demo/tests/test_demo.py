"""`accord demo` end to end at a small size: real servers, real traffic, counts against the truth."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from accord.demo.simulator import load_truth
from accord.gold.tables import experiment_results_path
from accord.runtime.ports import free_port
from accord.streaming.delta_io import read_table
from accord.streaming.inspect.ledger import compute_ledger
from accord.streaming.inspect.tables import LakeReader
from accord.streaming.lake import Lake

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# `accord demo` runs the whole stack and waits for Silver to catch up (its own limit is 840 s)
pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.timeout(900)]


def _demo_environment(state_dir: Path, cache_dir: Path) -> dict[str, str]:
    """Every server on a free port, state in a temporary folder: apart from any running stack."""
    kafka, registry, gateway = free_port(), free_port(), free_port()
    return {
        **os.environ,
        "ACCORD_STATE_DIR": str(state_dir),
        "ACCORD_CACHE_DIR": str(cache_dir),
        "ACCORD_KAFKA_PORT": str(kafka),
        "ACCORD_KAFKA_CONTROLLER_PORT": str(free_port()),
        "ACCORD_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka}",
        "ACCORD_REGISTRY_PORT": str(registry),
        "ACCORD_REGISTRY_URL": f"http://127.0.0.1:{registry}",
        "ACCORD_GATEWAY_PORT": str(gateway),
        "ACCORD_GATEWAY_URL": f"http://127.0.0.1:{gateway}",
        "ACCORD_STREAM_METRICS_PORT": str(free_port()),
    }


def test_the_demo_reconciles_with_its_truth_file_and_finds_the_true_lift(
    tmp_path: Path, pytestconfig: pytest.Config, spark: SparkSession
) -> None:
    accord = Path(sys.executable).with_name("accord")
    env = _demo_environment(tmp_path / "state", Path(pytestconfig.rootpath) / ".cache")
    result = subprocess.run(
        [str(accord), "demo", "--users", "300", "--catch-up-timeout", "600"],
        env=env,
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-3000:]
    assert "the ledger reconciles and matches the truth file" in result.stdout

    workspace = tmp_path / "state" / "demo"
    truth = load_truth(workspace / "truth.json")
    lake = Lake(root=str(workspace / "lake"), checkpoints=str(workspace / "lake" / "_checkpoints"))

    # the servers are stopped: recount the lake independently of the demo's own check
    total = compute_ledger(LakeReader(lake)).total
    assert total.silver == truth.sent.unique_valid
    assert total.bronze == total.silver + total.quarantine + total.duplicates_removed
    assert total.unexplained == 0

    experiment = truth.experiments[0]
    treatment = next(v for v in experiment.variants if v != experiment.control)
    rows = {
        (r["variant"], r["metric"]): r
        for r in read_table(spark, experiment_results_path(lake)).collect()
        if r["experiment_id"] == experiment.experiment_id and r["dimension"] == ""
    }
    roles = {r["metric"]: r["role"] for r in rows.values()}
    assert len(roles) >= 3
    assert "guardrail" in roles.values()
    conversion = rows[treatment, "conversion_rate"]
    assert conversion["relative_ci_low"] <= experiment.true_lift <= conversion["relative_ci_high"]
    for variant, exposed in experiment.exposed.items():
        assert rows[variant, "conversion_rate"]["users"] == exposed
        assert rows[variant, "conversion_rate"]["main_sum"] == experiment.converted[variant]
    assert experiment.experiment_id in (workspace / "report.html").read_text()

"""`accord simulate` as a new user first runs it: Gold's experiments by default, and a clear failure
when the gateway accepts nothing (its schemas are not registered)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.demo.simulator import load_truth
from accord.gateway.testing import GatewayFactory, GatewayHandle
from accord.gold.experiments_config import load_experiments
from accord.registry.testing import RegistryFactory
from accord.runtime.cli import cli

pytestmark = pytest.mark.integration


def _simulate(gateway: GatewayHandle, truth: Path, *extra: str) -> tuple[int, str]:
    arguments = ["simulate", "--gateway-url", gateway.url, "--write-key", gateway.write_key]
    result = CliRunner().invoke(cli, [*arguments, "--truth", str(truth), *extra])
    return result.exit_code, result.output


def test_without_experiments_it_sends_those_gold_reads(gateway: GatewayHandle, tmp_path: Path) -> None:
    code, output = _simulate(gateway, tmp_path / "truth.json", "--users", "30")

    assert code == 0, output
    truth = load_truth(tmp_path / "truth.json")
    golds = load_experiments()
    assert golds, "Gold ships experiments for the demo"
    assert [e.experiment_id for e in truth.experiments] == [e.experiment_id for e in golds]
    assert all(sum(e.exposed.values()) == 30 for e in truth.experiments)
    assert truth.by_type["experiment_exposure"] > 0


def test_nothing_accepted_is_summarised_by_code_and_fails(
    registry_factory: RegistryFactory, gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    empty_registry = registry_factory()  # as after `accord up` without `accord schemas register`
    gateway = gateway_factory(registry_url=empty_registry.url)

    code, output = _simulate(gateway, tmp_path / "truth.json", "--users", "4")

    assert code == 1, output
    truth = load_truth(tmp_path / "truth.json")
    assert truth.sent.unique_valid == 0
    refused = truth.rejected["schema_not_registered"]
    assert refused > 0
    (row,) = [line for line in output.splitlines() if "rejected schema_not_registered" in line]
    assert row.strip(" │").split()[-1] == str(refused)
    assert "accepted none of the valid events" in output
    assert "accord schemas register" in output
    assert output.count("event rejected") == 0, "one summary, not a log line per event"

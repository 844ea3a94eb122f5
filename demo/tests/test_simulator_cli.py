"""`accord simulate` refuses bad input with one clear message, before sending anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.runtime.cli import cli
from accord.runtime.ports import free_port

pytestmark = pytest.mark.unit

CHECKOUT = {
    "experiment_id": "new_checkout",
    "control": "control",
    "variants": {"control": 0.5, "treatment": 0.5},
    "conversion_event": "purchase",
    "window_hours": 72,
}


def test_a_bad_field_of_the_experiments_file_is_named(tmp_path: Path) -> None:
    experiments = tmp_path / "experiments.json"
    experiments.write_text(json.dumps([{**CHECKOUT, "control": "nobody"}]))
    result = CliRunner().invoke(cli, ["simulate", "--experiments", str(experiments), "--users", "1"])
    assert result.exit_code == 1
    assert "control: 'nobody' is not one of the variants control, treatment" in result.output


def test_a_gateway_that_is_not_there_is_reported_at_once(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    truth = tmp_path / "truth.json"
    result = CliRunner().invoke(
        cli, ["simulate", "--gateway-url", url, "--users", "2", "--truth", str(truth)]
    )
    assert result.exit_code == 1
    assert f"the gateway at {url} does not answer" in result.output
    assert not truth.exists()


def test_a_share_outside_zero_to_one_is_refused() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--late", "1.5"])
    assert result.exit_code == 2
    assert "--late" in result.output


@pytest.mark.parametrize("value", ["IOS", "PHONE:treatment", "IOS:"])
def test_a_misbucketing_fault_names_a_platform_and_a_variant(value: str) -> None:
    result = CliRunner().invoke(cli, ["simulate", "--drop-exposures", value])
    assert result.exit_code == 2
    assert "expected PLATFORM:VARIANT with PLATFORM one of UNKNOWN, WEB, IOS" in result.output

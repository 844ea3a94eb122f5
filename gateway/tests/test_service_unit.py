from __future__ import annotations

import pytest
from click.testing import CliRunner

from accord.runtime.cli import cli
from accord.runtime.services import discover
from accord.runtime.settings import RuntimeSettings

pytestmark = pytest.mark.unit


def test_accord_up_starts_the_gateway_after_the_registry_on_port_8080() -> None:
    specs = {spec.name: spec for spec in discover(RuntimeSettings())}
    gateway = specs["gateway"]
    assert gateway.order == 20
    assert gateway.order > specs["registry"].order
    assert tuple(gateway.ports) == (8080,)
    assert list(gateway.command())[-2:] == ["gateway", "serve"]
    assert gateway.env["ACCORD_KAFKA_BOOTSTRAP"] == "127.0.0.1:9092"


def test_the_accord_command_offers_gateway_serve() -> None:
    result = CliRunner().invoke(cli, ["gateway", "serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output

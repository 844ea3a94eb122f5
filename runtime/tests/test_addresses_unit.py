"""One setting per thing: a server's port moves it and every client's address; bad values are one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from accord.gateway.settings import GatewaySettings
from accord.registry.settings import RegistrySettings
from accord.runtime.addresses import Addresses
from accord.runtime.errors import InvalidSettingError
from accord.runtime.settings import RuntimeSettings, invalid_setting
from accord.schemas.settings import SchemasSettings
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.unit

ACCORD = str(Path(sys.executable).with_name("accord"))
SERVERS = ("KAFKA", "REGISTRY", "GATEWAY")
ADDRESS_VARIABLES = [f"ACCORD_{server}_{part}" for server in SERVERS for part in ("HOST", "PORT")]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*ADDRESS_VARIABLES, "ACCORD_KAFKA_BOOTSTRAP", "ACCORD_REGISTRY_URL", "ACCORD_GATEWAY_URL"]:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_the_documented_local_addresses() -> None:
    addresses = Addresses()
    assert addresses.kafka_bootstrap_address() == "127.0.0.1:9092"
    assert addresses.registry_base_url() == "http://127.0.0.1:8081"
    assert addresses.gateway_base_url() == "http://127.0.0.1:8080"


def test_the_registry_port_moves_the_registry_and_all_its_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_REGISTRY_PORT", "18081")
    assert RegistrySettings().port == 18081
    url = "http://127.0.0.1:18081"
    assert GatewaySettings().registry_url == url
    assert StreamingSettings().registry_url == url
    assert SchemasSettings().registry_url == url


def test_the_gateway_and_kafka_ports_move_their_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_GATEWAY_PORT", "18080")
    monkeypatch.setenv("ACCORD_KAFKA_PORT", "19092")
    assert GatewaySettings().port == 18080
    assert StreamingSettings().gateway_url == "http://127.0.0.1:18080"
    assert RuntimeSettings().kafka_bootstrap == "127.0.0.1:19092"
    for settings in (GatewaySettings(), RegistrySettings(), StreamingSettings()):
        assert settings.kafka_bootstrap == "127.0.0.1:19092"


def test_an_explicit_client_address_wins_over_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_REGISTRY_PORT", "18081")
    monkeypatch.setenv("ACCORD_REGISTRY_URL", "https://registry.example.com")
    monkeypatch.setenv("ACCORD_KAFKA_BOOTSTRAP", "broker-1:9092,broker-2:9092")
    assert GatewaySettings().registry_url == "https://registry.example.com"
    assert StreamingSettings().registry_url == "https://registry.example.com"
    assert StreamingSettings().kafka_bootstrap == "broker-1:9092,broker-2:9092"
    assert RegistrySettings().port == 18081  # the local server still listens where told


def test_a_server_on_every_interface_is_reached_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_GATEWAY_HOST", "0.0.0.0")
    monkeypatch.setenv("ACCORD_REGISTRY_HOST", "10.1.2.3")
    assert Addresses().gateway_base_url() == "http://127.0.0.1:8080"
    assert Addresses().registry_base_url() == "http://10.1.2.3:8081"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ACCORD_GATEWAY_PORT", "abc", "input should be a valid integer"),
        ("ACCORD_REGISTRY_PORT", "70000", "input should be less than or equal to 65535"),
        ("ACCORD_KAFKA_PORT", "0", "input should be greater than or equal to 1"),
    ],
)
def test_a_bad_value_names_variable_value_and_expectation(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as failure:
        GatewaySettings()
    invalid = invalid_setting(failure.value)
    assert isinstance(invalid, InvalidSettingError)
    assert (invalid.variable, invalid.value) == (variable, value)
    assert str(invalid).startswith(f"invalid setting {variable}={value!r}: {expected}")


def test_the_command_line_reports_a_bad_value_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "ACCORD_STATE_DIR": str(tmp_path), "ACCORD_GATEWAY_PORT": "abc"}
    done = subprocess.run(
        [ACCORD, "status"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: invalid setting ACCORD_GATEWAY_PORT='abc': "
        "input should be a valid integer, unable to parse string as an integer"
    ]


def test_servers_reachable_from_other_hosts_need_credentials_or_an_opt_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACCORD_GATEWAY_HOST", "0.0.0.0")
    monkeypatch.setenv("ACCORD_REGISTRY_HOST", "0.0.0.0")
    with pytest.raises(InvalidSettingError, match=r"ACCORD_GATEWAY_HOST='0\.0\.0\.0': .*WRITE_KEYS_FILE"):
        GatewaySettings()
    with pytest.raises(InvalidSettingError, match=r"ACCORD_REGISTRY_HOST='0\.0\.0\.0': .*USERS"):
        RegistrySettings()
    monkeypatch.setenv("ACCORD_GATEWAY_ALLOW_DEVELOPMENT_KEY", "true")
    monkeypatch.setenv("ACCORD_REGISTRY_ALLOW_ANONYMOUS", "true")
    assert GatewaySettings().host == RegistrySettings().host == "0.0.0.0"
    monkeypatch.setenv("ACCORD_GATEWAY_HOST", "127.0.0.1")
    monkeypatch.delenv("ACCORD_GATEWAY_ALLOW_DEVELOPMENT_KEY")
    assert GatewaySettings().write_keys_file is None  # a local gateway keeps the development key

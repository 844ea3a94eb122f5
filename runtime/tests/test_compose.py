"""docker-compose.yml describes the same stack as the native runtime: ports, topics, settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from accord.gateway.settings import GatewaySettings
from accord.registry.settings import RegistrySettings
from accord.runtime.settings import RuntimeSettings
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.unit

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
SETTINGS: tuple[type[BaseSettings], ...] = (
    RuntimeSettings,
    RegistrySettings,
    GatewaySettings,
    StreamingSettings,
)
ACCORD_SERVICES = ("registry", "gateway", "stream", "schemas", "accord")


def _env_names(settings: type[BaseSettings]) -> set[str]:
    """Every environment variable a settings class reads."""
    prefix = settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        names.add(f"{prefix}{name}".upper())
    return names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def _host_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(mapping).split(":")[0]) for mapping in service.get("ports", [])}


def test_every_server_of_the_native_stack_is_a_service(compose: dict[str, Any]) -> None:
    assert {"kafka", "registry", "gateway", "stream", "minio"} <= set(compose["services"])


def test_ports_match_the_native_defaults(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert RuntimeSettings().kafka_port in _host_ports(services["kafka"])
    assert _host_ports(services["registry"]) == {RegistrySettings().port}
    assert _host_ports(services["gateway"]) == {GatewaySettings().port}
    assert services["registry"]["environment"]["ACCORD_REGISTRY_PORT"] == RegistrySettings().port
    assert services["gateway"]["environment"]["ACCORD_GATEWAY_PORT"] == GatewaySettings().port


def test_kafka_runs_in_kraft_mode_from_the_apache_image(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:4.")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def test_topics_are_created_as_the_runtime_creates_them(compose: dict[str, Any]) -> None:
    runtime = RuntimeSettings()
    script = compose["services"]["topics"]["command"][0]
    assert f"for topic in {runtime.events_topic} {runtime.deadletter_topic};" in script
    assert f"--partitions {runtime.kafka_partitions}" in script
    env = compose["services"]["gateway"]["environment"]
    assert env["ACCORD_EVENTS_TOPIC"] == runtime.events_topic
    assert env["ACCORD_DEADLETTER_TOPIC"] == runtime.deadletter_topic
    assert compose["services"]["registry"]["environment"]["ACCORD_REGISTRY_TOPIC"] == RegistrySettings().topic


def test_every_accord_variable_is_read_by_a_settings_class(compose: dict[str, Any]) -> None:
    known = set().union(*(_env_names(settings) for settings in SETTINGS)) | {"ACCORD_LOG_LEVEL"}
    for name in ACCORD_SERVICES:
        env = compose["services"][name]["environment"]
        unknown = sorted(key for key in env if key.startswith("ACCORD_") and key not in known)
        assert unknown == [], f"{name} sets variables no settings class reads: {unknown}"


def test_accord_services_run_the_commands_accord_up_runs(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["registry"]["command"] == ["registry", "serve"]
    assert services["gateway"]["command"] == ["gateway", "serve"]
    assert services["stream"]["command"] == ["stream", "serve"]
    for name in ACCORD_SERVICES:
        assert services[name]["build"]["dockerfile"] == "docker/Dockerfile"
        assert (COMPOSE.parent / services[name]["build"]["dockerfile"]).exists()


def test_the_lake_lives_in_the_s3_store(compose: dict[str, Any]) -> None:
    env = compose["services"]["stream"]["environment"]
    settings = StreamingSettings(lake_uri=env["ACCORD_LAKE_URI"], s3_endpoint=env["ACCORD_S3_ENDPOINT"])
    assert settings.uses_s3
    bucket = settings.lake_uri.removeprefix("s3a://").split("/")[0]
    assert f"lake/{bucket}" in compose["services"]["bucket"]["command"][0]
    minio_env = compose["services"]["minio"]["environment"]
    assert env["ACCORD_S3_ACCESS_KEY"] == minio_env["MINIO_ROOT_USER"]
    assert env["ACCORD_S3_SECRET_KEY"] == minio_env["MINIO_ROOT_PASSWORD"]

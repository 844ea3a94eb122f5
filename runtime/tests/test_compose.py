"""docker-compose.yml describes the same stack as the native runtime: ports, topics, settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from accord.gateway.settings import GatewaySettings
from accord.registry.settings import RegistrySettings
from accord.runtime.errors import InvalidSettingError
from accord.runtime.kafka import cluster_nodes, server_properties
from accord.runtime.settings import RuntimeSettings
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.unit

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
CLUSTER_ENV = COMPOSE.parent / "docker" / "kafka-cluster.env"
SETTINGS: tuple[type[BaseSettings], ...] = (
    RuntimeSettings,
    RegistrySettings,
    GatewaySettings,
    StreamingSettings,
)
ACCORD_SERVICES = ("registry", "gateway", "stream", "schemas", "accord")
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::-(?P<default>[^}]*))?\}")


def interpolate(value: object, host_env: dict[str, str]) -> str:
    """`value` as compose substitutes it: `${NAME:-default}` from the host environment."""
    return _VARIABLE.sub(lambda m: host_env.get(m["name"]) or m["default"] or "", str(value))


def service_env(service: dict[str, Any], host_env: dict[str, str]) -> dict[str, str]:
    """The environment compose gives a service's container."""
    return {key: interpolate(value, host_env) for key, value in service.get("environment", {}).items()}


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
    return {int(interpolate(mapping, {}).split(":")[-2]) for mapping in service.get("ports", [])}


def _long_running(compose: dict[str, Any]) -> list[str]:
    return [name for name, service in compose["services"].items() if service.get("restart") != "no"]


def test_every_server_of_the_native_stack_is_a_service(compose: dict[str, Any]) -> None:
    assert {"kafka", "registry", "gateway", "stream", "s3"} <= set(compose["services"])


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    assert set(_long_running(compose)) == {
        "kafka",
        "s3",
        "registry",
        "gateway",
        "stream",
        "prometheus",
        "grafana",
        "kafka-2",
        "kafka-3",
    }
    for name in _long_running(compose):
        test = compose["services"][name].get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck"
        assert test[0] in ("CMD", "CMD-SHELL")


def test_services_wait_for_what_they_need_to_be_healthy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["schemas"]["depends_on"]["registry"] == {"condition": "service_healthy"}
    assert services["gateway"]["depends_on"]["registry"] == {"condition": "service_healthy"}
    assert services["gateway"]["depends_on"]["schemas"] == {"condition": "service_completed_successfully"}
    for name, service in services.items():
        for needed, condition in service.get("depends_on", {}).items():
            own_profiles = set(service.get("profiles", []))
            needed_profiles = set(services[needed].get("profiles", []))
            if needed_profiles - own_profiles and services[needed].get("restart") != "no":
                # a server of another profile (the cluster's brokers) is waited for only when it runs
                assert condition == {"condition": "service_healthy", "required": False}, f"{name} -> {needed}"
                continue
            expected = (
                "service_healthy" if needed in _long_running(compose) else "service_completed_successfully"
            )
            assert condition == {"condition": expected}, f"{name} -> {needed}"


def test_nothing_is_open_to_the_network_without_an_opt_in(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose["services"]
    for name in ("kafka", "s3", "registry", "gateway", "stream", "prometheus", "grafana"):
        for mapping in services[name]["ports"]:
            assert interpolate(mapping, {}).startswith("127.0.0.1:"), f"{name} publishes {mapping}"
    gateway, registry = services["gateway"], services["registry"]
    for host_env, opens in (
        ({}, False),
        ({"ACCORD_ALLOW_DEVELOPMENT_KEY": "true", "ACCORD_ALLOW_OPEN_REGISTRY": "true"}, True),
    ):
        for settings, service in ((GatewaySettings, gateway), (RegistrySettings, registry)):
            for key, value in service_env(service, host_env).items():
                monkeypatch.setenv(key, value)
            if opens:
                assert settings().host == "0.0.0.0"
            else:
                with pytest.raises(InvalidSettingError, match="other hosts reach"):
                    settings()


def test_the_s3_store_is_a_maintained_pinned_image(compose: dict[str, Any]) -> None:
    for name in ("s3", "bucket"):
        image = compose["services"][name]["image"]
        assert not image.startswith("minio/"), "MinIO images are no longer published"
        repository, _, tag = image.partition(":")
        assert repository == "chrislusf/seaweedfs"
        assert tag not in ("", "latest"), "pinned to a release"


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
    env = service_env(compose["services"]["stream"], {})
    settings = StreamingSettings(lake_uri=env["ACCORD_LAKE_URI"], s3_endpoint=env["ACCORD_S3_ENDPOINT"])
    assert settings.uses_s3
    assert settings.s3_endpoint == "http://s3:8333"
    bucket = settings.lake_uri.removeprefix("s3a://").split("/")[0]
    assert f"s3.bucket.create -name {bucket}" in compose["services"]["bucket"]["command"][0]
    for host_env in ({}, {"ACCORD_S3_ACCESS_KEY": "key", "ACCORD_S3_SECRET_KEY": "secret"}):
        stream_env = service_env(compose["services"]["stream"], host_env)
        store_env = service_env(compose["services"]["s3"], host_env)
        assert stream_env["ACCORD_S3_ACCESS_KEY"] == store_env["AWS_ACCESS_KEY_ID"]
        assert stream_env["ACCORD_S3_SECRET_KEY"] == store_env["AWS_SECRET_ACCESS_KEY"]


def _env_file(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def _brokers(compose: dict[str, Any], host_env: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """The Kafka services (name, service) compose runs with `host_env` (its COMPOSE_PROFILES), by node id."""
    profiles = set(host_env.get("COMPOSE_PROFILES", "").split(","))
    brokers = [
        (name, service)
        for name, service in compose["services"].items()
        if service.get("image", "").startswith("apache/kafka:")
        and "KAFKA_NODE_ID" in service.get("environment", {})
        and set(service.get("profiles", [""])) & (profiles | {""})
    ]
    return sorted(brokers, key=lambda named: int(named[1]["environment"]["KAFKA_NODE_ID"]))


# the broker properties that decide replication, as the apache/kafka image names them
_REPLICATION_PROPERTIES = (
    "default.replication.factor",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "share.coordinator.state.topic.replication.factor",
    "share.coordinator.state.topic.min.isr",
    "min.insync.replicas",
    "auto.create.topics.enable",
    "process.roles",
)


@pytest.mark.parametrize(("host_env", "brokers"), [({}, 1), (_env_file(CLUSTER_ENV), 3)])
def test_brokers_quorum_and_topics_match_the_native_runtime(
    compose: dict[str, Any], host_env: dict[str, str], brokers: int
) -> None:
    runtime = RuntimeSettings(kafka_brokers=brokers)
    services = _brokers(compose, host_env)
    assert len(services) == brokers
    nodes = cluster_nodes(runtime)
    # every broker is a controller (three, or the one), each voter a broker compose runs
    voters = {f"{node.node_id}@{name}:9093" for node, (name, _) in zip(nodes, services, strict=True)}
    assert all(node.controller for node in nodes)
    for node, (_, service) in zip(nodes, services, strict=True):
        env = service_env(service, host_env)
        assert int(env["KAFKA_NODE_ID"]) == node.node_id
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
        native = dict(
            line.split("=", 1) for line in server_properties(runtime, Path("data"), node).splitlines()
        )
        for key in _REPLICATION_PROPERTIES:
            assert env["KAFKA_" + key.upper().replace(".", "_")] == native[key], key
        external = env["KAFKA_ADVERTISED_LISTENERS"].split("EXTERNAL://localhost:")[1]
        assert int(external) == node.port, "the host reaches each broker on its native port"
        assert node.port in _host_ports(service)
    script = interpolate(compose["services"]["topics"]["command"][0], host_env)
    assert f"--replication-factor {runtime.replication_factor}" in script
    assert f"--config min.insync.replicas={runtime.min_insync_replicas}" in script
    accord_bootstrap = service_env(compose["services"]["gateway"], host_env)["ACCORD_KAFKA_BOOTSTRAP"]
    assert len(accord_bootstrap.split(",")) == brokers


def test_the_cluster_profile_starts_with_the_cluster_settings() -> None:
    env = _env_file(CLUSTER_ENV)
    assert env["COMPOSE_PROFILES"] == "cluster"
    settings = RuntimeSettings(
        kafka_brokers=3,
        kafka_replication_factor=int(env["ACCORD_KAFKA_REPLICATION_FACTOR"]),
        kafka_min_insync_replicas=int(env["ACCORD_KAFKA_MIN_INSYNC_REPLICAS"]),
    )
    defaults = RuntimeSettings(kafka_brokers=3)
    assert (settings.replication_factor, settings.min_insync_replicas) == (
        defaults.replication_factor,
        defaults.min_insync_replicas,
    )

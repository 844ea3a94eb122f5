"""`ACCORD_KAFKA_BROKERS`: the brokers `accord up` runs, their ports, quorum and topic settings,
and the one bootstrap list every component derives from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.gateway.settings import GatewaySettings
from accord.registry.settings import RegistrySettings
from accord.runtime.cli import _select
from accord.runtime.errors import InvalidSettingError
from accord.runtime.kafka import cluster_nodes, server_properties
from accord.runtime.services import discover
from accord.runtime.settings import RuntimeSettings
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.unit

KAFKA_VARIABLES = (
    "ACCORD_KAFKA_HOST",
    "ACCORD_KAFKA_PORT",
    "ACCORD_KAFKA_CONTROLLER_PORT",
    "ACCORD_KAFKA_BROKERS",
    "ACCORD_KAFKA_BOOTSTRAP",
    "ACCORD_KAFKA_REPLICATION_FACTOR",
    "ACCORD_KAFKA_MIN_INSYNC_REPLICAS",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in KAFKA_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def properties(settings: RuntimeSettings, node_index: int = 0) -> dict[str, str]:
    text = server_properties(settings, Path("data"), cluster_nodes(settings)[node_index])
    return dict(line.split("=", 1) for line in text.splitlines())


def test_without_the_setting_one_broker_runs_as_before() -> None:
    settings = RuntimeSettings()
    kafka = [spec for spec in discover(settings) if spec.order == 0]
    assert [(spec.name, tuple(spec.ports)) for spec in kafka] == [("kafka", (9092, 9093))]
    assert settings.kafka_bootstrap == GatewaySettings().kafka_bootstrap == "127.0.0.1:9092"
    props = properties(settings)
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor"):
        assert props[key] == "1"
    assert props["min.insync.replicas"] == props["transaction.state.log.min.isr"] == "1"
    assert (settings.replication_factor, settings.topic_config) == (1, {"min.insync.replicas": "1"})


def test_three_brokers_get_interleaved_ports_and_every_client_the_whole_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACCORD_KAFKA_BROKERS", "3")
    settings = RuntimeSettings()
    kafka = [spec for spec in discover(settings) if spec.order == 0]
    assert [(spec.name, tuple(spec.ports)) for spec in kafka] == [
        ("kafka-1", (9092, 9093)),
        ("kafka-2", (9094, 9095)),
        ("kafka-3", (9096, 9097)),
    ]
    # only the last broker, started when the quorum can form, creates the topics
    assert [spec.after_start is not None for spec in kafka] == [False, False, True]
    bootstrap = "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096"
    assert settings.kafka_bootstrap == bootstrap
    for component in (GatewaySettings(), RegistrySettings(), StreamingSettings()):
        assert component.kafka_bootstrap == bootstrap
    gateway = next(spec for spec in discover(settings) if spec.name == "gateway")
    assert gateway.env["ACCORD_KAFKA_BOOTSTRAP"] == bootstrap


def test_the_first_port_moves_every_broker_and_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_KAFKA_BROKERS", "3")
    monkeypatch.setenv("ACCORD_KAFKA_PORT", "19092")
    assert RuntimeSettings().kafka_ports == [19092, 19094, 19096]
    assert StreamingSettings().kafka_bootstrap == "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096"


def test_a_cluster_of_three_has_a_quorum_of_three_and_replicates_topics_three_times() -> None:
    settings = RuntimeSettings(kafka_brokers=3)
    voters = "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"
    for index in range(3):
        props = properties(settings, index)
        assert props["node.id"] == str(index + 1)
        assert props["controller.quorum.voters"] == voters
        assert props["advertised.listeners"] == f"PLAINTEXT://127.0.0.1:{9092 + 2 * index}"
        assert props["default.replication.factor"] == props["offsets.topic.replication.factor"] == "3"
        assert props["min.insync.replicas"] == props["transaction.state.log.min.isr"] == "2"
    assert settings.topic_config == {"min.insync.replicas": "2"}


def test_brokers_beyond_the_quorum_are_brokers_only() -> None:
    settings = RuntimeSettings(kafka_brokers=5)
    assert [node.controller for node in cluster_nodes(settings)] == [True, True, True, False, False]
    fifth = properties(settings, 4)
    assert fifth["process.roles"] == "broker"
    assert fifth["listeners"] == "PLAINTEXT://127.0.0.1:9100"
    assert fifth["controller.quorum.voters"] == "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"
    assert settings.replication_factor == 3


def test_two_brokers_keep_accepting_writes_with_one_down() -> None:
    settings = RuntimeSettings(kafka_brokers=2)
    assert (settings.replication_factor, settings.min_insync_replicas) == (2, 1)
    assert [node.controller for node in cluster_nodes(settings)] == [True, False]


def test_topic_settings_can_be_set_and_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_KAFKA_BROKERS", "3")
    monkeypatch.setenv("ACCORD_KAFKA_REPLICATION_FACTOR", "2")
    monkeypatch.setenv("ACCORD_KAFKA_MIN_INSYNC_REPLICAS", "2")
    assert (RuntimeSettings().replication_factor, RuntimeSettings().min_insync_replicas) == (2, 2)
    monkeypatch.setenv("ACCORD_KAFKA_MIN_INSYNC_REPLICAS", "3")
    with pytest.raises(InvalidSettingError, match="MIN_INSYNC_REPLICAS=3: at most the replication"):
        RuntimeSettings()
    monkeypatch.setenv("ACCORD_KAFKA_REPLICATION_FACTOR", "4")
    with pytest.raises(InvalidSettingError, match="ACCORD_KAFKA_REPLICATION_FACTOR=4: at most the 3 broker"):
        RuntimeSettings()


def test_another_cluster_is_named_by_its_bootstrap_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_KAFKA_BOOTSTRAP", "b-1.example.com:9096,b-2.example.com:9096")
    monkeypatch.setenv("ACCORD_KAFKA_REPLICATION_FACTOR", "3")  # the managed cluster's, not ours
    settings = RuntimeSettings()
    assert settings.kafka_bootstrap == "b-1.example.com:9096,b-2.example.com:9096"
    assert settings.local_bootstrap == "127.0.0.1:9092"
    gateway = next(spec for spec in discover(settings) if spec.name == "gateway")
    assert gateway.env["ACCORD_KAFKA_BOOTSTRAP"] == settings.kafka_bootstrap


def test_only_kafka_selects_every_broker_of_the_cluster() -> None:
    specs = discover(RuntimeSettings(kafka_brokers=3))
    assert [spec.name for spec in _select(specs, ("kafka", "registry"))] == [
        "kafka-1",
        "kafka-2",
        "kafka-3",
        "registry",
    ]
    assert [spec.name for spec in _select(specs, ("kafka-2",))] == ["kafka-2"]

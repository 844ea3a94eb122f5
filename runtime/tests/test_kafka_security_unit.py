"""TLS and SASL settings reach librdkafka (gateway, registry, tools) and Spark's Kafka source alike."""

from __future__ import annotations

from typing import ClassVar

import pytest

from accord.gateway.settings import GatewaySettings
from accord.registry.settings import RegistrySettings
from accord.runtime.errors import InvalidSettingError
from accord.runtime.kafka_security import KafkaSecurity
from accord.streaming.bronze import kafka_options
from accord.streaming.settings import StreamingSettings

pytestmark = pytest.mark.unit

SECURITY_VARIABLES = (
    "ACCORD_KAFKA_SECURITY_PROTOCOL",
    "ACCORD_KAFKA_SASL_MECHANISM",
    "ACCORD_KAFKA_SASL_USERNAME",
    "ACCORD_KAFKA_SASL_PASSWORD",
    "ACCORD_KAFKA_SSL_CA_LOCATION",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECURITY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_a_plaintext_cluster_adds_nothing_to_the_clients() -> None:
    assert KafkaSecurity().librdkafka() == {}
    assert KafkaSecurity().spark_options() == {}
    assert set(kafka_options(StreamingSettings())) == {
        "kafka.bootstrap.servers",
        "subscribe",
        "includeHeaders",
        "failOnDataLoss",
    }


def test_sasl_over_tls_is_written_for_both_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ACCORD_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("ACCORD_KAFKA_SASL_USERNAME", "accord")
    monkeypatch.setenv("ACCORD_KAFKA_SASL_PASSWORD", 'p"ss\\word')
    monkeypatch.setenv("ACCORD_KAFKA_SSL_CA_LOCATION", "/etc/kafka/ca.pem")
    librdkafka = {
        "security.protocol": "sasl_ssl",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "accord",
        "sasl.password": 'p"ss\\word',
        "ssl.ca.location": "/etc/kafka/ca.pem",
    }
    for settings in (GatewaySettings(), RegistrySettings(), StreamingSettings()):
        assert settings.kafka_security.librdkafka() == librdkafka
    options = kafka_options(StreamingSettings())
    assert options["kafka.security.protocol"] == "SASL_SSL"
    assert options["kafka.sasl.mechanism"] == "SCRAM-SHA-512"
    assert options["kafka.sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="accord" password="p\\"ss\\\\word";'
    )
    assert options["kafka.ssl.truststore.type"] == "PEM"
    assert options["kafka.ssl.truststore.location"] == "/etc/kafka/ca.pem"
    assert 'p"ss' not in repr(StreamingSettings()), "the password stays out of logs and reprs"


def test_tls_alone_needs_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_KAFKA_SECURITY_PROTOCOL", "SSL")
    assert KafkaSecurity().librdkafka() == {"security.protocol": "ssl"}
    assert KafkaSecurity().spark_options() == {"kafka.security.protocol": "SSL"}


def test_sasl_without_credentials_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ACCORD_KAFKA_SASL_MECHANISM", "PLAIN")
    with pytest.raises(InvalidSettingError, match="ACCORD_KAFKA_SASL_USERNAME=None: required with"):
        GatewaySettings()


class RecordingClient:
    """Stands in for a confluent-kafka client: keeps the configuration it was made with."""

    made: ClassVar[list[dict[str, object]]] = []

    def __init__(self, config: dict[str, object]) -> None:
        RecordingClient.made.append(config)

    def poll(self, _timeout: float) -> int:
        return 0

    def flush(self, _timeout: float = 0) -> int:
        return 0


def test_every_producer_writes_acks_all_and_idempotent_to_a_secured_cluster(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accord.gateway import publisher
    from accord.gateway.app import build_gateway
    from accord.registry import kafka_log
    from accord.registry.store import SchemaStore

    monkeypatch.setenv("ACCORD_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ACCORD_KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("ACCORD_KAFKA_SASL_USERNAME", "accord")
    monkeypatch.setenv("ACCORD_KAFKA_SASL_PASSWORD", "secret")
    RecordingClient.made = []
    for module in (publisher, kafka_log):
        monkeypatch.setattr(module, "Producer", RecordingClient)
    monkeypatch.setattr(kafka_log, "Consumer", RecordingClient)

    build_gateway(GatewaySettings()).publisher.close()
    registry = RegistrySettings()
    kafka_log.SchemasLog(
        registry.kafka_bootstrap,
        registry.topic,
        SchemaStore(),
        client_config=registry.kafka_security.librdkafka(),
    )
    gateway_producer, registry_producer, _registry_consumer = RecordingClient.made
    for producer in (gateway_producer, registry_producer):
        assert (producer["acks"], producer["enable.idempotence"]) == ("all", True)
    for client in RecordingClient.made:
        assert (client["security.protocol"], client["sasl.username"]) == ("sasl_ssl", "accord")

"""confluent-kafka's own registry client and Avro serdes, unchanged, against our registry and broker."""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from accord.registry.testing import RegistryHandle
from accord.runtime.testing import BrokerHandle, TopicReader

pytestmark = pytest.mark.integration


def order_schema(*extra: str, namespace: str = "accord.shop") -> str:
    fields: list[dict[str, object]] = [
        {"name": "order_id", "type": "string"},
        {"name": "amount", "type": "double"},
    ]
    fields += [{"name": name, "type": ["null", "string"], "default": None} for name in extra]
    return json.dumps({"type": "record", "name": "Order", "namespace": namespace, "fields": fields})


@pytest.fixture
def client(registry_server: RegistryHandle) -> SchemaRegistryClient:
    return SchemaRegistryClient({"url": registry_server.url})


@pytest.fixture
def topic(kafka_broker: BrokerHandle) -> Iterator[str]:
    name = f"orders-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(timeout=30)
    yield name
    admin.delete_topics([name])


def test_serializer_auto_registers_and_deserializer_reads_back_through_kafka(
    client: SchemaRegistryClient, kafka_broker: BrokerHandle, topic: str
) -> None:
    serializer = AvroSerializer(client, order_schema())
    context = SerializationContext(topic, MessageField.VALUE)
    payload = serializer({"order_id": "o-1", "amount": 12.5}, context)
    assert payload is not None
    magic, schema_id = struct.unpack(">bI", payload[:5])
    assert magic == 0
    assert client.get_latest_version(f"{topic}-value").schema_id == schema_id
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    producer.produce(topic, value=payload)
    producer.flush(10)
    with TopicReader(kafka_broker.bootstrap, topic, from_start=True) as reader:
        raw = reader.read(1, timeout_s=30)[0].value
    fresh_client = SchemaRegistryClient({"url": client._rest_client.base_urls[0]})
    decoded = AvroDeserializer(fresh_client)(raw, context)
    assert decoded == {"order_id": "o-1", "amount": 12.5}


def test_use_latest_version_serializes_with_the_newest_schema(
    client: SchemaRegistryClient, topic: str
) -> None:
    subject = f"{topic}-value"
    client.register_schema(subject, Schema(order_schema(), "AVRO"))
    latest_id = client.register_schema(subject, Schema(order_schema("coupon"), "AVRO"))
    serializer = AvroSerializer(
        client, order_schema("coupon"), conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    payload = serializer(
        {"order_id": "o-2", "amount": 1.0, "coupon": "XMAS"}, SerializationContext(topic, MessageField.VALUE)
    )
    assert payload is not None
    assert struct.unpack(">I", payload[1:5])[0] == latest_id
    reader = AvroDeserializer(client, order_schema())
    assert reader(payload, SerializationContext(topic, MessageField.VALUE)) == {
        "order_id": "o-2",
        "amount": 1.0,
    }


def test_client_lookup_compatibility_config_and_deletes(client: SchemaRegistryClient, subject: str) -> None:
    namespace = f"accord.t{uuid.uuid4().hex[:8]}"
    schema_id = client.register_schema(subject, Schema(order_schema(namespace=namespace), "AVRO"))
    found = client.lookup_schema(subject, Schema(order_schema(namespace=namespace), "AVRO"))
    assert (found.schema_id, found.version) == (schema_id, 1)
    assert client.get_schema(schema_id, subject_name=subject).schema_str is not None
    assert client.get_subjects_by_schema_id(schema_id) == [subject]
    assert (
        client.test_compatibility(subject, Schema(order_schema("coupon", namespace=namespace), "AVRO"))
        is True
    )
    breaking = json.dumps(
        {
            "type": "record",
            "name": "Order",
            "namespace": namespace,
            "fields": [{"name": "order_id", "type": "int"}],
        }
    )
    assert client.test_compatibility(subject, Schema(breaking, "AVRO")) is False
    assert client.test_compatibility_all_versions(subject, Schema(breaking, "AVRO")) is False
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, Schema(breaking, "AVRO"))
    assert refused.value.http_status_code == 409
    assert refused.value.error_code == 409
    client.set_compatibility(subject, "FULL")
    assert client.get_compatibility(subject) == "FULL"
    second = client.register_schema(subject, Schema(order_schema("coupon", namespace=namespace), "AVRO"))
    assert client.get_versions(subject) == [1, 2]
    assert client.delete_version(subject, 1) == 1
    assert client.get_versions(subject) == [2]
    assert client.delete_subject(subject) == [2]
    with pytest.raises(SchemaRegistryError) as again:
        client.delete_subject(subject)
    assert again.value.error_code == 40404
    assert client.delete_subject(subject, permanent=True) == [1, 2]
    assert subject not in client.get_subjects()
    with pytest.raises(SchemaRegistryError) as gone:
        SchemaRegistryClient({"url": client._rest_client.base_urls[0]}).get_schema(second)
    assert gone.value.error_code == 40403
    assert client.get_schema_types() == ["AVRO"]

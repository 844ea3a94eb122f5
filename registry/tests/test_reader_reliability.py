"""No record of `_schemas` can stop the registry, and a registry that stopped reading says so.

Raw records are written to a private topic of the real broker, as anyone with write access to
the topic could; the registry must skip each corrupt one with a warning, keep serving and
registering, and become ready again after a restart on the same topic.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from confluent_kafka import Producer
from fastapi.testclient import TestClient

from accord.registry.app import create_app
from accord.registry.kafka_log import SchemasLog, ensure_schemas_topic
from accord.registry.operations import Registry
from accord.registry.settings import RegistrySettings
from accord.registry.store import SchemaStore
from accord.registry.testing import RegistryFactory
from accord.runtime.testing import BrokerHandle
from accord.runtime.waiting import wait_until

pytestmark = pytest.mark.integration

DEEP = 100_000

CORRUPT_RECORDS: dict[str, tuple[bytes, bytes | None]] = {
    # json reads Infinity as a float, int() of it overflows
    "infinite id": (
        b'{"keytype":"SCHEMA","subject":"bad","version":1,"magic":1}',
        b'{"subject":"bad","version":1,"id":Infinity,"schema":"\\"string\\""}',
    ),
    "infinite version": (
        b'{"keytype":"SCHEMA","subject":"bad","version":2,"magic":1}',
        b'{"subject":"bad","version":-Infinity,"id":7,"schema":"\\"string\\""}',
    ),
    # the decoder recurses once per level
    "key nested 10^5 levels": (b"[" * DEEP + b"]" * DEEP, b"{}"),
    "value nested 10^5 levels": (
        b'{"keytype":"CONFIG","subject":"bad","magic":0}',
        b'{"compatibilityLevel":' + b"[" * DEEP + b"]" * DEEP + b"}",
    ),
    # would become the next id to assign, which no answer can carry
    "id beyond 31 bits": (
        b'{"keytype":"SCHEMA","subject":"bad","version":3,"magic":1}',
        b'{"subject":"bad","version":3,"id":100000000000000000000000,"schema":"\\"string\\""}',
    ),
    "references not a list": (
        b'{"keytype":"SCHEMA","subject":"bad","version":4,"magic":1}',
        b'{"subject":"bad","version":4,"id":8,"schema":"\\"string\\"","references":7}',
    ),
}


def schema(name: str) -> str:
    return json.dumps({"type": "record", "name": name, "fields": [{"name": "id", "type": "string"}]})


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes | None]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for key, value in records:
        producer.produce(topic, key=key, value=value, partition=0)
    assert producer.flush(30) == 0


def warnings_of(log_text: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in log_text.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("msg") == "skipping corrupt _schemas record"]


def good_record(subject: str, schema_id: int) -> tuple[bytes, bytes]:
    key = json.dumps({"keytype": "SCHEMA", "subject": subject, "version": 1, "magic": 1}).encode()
    value = {
        "subject": subject,
        "version": 1,
        "id": schema_id,
        "schemaType": "AVRO",
        "schema": schema(subject.capitalize()),
    }
    return key, json.dumps(value).encode()


@pytest.mark.parametrize("case", sorted(CORRUPT_RECORDS))
def test_a_corrupt_record_is_skipped_and_the_registry_stays_usable(
    case: str, registry_factory: RegistryFactory, kafka_broker: BrokerHandle
) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:10]}"
    ensure_schemas_topic(kafka_broker.bootstrap, topic)
    produce(kafka_broker.bootstrap, topic, [good_record("before", 3), CORRUPT_RECORDS[case]])
    registry = registry_factory(topic)
    with httpx.Client(base_url=registry.url, timeout=30) as api:
        assert api.get("/_health").status_code == 200
        assert api.get("/subjects").json() == ["before"]
        registered = api.post("/subjects/after/versions", json={"schema": schema("After")})
        assert registered.status_code == 200, registered.text
        assert registered.json() == {"id": 4, "version": 1}
    # written after the corrupt record: the reader went past it, and read its own write back
    produce(kafka_broker.bootstrap, topic, [good_record("later", 9)])
    registry.stop()
    registry.start()
    with httpx.Client(base_url=registry.url, timeout=30) as api:
        assert api.get("/_health").status_code == 200
        assert api.get("/subjects").json() == ["after", "before", "later"]
    skipped = warnings_of(registry.log_file.read_text())
    assert len(skipped) == 2  # once per start
    assert all(entry["level"] == "warning" for entry in skipped)


class StoreThatFails(SchemaStore):
    """A store whose apply fails outside any record's parsing (a defect, not a corrupt record)."""

    def apply(self, key_bytes: bytes | None, value_bytes: bytes | None) -> None:
        raise RuntimeError("store defect")


def test_a_dead_reader_fails_health_and_every_request(kafka_broker: BrokerHandle) -> None:
    topic = f"_schemas-{uuid.uuid4().hex[:10]}"
    ensure_schemas_topic(kafka_broker.bootstrap, topic)
    store = StoreThatFails()
    schemas_log = SchemasLog(kafka_broker.bootstrap, topic, store)
    schemas_log.start()
    try:
        app = create_app(Registry(store, schemas_log), RegistrySettings(), schemas_log.progress)
        with TestClient(app) as http:
            assert http.get("/_health").status_code == 200
            produce(kafka_broker.bootstrap, topic, [good_record("any", 1)])
            wait_until(
                lambda: schemas_log.progress().failure,
                timeout_s=30,
                interval_s=0.05,
                describe="the reader to record its failure",
            )
            health = http.get("/_health")
            assert health.status_code == 503
            assert health.json()["ready"] is False
            assert health.json()["failure"] == "RuntimeError: store defect"
            refused = http.post("/subjects/s/versions", json={"schema": schema("S")})
            assert refused.status_code == 503
            assert refused.json()["error_code"] == 50001
            assert "stopped reading" in refused.json()["message"]
    finally:
        schemas_log.close()


def test_concurrent_starts_on_a_new_topic_all_find_it(kafka_broker: BrokerHandle) -> None:
    """Registries starting together on a fresh topic: each creates it or finds it, none fails."""
    for _ in range(5):
        topic = f"_schemas-{uuid.uuid4().hex[:10]}"
        with ThreadPoolExecutor(8) as pool:
            for started in [
                pool.submit(ensure_schemas_topic, kafka_broker.bootstrap, topic) for _ in range(8)
            ]:
                started.result()

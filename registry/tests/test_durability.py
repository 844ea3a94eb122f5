"""The `_schemas` topic as the registry's only state: restarts, followers, races, corrupt records."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from accord.registry.kafka_log import ensure_schemas_topic
from accord.registry.testing import RegistryFactory, RegistryHandle
from accord.runtime.errors import ServiceStartError
from accord.runtime.testing import BrokerHandle
from accord.runtime.waiting import wait_until

pytestmark = pytest.mark.integration


def record(name: str, *extra: str) -> str:
    fields = [{"name": "id", "type": "string"}] + [
        {"name": f, "type": ["null", "string"], "default": None} for f in extra
    ]
    return json.dumps({"type": "record", "name": name, "fields": fields})


def topic_name() -> str:
    return f"_schemas-{uuid.uuid4().hex[:10]}"


def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes, bytes | None]]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex, "enable.auto.commit": False}
    )
    partition = TopicPartition(topic, 0, 0)
    _, end = consumer.get_watermark_offsets(partition, timeout=10)
    consumer.assign([partition])
    records: list[tuple[bytes, bytes | None]] = []
    deadline = time.monotonic() + 20
    while len(records) < end and time.monotonic() < deadline:
        for message in consumer.consume(100, timeout=0.5):
            if message.error() is None:
                records.append((message.key() or b"", message.value()))
    consumer.close()
    return records


def snapshot(url: str) -> dict[str, Any]:
    """Everything a client can see: subjects, versions (deleted too), ids, configs, modes."""
    with httpx.Client(base_url=url, timeout=30) as api:
        subjects = api.get("/subjects", params={"deleted": "true"}).json()
        state: dict[str, Any] = {"subjects": subjects, "config": api.get("/config").json()}
        for subject in subjects:
            versions = api.get(f"/subjects/{subject}/versions", params={"deleted": "true"}).json()
            state[subject] = {
                "live": api.get(f"/subjects/{subject}/versions").json()
                if subject in api.get("/subjects").json()
                else [],
                "versions": [
                    api.get(f"/subjects/{subject}/versions/{v}", params={"deleted": "true"}).json()
                    for v in versions
                ],
                "config": api.get(f"/config/{subject}").json(),
                "mode": api.get(f"/mode/{subject}").json(),
            }
        return state


def populate(url: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as api:
        for version in range(3):
            fields = [f"f{i}" for i in range(version)]
            assert (
                api.post("/subjects/orders/versions", json={"schema": record("Order", *fields)}).status_code
                == 200
            )
        api.post("/subjects/users/versions", json={"schema": record("User")})
        api.post("/subjects/gone/versions", json={"schema": record("Gone")})
        api.delete("/subjects/orders/versions/1")
        api.delete("/subjects/gone")
        api.put("/config", json={"compatibility": "FULL"})
        api.put("/config/users", json={"compatibility": "NONE"})
        api.put("/mode/users", json={"mode": "READONLY"})


def test_everything_is_back_after_a_restart(registry_factory: RegistryFactory) -> None:
    registry = registry_factory(topic_name())
    populate(registry.url)
    before = snapshot(registry.url)
    registry.stop()
    registry.start()
    assert snapshot(registry.url) == before
    with httpx.Client(base_url=registry.url, timeout=30) as api:
        # ids continue after the highest one seen, versions after the highest soft-deleted one
        created = api.post("/subjects/later/versions", json={"schema": record("Later")}).json()
        assert created["id"] == max(v["id"] for s in before["subjects"] for v in before[s]["versions"]) + 1


def test_a_killed_registry_loses_nothing_it_acknowledged(registry_factory: RegistryFactory) -> None:
    registry = registry_factory(topic_name())
    with httpx.Client(base_url=registry.url, timeout=30) as api:
        created = api.post("/subjects/crash/versions", json={"schema": record("Crash")}).json()
    registry.kill()
    registry.start()
    with httpx.Client(base_url=registry.url, timeout=30) as api:
        assert api.get("/subjects/crash/versions/1").json()["id"] == created["id"]


def test_writer_and_follower_on_one_topic_agree(registry_factory: RegistryFactory) -> None:
    topic = topic_name()
    writer = registry_factory(topic)
    follower = registry_factory(topic, writer_url=writer.url)
    with httpx.Client(timeout=30) as api:
        via_writer = api.post(f"{writer.url}/subjects/a/versions", json={"schema": record("A")}).json()
        via_follower = api.post(f"{follower.url}/subjects/b/versions", json={"schema": record("B")})
        assert via_follower.status_code == 200, via_follower.text
        # the writer answered only after reading its record back; the follower catches up on its own
        assert api.get(f"{writer.url}/subjects/b/versions/1").json()["id"] == via_follower.json()["id"]
        wait_until(
            lambda: api.get(f"{follower.url}/subjects/a/versions").status_code,
            until=lambda status: status == 200,
            timeout_s=10,
            interval_s=0.1,
            describe="the follower to hold subject a",
        )
        assert api.get(f"{follower.url}/schemas/ids/{via_writer['id']}").status_code == 200
        refused = api.post(
            f"{follower.url}/subjects/a/versions", json={"schema": record("A", "x"), "schemaType": "X"}
        )
        assert refused.json()["error_code"] == 42201
    populate(writer.url)
    wait_until(
        lambda: snapshot(follower.url) == snapshot(writer.url),
        timeout_s=10,
        describe="the follower to see what the writer holds",
    )


def test_concurrent_registrations_of_one_new_schema_get_one_id(
    registry_server: RegistryHandle, subject: str
) -> None:
    schema = record(f"Race{uuid.uuid4().hex[:8]}")

    def register(_: int) -> dict[str, Any]:
        with httpx.Client(base_url=registry_server.url, timeout=60) as api:
            response = api.post(f"/subjects/{subject}/versions", json={"schema": schema})
            assert response.status_code == 200, response.text
            return dict(response.json())

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(register, range(20)))
    assert {(a["id"], a["version"]) for a in answers} == {(answers[0]["id"], 1)}
    assert httpx.get(f"{registry_server.url}/subjects/{subject}/versions").json() == [1]


def test_topic_holds_confluent_key_and_value_bytes(
    registry_factory: RegistryFactory, kafka_broker: BrokerHandle
) -> None:
    topic = topic_name()
    registry = registry_factory(topic)
    with httpx.Client(base_url=registry.url, timeout=30) as api:
        api.post("/subjects/bytes-ü/versions", json={"schema": record("Bytes")})
        api.put("/config/bytes-ü", json={"compatibility": "FULL"})
        api.put("/config", json={"compatibility": "NONE"})
        api.put("/mode/bytes-ü", json={"mode": "READWRITE"})
        api.delete("/subjects/bytes-ü")
        api.delete("/subjects/bytes-ü", params={"permanent": "true"})
    schema_text = '{"type":"record","name":"Bytes","fields":[{"name":"id","type":"string"}]}'
    expected = [
        (
            '{"keytype":"SCHEMA","subject":"bytes-ü","version":1,"magic":1}'.encode(),
            json.dumps(
                {
                    "subject": "bytes-ü",
                    "version": 1,
                    "id": 1,
                    "schemaType": "AVRO",
                    "schema": schema_text,
                    "deleted": False,
                },
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode(),
        ),
        (
            '{"keytype":"CONFIG","subject":"bytes-ü","magic":0}'.encode(),
            '{"compatibilityLevel":"FULL","subject":"bytes-ü"}'.encode(),
        ),
        (b'{"keytype":"CONFIG","magic":0}', b'{"compatibilityLevel":"NONE"}'),
        (
            '{"keytype":"MODE","subject":"bytes-ü","magic":0}'.encode(),
            '{"subject":"bytes-ü","mode":"READWRITE"}'.encode(),
        ),
        (
            '{"keytype":"DELETE_SUBJECT","subject":"bytes-ü","magic":0}'.encode(),
            '{"subject":"bytes-ü","version":1}'.encode(),
        ),
        ('{"keytype":"SCHEMA","subject":"bytes-ü","version":1,"magic":1}'.encode(), None),
        ('{"keytype":"CONFIG","subject":"bytes-ü","magic":0}'.encode(), None),
        ('{"keytype":"MODE","subject":"bytes-ü","magic":0}'.encode(), None),
    ]
    assert read_topic(kafka_broker.bootstrap, topic) == expected


def test_corrupt_records_are_skipped_with_a_warning(
    registry_factory: RegistryFactory, kafka_broker: BrokerHandle
) -> None:
    topic = topic_name()
    ensure_schemas_topic(kafka_broker.bootstrap, topic)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap})
    schema = record("Legacy")
    karapace_value = json.dumps(
        {"subject": "legacy", "version": 1, "id": 5, "schema": schema, "deleted": False}
    )
    for key, value in [
        (b"not json at all", b"{}"),
        (b'{"keytype":"SCHEMA","subject":"broken","version":1,"magic":1}', b"\xff\xfe garbage"),
        (b'{"keytype":"SCHEMA","subject":"broken","version":1,"magic":7}', b"{}"),
        (b'{"keytype":"SCHEMA","subject":"broken","version":2,"magic":1}', b'{"subject":"broken"}'),
        (b'{"magic":1,"keytype":"SCHEMA","subject":"legacy","version":1}', karapace_value.encode()),
        (b'{"keytype":"CONFIG","subject":null,"magic":0}', b'{"compatibilityLevel":"FORWARD"}'),
        (b'{"keytype":"NOOP","magic":0}', None),
    ]:
        producer.produce(topic, key=key, value=value, partition=0)
    producer.flush(10)
    registry = registry_factory(topic)
    with httpx.Client(base_url=registry.url, timeout=30) as api:
        assert api.get("/subjects").json() == ["legacy"]
        assert api.get("/schemas/ids/5").json() == {"schema": schema}
        assert api.get("/config").json() == {"compatibilityLevel": "FORWARD"}
        assert api.post("/subjects/next/versions", json={"schema": record("Next")}).json()["id"] == 6
    warnings = [
        json.loads(line)
        for line in registry.log_file.read_text().splitlines()
        if line.startswith("{") and "corrupt" in line
    ]
    assert len(warnings) == 4
    assert all(w["level"] == "warning" for w in warnings)
    assert any("magic byte 7" in w["reason"] for w in warnings)


def test_topic_that_is_not_single_partition_and_compacted_is_refused(
    registry_factory: RegistryFactory, kafka_broker: BrokerHandle
) -> None:
    topic = topic_name()
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic].result(timeout=30)
    registry = registry_factory(topic, start=False)
    with pytest.raises(ServiceStartError, match=r"must have exactly 1 partition and cleanup\.policy=compact"):
        registry.start()

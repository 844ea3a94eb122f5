"""A broker of a 3-broker cluster SIGKILLed under gateway load: no outage, nothing lost or doubled.

Replication 3 and min.insync.replicas 2 (the cluster defaults): with one broker gone every
partition still has two in-sync replicas, so acks=all writes go on. Every acknowledged event is
in Kafka once and in Silver once, the ledger reconciles; the broker, restarted, catches up
(back in every ISR).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from confluent_kafka.admin import AdminClient

from accord.gateway.testing import TestKey, post_json, start_gateway
from accord.registry.testing import RegistryHandle
from accord.runtime.testing import ClusterHandle
from accord.runtime.waiting import wait_until
from accord.streaming.settings import StreamingSettings
from accord.streaming.testing import Pipeline, envelope, read_events, register_event_schemas

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# three brokers, a registry, a gateway and a Spark run on two shared cores
pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.timeout(1200)]

BATCH = 20
BEFORE_KILL = 15
"""Requests answered before the kill (the load is under way) and again after it."""


class Load:
    """Posts batches of PageView events to the gateway in a loop, keeping every answer."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url, key
        self.answers: list[tuple[int, list[str]]] = []
        self.slowest_s = 0.0
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gateway-load")

    def _run(self) -> None:
        while not self.stopping.is_set():
            now = int(time.time() * 1000)
            events: list[Any] = [
                {
                    "schema": "accord.events.PageView",
                    "payload": {"envelope": envelope(event_time_ms=now), "url": f"https://c/{uuid.uuid4()}"},
                }
                for _ in range(BATCH)
            ]
            ids = [e["payload"]["envelope"]["event_id"] for e in events]
            started = time.monotonic()
            try:
                status = post_json(self.url, self.key, events).status_code
            except httpx.HTTPError:
                status = 0
            self.slowest_s = max(self.slowest_s, time.monotonic() - started)
            self.answers.append((status, ids))

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self._thread.join()

    def wait_for_answers(self, more: int) -> None:
        """Wait until `more` requests beyond those answered now have been answered."""
        target = len(self.answers) + more
        wait_until(lambda: len(self.answers), until=lambda n: n >= target, timeout_s=120, describe="answers")


def partitions(bootstrap: str, topic: str) -> dict[int, Any]:
    """The topic's partitions as the cluster describes them (leader, replicas, ISR)."""
    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    return dict(metadata.topics[topic].partitions)


def test_a_broker_killed_under_load_loses_no_event_and_catches_up(
    cluster_factory: Callable[[int], ClusterHandle],
    spark: SparkSession,
    spark_settings: StreamingSettings,
    tmp_path: Path,
    pytestconfig: pytest.Config,
) -> None:
    from accord.streaming.batch_schemas import BatchSchemaResolver, RegistrySchemas

    cluster = cluster_factory(3)
    topic = cluster.settings.events_topic
    # a broker's metadata can lag the topic's creation by a moment after the cluster starts
    wait_until(
        lambda: partitions(cluster.bootstrap, topic),
        until=lambda found: {len(p.replicas) for p in found.values()} == {3},
        timeout_s=60,
        describe=f"every {topic} partition with 3 replicas in the metadata",
    )

    registry = RegistryHandle(cluster.bootstrap, "_schemas", tmp_path / "registry")
    registry.start()
    try:
        # `_schemas` gets min(3, brokers) replicas, as Confluent's registry gives it
        assert {len(p.replicas) for p in partitions(cluster.bootstrap, "_schemas").values()} == {3}
        register_event_schemas(registry.url, Path(pytestconfig.rootpath) / "schemas" / "avro")
        accepted = _load_through_a_broker_kill(cluster, registry.url, tmp_path)

        settings = spark_settings.model_copy(
            update={
                "lake_uri": str(tmp_path / "lake"),
                "state_dir": tmp_path / "state",
                "kafka_bootstrap": cluster.bootstrap,
                "events_topic": topic,
                "registry_url": registry.url,
                "starting_offsets": "earliest",
            }
        )
        pipeline = Pipeline(spark, settings, BatchSchemaResolver(RegistrySchemas(registry.url), topic))
        # every accepted event in Silver once, no other event in it, and the ledger reconciles
        silver_ids = pipeline.assert_each_in_silver_once(accepted, "broker of a cluster killed")
    finally:
        registry.stop()
    assert set(silver_ids) == accepted


def _load_through_a_broker_kill(cluster: ClusterHandle, registry_url: str, tmp_path: Path) -> set[str]:
    """Kill the leader of partition 0 under load, check Kafka, restart it; the accepted event ids."""
    topic = cluster.settings.events_topic
    before = partitions(cluster.bootstrap, topic)
    victim = cluster.brokers[before[0].leader - 1]
    # a dead leader is replaced once the controller fences it (broker.session.timeout.ms, 9 s):
    # the gateway's wait for the acknowledgement must outlast that
    gateway = start_gateway(
        tmp_path / "gateway", cluster.bootstrap, registry_url, [TestKey("test")], {"delivery_timeout_s": 25}
    )
    try:
        with Load(gateway.url, gateway.write_key) as load:
            load.wait_for_answers(BEFORE_KILL)
            victim.kill()
            load.wait_for_answers(BEFORE_KILL)
    finally:
        gateway.stop()
    statuses = Counter(status for status, _ in load.answers)
    print(f"{len(load.answers)} requests, slowest answer {load.slowest_s:.1f}s, statuses {dict(statuses)}")
    assert set(statuses) == {200}, f"the gateway answered {dict(statuses)} (0: no answer)"
    accepted = {event_id for _, ids in load.answers for event_id in ids}

    after = partitions(cluster.bootstrap, topic)
    assert victim.node_id not in (after[0].leader, *after[0].isrs), "partition 0 has a new leader"
    delivered = read_events(cluster.bootstrap, accepted)
    assert set(delivered) == accepted
    assert {len(records) for records in delivered.values()} == {1}, "each event is in Kafka once"

    victim.start()
    wait_until(
        lambda: partitions(cluster.bootstrap, topic),
        until=lambda now: all(victim.node_id in p.isrs for p in now.values()),
        timeout_s=120,
        describe=f"broker {victim.node_id} back in the ISR of every {topic} partition",
    )
    return accepted

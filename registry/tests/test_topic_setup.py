"""`ensure_schemas_topic` when the broker's metadata lags behind the topic's creation.

A broker answers metadata from its own cache, which learns of a new topic a moment after the
controller created it; the admin client below replays that order of events deterministically.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

from accord.registry import kafka_log
from accord.registry.errors import StoreError
from accord.registry.kafka_log import ensure_schemas_topic

pytestmark = pytest.mark.unit


@dataclass
class TopicMetadata:
    partitions: dict[int, object]
    error: object | None = None


@dataclass
class ClusterMetadata:
    topics: dict[str, TopicMetadata]
    brokers: dict[int, object] = field(default_factory=lambda: {1: object()})


@dataclass
class Setting:
    value: str


def done(value: Any) -> Future[Any]:
    future: Future[Any] = Future()
    future.set_result(value)
    return future


@dataclass
class LaggingAdmin:
    """Shows a created topic only after `lag` more metadata requests (first listed with an error)."""

    lag: int
    brokers: int = 1
    created: list[str] = field(default_factory=list)
    replicas: list[int] = field(default_factory=list)
    since_creation: int = 0
    configs_unknown: int = 0
    """describe_configs answers UNKNOWN_TOPIC_OR_PART this many times (another broker answering)."""

    def __call__(self, conf: dict[str, str]) -> LaggingAdmin:
        return self

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> ClusterMetadata:
        if not self.created:
            return ClusterMetadata({}, dict.fromkeys(range(1, self.brokers + 1), object()))
        self.since_creation += 1
        if self.since_creation <= self.lag // 2:
            return ClusterMetadata({})
        if self.since_creation <= self.lag:
            return ClusterMetadata({self.created[0]: TopicMetadata({}, error="UNKNOWN_TOPIC_OR_PART")})
        return ClusterMetadata({self.created[0]: TopicMetadata({0: object()})})

    def create_topics(self, topics: list[Any]) -> dict[str, Future[None]]:
        self.created.extend(topic.topic for topic in topics)
        self.replicas.extend(topic.replication_factor for topic in topics)
        return {topic.topic: done(None) for topic in topics}

    def describe_configs(self, resources: list[Any]) -> dict[Any, Future[dict[str, Setting]]]:
        if self.configs_unknown:
            self.configs_unknown -= 1
            unknown: Future[dict[str, Setting]] = Future()
            unknown.set_exception(KafkaException(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART)))
            return dict.fromkeys(resources, unknown)
        return {resource: done({"cleanup.policy": Setting("compact")}) for resource in resources}


def test_a_topic_missing_from_the_metadata_just_after_creation_is_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = LaggingAdmin(lag=6)
    monkeypatch.setattr(kafka_log, "AdminClient", admin)
    ensure_schemas_topic("127.0.0.1:1", "_schemas")
    assert admin.created == ["_schemas"]
    assert admin.since_creation == 7


def test_a_topic_that_never_shows_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_log, "AdminClient", LaggingAdmin(lag=10**9))
    with pytest.raises(StoreError, match="does not show in the broker's metadata"):
        ensure_schemas_topic("127.0.0.1:1", "_schemas", timeout_s=0.05)


@pytest.mark.parametrize(("brokers", "replicas"), [(1, 1), (2, 2), (3, 3), (5, 3)])
def test_the_topic_gets_three_replicas_or_as_many_as_there_are_brokers(
    monkeypatch: pytest.MonkeyPatch, brokers: int, replicas: int
) -> None:
    admin = LaggingAdmin(lag=0, brokers=brokers)
    monkeypatch.setattr(kafka_log, "AdminClient", admin)
    ensure_schemas_topic("127.0.0.1:1", "_schemas")
    assert admin.replicas == [replicas]


def test_a_broker_that_does_not_know_the_new_topic_yet_is_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = LaggingAdmin(lag=0, brokers=3, configs_unknown=3)
    monkeypatch.setattr(kafka_log, "AdminClient", admin)
    ensure_schemas_topic("127.0.0.1:1", "_schemas")
    assert admin.configs_unknown == 0

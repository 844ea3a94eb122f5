"""Fixtures the gateway's integration tests share: a Click schema per module, topics read back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.registry.testing import RegistryHandle
from accord.runtime.testing import BrokerHandle, TopicReader

from .helpers import Registered, register_click


@pytest.fixture(scope="module")
def clicks(registry_server: RegistryHandle) -> Registered:
    """A Click schema registered for the module, in a namespace of its own."""
    return register_click(registry_server.url)


@pytest.fixture
def events_topic(kafka_broker: BrokerHandle) -> Iterator[TopicReader]:
    """What the test produces to the events topic."""
    with TopicReader(kafka_broker.bootstrap, kafka_broker.settings.events_topic) as reader:
        yield reader


@pytest.fixture
def deadletters(kafka_broker: BrokerHandle) -> Iterator[TopicReader]:
    """What the test produces to the dead-letter topic."""
    with TopicReader(kafka_broker.bootstrap, kafka_broker.settings.deadletter_topic) as reader:
        yield reader

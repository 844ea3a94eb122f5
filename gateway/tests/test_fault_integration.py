"""Losing the broker while clients send: acknowledged events survive, the rest are answered 503."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from accord.gateway.testing import GatewayFactory
from accord.registry.testing import RegistryHandle
from accord.runtime.testing import BrokerHandle, TopicReader
from accord.wire.headers import EVENT_ID

from .helpers import Sender, register_click

# a drill: a private broker is started, stopped and started again while clients send
pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_every_acknowledged_event_survives_a_broker_outage(
    broker_factory: Callable[[], BrokerHandle],
    gateway_factory: GatewayFactory,
    registry_server: RegistryHandle,
) -> None:
    broker = broker_factory()
    clicks = register_click(registry_server.url)
    gateway = gateway_factory(bootstrap=broker.bootstrap, delivery_timeout_s=3, retry_after_s=1)
    sender = Sender(gateway.url, gateway.write_key, clicks.framed)
    thread = threading.Thread(target=sender.run)
    thread.start()
    try:
        sender.wait_for(200, 5)
        broker.stop()
        sender.wait_for(503, 2)
        broker.start()
        sender.wait_for(200, 5)
    finally:
        sender.stopping.set()
        thread.join()

    statuses = {status for status, _, _ in sender.answers}
    assert statuses == {200, 503}
    assert all(retry_after == "1" for status, _, retry_after in sender.answers if status == 503)
    accepted = {event_id for status, ids, _ in sender.answers if status == 200 for event_id in ids}
    with TopicReader(broker.bootstrap, broker.settings.events_topic, from_start=True) as reader:
        stored = {record.headers[EVENT_ID] for record in reader.read(len(accepted), timeout_s=30)}
    assert accepted <= stored

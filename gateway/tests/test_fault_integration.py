"""Losing the broker while clients send: acknowledged events survive, the rest are answered 503."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from accord.gateway.testing import GatewayFactory, now_rfc3339
from accord.registry.testing import RegistryHandle
from accord.runtime.testing import BrokerHandle, TopicReader
from accord.runtime.waiting import wait_until
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE as AVRO_BATCH
from accord.wire.framing import batch_body
from accord.wire.headers import EVENT_ID

from .helpers import register_click
from .schemas import click

# a drill: a private broker is started, stopped and started again while clients send
pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@dataclass
class Sender:
    """Sends batches of 10 events in a loop and remembers how each request was answered."""

    url: str
    key: str
    encode: Callable[[dict[str, object]], bytes]
    answers: list[tuple[int, list[str], str | None]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stopping.is_set():
                records = [click(user_id=f"u{i}") for i in range(10)]
                response = client.post(
                    f"{self.url}/v1/events",
                    content=batch_body([self.encode(r) for r in records]),
                    headers={
                        "Authorization": f"Bearer {self.key}",
                        "Content-Type": AVRO_BATCH,
                        "Accord-Sent-At": now_rfc3339(),
                    },
                )
                ids = [str(r["envelope"]["event_id"]) for r in records]
                self.answers.append((response.status_code, ids, response.headers.get("Retry-After")))
                time.sleep(0.05)  # a steady client, not a flood: the outage must fall between requests

    def count(self, status: int) -> int:
        return sum(1 for answer in self.answers if answer[0] == status)

    def wait_for(self, status: int, more: int, timeout_s: float = 60) -> None:
        target = self.count(status) + more
        wait_until(
            lambda: self.count(status),
            until=lambda count: count >= target,
            timeout_s=timeout_s,
            interval_s=0.1,
            describe=f"{more} more answers {status}",
        )


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

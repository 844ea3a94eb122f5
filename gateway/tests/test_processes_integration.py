"""Several gateway processes on one port (`workers`): their counts add up, a killed one loses nothing.

The workers share the listening socket, so which one serves a connection is the kernel's
choice; the tests find out from the workers' own sockets (psutil) and hold one keep-alive
connection to each, so that what each worker counted and answers is known.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
from collections import Counter

import orjson
import psutil
import pytest

from accord.gateway.testing import GatewayFactory, GatewayHandle, now_rfc3339
from accord.registry.testing import RegistryHandle
from accord.runtime.testing import BrokerHandle, TopicReader
from accord.runtime.waiting import wait_until
from accord.sdk import Client, ClientConfig
from accord.sdk.events import Envelope, PageView
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE as AVRO_BATCH
from accord.wire.framing import batch_body
from accord.wire.headers import EVENT_ID

from .helpers import Registered, register_contract
from .schemas import click

pytestmark = pytest.mark.integration


def _running_workers(
    gateway: GatewayHandle, count: int, besides: frozenset[int] = frozenset()
) -> list[psutil.Process]:
    """The gateway's `count` worker processes once each serves (none of the pids in `besides`)."""
    return wait_until(
        gateway.workers,
        until=lambda workers: len(workers) == count and not {w.pid for w in workers} & besides,
        timeout_s=60,
        describe=f"{count} gateway workers serving",
    )


def _serving(workers: list[psutil.Process], client_port: int) -> int | None:
    """The pid of the worker holding the connection from `client_port`."""
    for worker in workers:
        for connection in worker.net_connections(kind="tcp"):
            if connection.raddr and connection.raddr.port == client_port:
                return worker.pid
    return None


def connection_to_each(
    gateway: GatewayHandle, workers: list[psutil.Process]
) -> dict[int, http.client.HTTPConnection]:
    """One answered keep-alive connection per worker, by pid (opening new ones until each has one)."""
    held: dict[int, http.client.HTTPConnection] = {}
    for _ in range(200):
        connection = http.client.HTTPConnection(gateway.settings.host, gateway.settings.port, timeout=30)
        _get(connection, "/healthz")  # answered, so accepted by a worker
        pid = _serving(workers, connection.sock.getsockname()[1])
        if pid is None or pid in held:
            connection.close()
        else:
            held[pid] = connection
        if len(held) == len(workers):
            return held
    pytest.fail(f"the kernel gave every connection to the same worker: {sorted(held)}")


def _get(connection: http.client.HTTPConnection, path: str, key: str | None = None) -> bytes:
    connection.request("GET", path, headers={"Authorization": f"Bearer {key}"} if key else {})
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200, body
    return body


def _post(connection: http.client.HTTPConnection, key: str, framed: list[bytes]) -> int:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": AVRO_BATCH, "Accord-Sent-At": now_rfc3339()}
    connection.request("POST", "/v1/events", body=batch_body(framed), headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status


def _totals(connection: http.client.HTTPConnection, key: str) -> tuple[int, int, int]:
    hours = orjson.loads(_get(connection, "/v1/stats", key))["hours"]
    accepted, duplicates, rejected = (
        sum(h[name] for h in hours) for name in ("accepted", "duplicates", "rejected")
    )
    return accepted, duplicates, rejected


def test_two_processes_on_one_port_answer_the_counts_of_both(
    gateway_factory: GatewayFactory, clicks: Registered
) -> None:
    gateway = gateway_factory(workers=2)
    workers = _running_workers(gateway, 2)
    first, second = connection_to_each(gateway, workers).values()
    key = gateway.write_key

    assert _post(first, key, [clicks.framed(click()) for _ in range(3)]) == 200
    repeated = clicks.framed(click())
    assert _post(second, key, [repeated, *(clicks.framed(click()) for _ in range(4))]) == 200
    assert _post(second, key, [repeated, b"\x09broken"]) == 207

    # each worker answers for both: 3 + 5 accepted, the repeat a duplicate, one rejected
    for connection in (first, second):
        assert _totals(connection, key) == (8, 1, 1)
        metrics = _get(connection, "/metrics").decode()
        assert 'accord_gateway_events_total{outcome="accepted",reason=""} 8.0' in metrics
        assert 'accord_gateway_events_total{outcome="duplicate",reason=""} 1.0' in metrics
        assert 'accord_gateway_events_total{outcome="rejected",reason="bad_magic_byte"} 1.0' in metrics
        assert 'accord_gateway_requests_total{route="events",status="200"} 2.0' in metrics
        assert "accord_gateway_produce_latency_seconds_count 3.0" in metrics
        assert "accord_gateway_hourly_events" not in metrics, "the hourly counts are /v1/stats' own"

    # a killed worker is replaced, and what it counted still counts, in both that answer now
    killed = _serving(workers, first.sock.getsockname()[1])
    assert killed is not None
    os.kill(killed, signal.SIGKILL)
    for connection in connection_to_each(gateway, _running_workers(gateway, 2, frozenset({killed}))).values():
        assert _totals(connection, key) == (8, 1, 1)
        assert "accord_gateway_in_flight_requests 0.0" in _get(connection, "/metrics").decode()
        connection.close()


@pytest.fixture(scope="module")
def page_views(registry_server: RegistryHandle) -> Registered:
    """The platform's PageView contract, which the SDK's generated class sends."""
    return register_contract(registry_server.url, "PageView")


def test_a_worker_sigkilled_under_sdk_load_loses_no_sent_event(
    gateway_factory: GatewayFactory, kafka_broker: BrokerHandle, page_views: Registered
) -> None:
    gateway = gateway_factory(workers=2)
    workers = _running_workers(gateway, 2)
    events = [
        PageView(envelope=Envelope(user_id=f"u{n % 17}"), url=f"https://d.example/{n}") for n in range(3000)
    ]
    config = ClientConfig(linger_s=0.02, batch_size=50, backoff_base_s=0.1, backoff_max_s=1.0)
    with TopicReader(kafka_broker.bootstrap, kafka_broker.settings.events_topic) as reader:
        client = Client(gateway.url, gateway.write_key, config)

        def produce() -> None:
            for event in events:
                client.track(event)
                time.sleep(0.002)

        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        wait_until(
            lambda: client.counters.sent, until=lambda sent: sent >= 500, timeout_s=60, describe="500 sent"
        )
        # the worker holding the client's connection: what it was answering is cut off (the
        # client resends it), or, idle, the connection is dropped and the client opens another
        ours = psutil.Process().net_connections(kind="tcp")
        client_ports = [c.laddr.port for c in ours if c.raddr and c.raddr.port == gateway.settings.port]
        killed = next(pid for port in client_ports if (pid := _serving(workers, port)) is not None)
        os.kill(killed, signal.SIGKILL)
        _running_workers(gateway, 2, besides=frozenset({killed}))
        producer.join()
        assert client.close(timeout=120)
        counters = client.counters
        assert (counters.sent, counters.dropped, counters.rejected) == (len(events), 0, 0)
        sent = {str(event.envelope.event_id) for event in events}
        counts = Counter(record.headers.get(EVENT_ID) for record in reader.read(len(sent), timeout_s=60))
    lost = {event_id for event_id in sent if counts[event_id] == 0}
    duplicated = {event_id for event_id in sent if counts[event_id] > 1}
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(  # the drill's figures, shown with `pytest -s`
        f"\nworker drill: sent {len(sent):,}, found {len(sent) - len(lost):,}, lost {len(lost):,}, "
        f"duplicated in Kafka {len(duplicated):,}, resent {counters.retried:,}, load average {load}"
    )
    assert not lost, f"{len(lost)} sent events are not in Kafka, e.g. {sorted(lost)[:3]}"
    # a request the killed worker produced but never answered is resent; the survivor's dedup
    # window never saw it, so only such resends may be in Kafka twice (Silver keeps one)
    assert len(duplicated) <= counters.retried

"""The services' logs are JSON lines without library chatter: the real broker and a real gateway."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from accord.gateway.testing import GatewayFactory
from accord.registry.testing import RegistryHandle
from accord.runtime.testing import BrokerHandle
from accord.sdk import Client
from accord.sdk.events import Envelope, PageView

pytestmark = pytest.mark.integration


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the log parsed as JSON (a line that is not fails the test, naming it)."""
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"{path.name}:{number} is not JSON: {line[:200]}")
    return entries


def test_every_line_of_the_broker_log_is_json(kafka_broker: BrokerHandle) -> None:
    entries = json_lines(kafka_broker.supervisor.log_file(kafka_broker.broker.name))
    assert any("Kafka Server started" in entry["msg"] for entry in entries)
    assert {"ts", "level", "logger", "msg"} <= set(entries[0])


def test_every_line_of_the_registry_log_is_json(
    registered_schemas: str, registry_server: RegistryHandle
) -> None:
    entries = json_lines(registry_server.log_file)
    assert any(entry["logger"].startswith("accord.registry") for entry in entries)
    assert not [
        entry for entry in entries if entry["level"] == "info" and not entry["logger"].startswith("accord")
    ]


def test_the_gateway_log_has_its_own_facts_and_no_http_client_lines(
    gateway_factory: GatewayFactory, registered_schemas: str
) -> None:
    gateway = gateway_factory(keys=[], registry_url=registered_schemas)
    with Client(gateway.url, "dev-write-key") as client:
        client.track(PageView(envelope=Envelope(user_id="log-reader"), url="https://example.com/pricing"))
        assert client.flush(30)
        assert client.counters.sent == 1  # the gateway asked the registry for the schema
    gateway.stop()

    entries = json_lines(gateway.log_file)
    loggers = {entry["logger"] for entry in entries}
    assert "accord.gateway.app" in loggers, "the gateway's own INFO lines stay"
    assert not [entry for entry in entries if entry["logger"].startswith(("httpx", "httpcore"))]

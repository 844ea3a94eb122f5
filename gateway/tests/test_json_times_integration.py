"""JSON times as people write them, against the real gateway, broker and registry."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
import pytest

from accord.gateway.testing import GatewayHandle
from accord.runtime.testing import TopicReader
from accord.wire.headers import SENT_AT

from .helpers import Registered
from .schemas import click

pytestmark = pytest.mark.integration


def _post(gateway: GatewayHandle, body: object) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/v1/events",
        json=body,
        headers={"Authorization": f"Bearer {gateway.write_key}"},
        timeout=30,
    )


def test_rfc3339_event_times_and_epoch_millis_sent_at_are_produced_as_millis(
    gateway_server: GatewayHandle, clicks: Registered, events_topic: TopicReader
) -> None:
    now_ms = int(time.time() * 1000)
    record = click()
    happened = datetime.fromtimestamp((now_ms - 1_500) / 1000, UTC)
    record["envelope"]["event_time"] = happened.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    response = _post(
        gateway_server, {"sent_at": now_ms, "events": [{"schema": clicks.subject, "payload": record}]}
    )

    assert response.status_code == 200, response.text
    (produced,) = events_topic.read(1)
    assert clicks.decode(produced.value)["envelope"]["event_time"] == happened
    assert produced.headers[SENT_AT] == str(now_ms)


@pytest.mark.parametrize("event_time", ["yesterday", "2026-01-31 12:00", True])
def test_an_event_time_that_does_not_parse_is_rejected_naming_the_field(
    gateway_server: GatewayHandle, clicks: Registered, event_time: object
) -> None:
    record = click()
    record["envelope"]["event_time"] = event_time

    response = _post(
        gateway_server,
        {"sent_at": int(time.time() * 1000), "events": [{"schema": clicks.subject, "payload": record}]},
    )

    assert response.status_code == 422
    (rejected,) = response.json()["rejected"]
    assert rejected["field"] == "envelope.event_time"
    assert rejected["code"] == ("wrong_type" if event_time is True else "invalid_timestamp")


def test_a_sent_at_that_does_not_parse_is_a_bad_request_naming_it(
    gateway_server: GatewayHandle, clicks: Registered
) -> None:
    response = _post(
        gateway_server, {"sent_at": "soon", "events": [{"schema": clicks.subject, "payload": click()}]}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_sent_at"
    assert "sent_at" in response.json()["error"]["message"]

"""Browsers against the real gateway: CORS per write key, beacon bodies, one error envelope everywhere."""

from __future__ import annotations

import json

import httpx
import pytest

from accord.gateway.testing import GatewayFactory, GatewayHandle, TestKey, now_rfc3339
from accord.runtime.testing import TopicReader

from .helpers import Registered
from .schemas import click

pytestmark = pytest.mark.integration

SHOP = "https://shop.example.com"


def test_a_beacon_to_v1_events_is_read_as_json_with_the_key_in_the_body_or_query(
    gateway_factory: GatewayFactory, clicks: Registered, events_topic: TopicReader
) -> None:
    gateway = gateway_factory(keys=[TestKey("web", origins=(SHOP,))])
    key = gateway.write_key
    in_body = {
        "writeKey": key,
        "sent_at": now_rfc3339(),
        "events": [{"schema": clicks.subject, "payload": click()}],
    }
    in_query = {"sent_at": now_rfc3339(), "events": [{"schema": clicks.subject, "payload": click()}]}

    first = httpx.post(
        f"{gateway.url}/v1/events",
        content=json.dumps(in_body),
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": SHOP},
        timeout=30,
    )
    second = httpx.post(
        f"{gateway.url}/v1/events?writeKey={key}",
        content=json.dumps(in_query),
        headers={"Content-Type": "text/plain"},
        timeout=30,
    )
    anonymous = httpx.post(
        f"{gateway.url}/v1/events",
        content=json.dumps(in_query),
        headers={"Content-Type": "text/plain"},
        timeout=30,
    )

    assert first.status_code == 200, first.text
    assert first.headers["access-control-allow-origin"] == SHOP
    assert first.headers["vary"] == "Origin"
    assert second.status_code == 200, second.text
    assert len(events_topic.read(2)) == 2
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "missing_write_key"


def test_origins_are_allowed_per_key_and_errors_keep_the_cors_headers(
    gateway_factory: GatewayFactory, clicks: Registered
) -> None:
    web, server = TestKey("web", origins=(SHOP,)), TestKey("server", origins=())
    gateway = gateway_factory(keys=[web, server])
    url = f"{gateway.url}/v1/events"

    allowed = httpx.options(
        url, headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"}, timeout=10
    )
    unknown = httpx.options(
        url,
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert "Authorization" in allowed.headers["access-control-allow-headers"]
    assert unknown.status_code == 403
    assert "access-control-allow-origin" not in unknown.headers

    bad_body = httpx.post(
        url,
        content=b"{not json",
        headers={"Authorization": f"Bearer {web.secret}", "Content-Type": "application/json", "Origin": SHOP},
        timeout=10,
    )
    assert bad_body.status_code == 400
    assert bad_body.headers["access-control-allow-origin"] == SHOP  # the page can read why
    server_key_from_a_page = httpx.post(
        url,
        json={"sent_at": now_rfc3339(), "events": [{"schema": clicks.subject, "payload": click()}]},
        headers={"Authorization": f"Bearer {server.secret}", "Origin": SHOP},
        timeout=10,
    )
    assert server_key_from_a_page.status_code == 403
    assert server_key_from_a_page.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in server_key_from_a_page.headers


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nowhere", 404, "not_found"),
        ("POST", "/v1/nothing", 404, "not_found"),
        ("GET", "/v1/events", 405, "method_not_allowed"),
        ("DELETE", "/v1/batch", 405, "method_not_allowed"),
        ("PUT", "/healthz", 405, "method_not_allowed"),
    ],
)
def test_unknown_routes_and_methods_answer_the_error_envelope(
    gateway_server: GatewayHandle, method: str, path: str, status: int, code: str
) -> None:
    response = httpx.request(method, f"{gateway_server.url}{path}", timeout=10)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert set(response.json()) == {"error"}
    if status == 405:
        assert response.headers["allow"]

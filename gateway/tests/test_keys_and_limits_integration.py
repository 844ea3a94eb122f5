"""Write keys, subjects they may send, and the request limits, against real gateways."""

from __future__ import annotations

import httpx
import pytest

from accord.gateway.testing import GatewayFactory, TestKey, now_rfc3339, post_json
from accord.registry.testing import RegistryHandle

from .helpers import Registered, post_avro, register_click
from .schemas import click

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def allowed(registry_server: RegistryHandle) -> Registered:
    return register_click(registry_server.url)


@pytest.fixture(scope="module")
def forbidden(registry_server: RegistryHandle) -> Registered:
    return register_click(registry_server.url)


def test_a_key_may_send_only_its_subjects(
    gateway_factory: GatewayFactory, allowed: Registered, forbidden: Registered
) -> None:
    narrow = TestKey("narrow", subjects=(allowed.subject,))
    gateway = gateway_factory(keys=[narrow])

    only_forbidden = post_avro(gateway.url, narrow.secret, [forbidden.framed(click())])
    forbidden_json = post_json(
        gateway.url, narrow.secret, [{"schema": forbidden.subject, "payload": click()}]
    )
    mixed = post_avro(gateway.url, narrow.secret, [allowed.framed(click()), forbidden.framed(click())])

    assert only_forbidden.status_code == 403
    assert only_forbidden.json()["error"]["code"] == "unauthorized_subject"
    assert forbidden.subject in only_forbidden.json()["error"]["message"]
    assert forbidden_json.status_code == 403
    assert mixed.status_code == 207
    assert mixed.json()["accepted"] == 1
    assert [(r["index"], r["code"]) for r in mixed.json()["rejected"]] == [(1, "unauthorized_subject")]


def test_batch_size_body_size_and_rate_are_limited(
    gateway_factory: GatewayFactory, allowed: Registered
) -> None:
    gateway = gateway_factory(
        max_batch_events=4, max_body_bytes=20_000, rate_limit_events_per_s=1, rate_limit_burst=6
    )

    too_many = post_avro(gateway.url, gateway.write_key, [allowed.framed(click()) for _ in range(5)])
    too_big = post_json(
        gateway.url, gateway.write_key, [{"schema": allowed.subject, "payload": click(button="x" * 30_000)}]
    )
    within = post_avro(gateway.url, gateway.write_key, [allowed.framed(click()) for _ in range(4)])
    over_rate = post_avro(gateway.url, gateway.write_key, [allowed.framed(click()) for _ in range(4)])

    assert too_many.status_code == 413
    assert too_many.json()["error"]["code"] == "too_many_events"
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "body_too_large"
    assert within.status_code == 200
    assert over_rate.status_code == 429
    assert over_rate.json()["error"]["code"] == "rate_limited"
    assert int(over_rate.headers["Retry-After"]) >= 1


def test_the_development_key_works_when_no_keys_file_is_configured(
    gateway_factory: GatewayFactory, allowed: Registered
) -> None:
    gateway = gateway_factory(keys=[])
    assert gateway.write_key == "dev-write-key"
    response = httpx.post(
        f"{gateway.url}/v1/events",
        json={"sent_at": now_rfc3339(), "events": [{"schema": allowed.subject, "payload": click()}]},
        headers={"Authorization": "Bearer dev-write-key"},
    )
    assert response.status_code == 200, response.text

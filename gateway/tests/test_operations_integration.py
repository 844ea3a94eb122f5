"""Schema resolution for the SDK, counts, health, readiness and metrics of the real gateway."""

from __future__ import annotations

import time

import httpx
import pytest

from accord.gateway.testing import GatewayFactory, GatewayHandle, post_json
from accord.registry.testing import RegistryFactory, RegistryHandle

from .helpers import Registered, post_avro, register, register_click
from .schemas import click, click_schema

pytestmark = pytest.mark.integration


def _resolve(handle: GatewayHandle, body: object, key: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{handle.url}/v1/schemas/resolve",
        json=body,
        headers={"Authorization": f"Bearer {key or handle.write_key}"},
        timeout=30,
    )


def test_resolve_finds_the_version_with_the_same_canonical_form(
    gateway_server: GatewayHandle, registry_server: RegistryHandle
) -> None:
    first = register_click(registry_server.url)
    evolved = dict(
        first.schema, fields=[*first.schema["fields"], {"name": "extra", "type": "int", "default": 0}]
    )
    second = register(registry_server.url, evolved)
    # the same schema written differently (doc, field order of attributes) still matches
    reworded = dict(first.schema, doc="a click")

    found_first = _resolve(gateway_server, {"subject": first.subject, "schema": reworded})
    found_second = _resolve(gateway_server, {"subject": first.subject, "schema": evolved})

    assert found_first.json() == {"subject": first.subject, "id": first.schema_id, "version": 1}
    assert found_second.json() == {"subject": first.subject, "id": second.schema_id, "version": 2}


def test_resolve_answers_404_for_an_unregistered_schema_or_subject(
    gateway_server: GatewayHandle, clicks: Registered
) -> None:
    other = click_schema("test.gateway.unregistered")
    wrong_schema = _resolve(gateway_server, {"subject": clicks.subject, "schema": other})
    wrong_subject = _resolve(gateway_server, {"subject": "events-test.gateway.Nothing", "schema": other})
    for response in (wrong_schema, wrong_subject):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "schema_not_registered"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"schema": {"type": "string"}}, "invalid_request"),
        (
            {
                "subject": "events-x.Y",
                "schema": {"type": "record", "name": "Y", "fields": [{"name": "a", "type": "nope"}]},
            },
            "invalid_schema",
        ),
        ({"subject": "events-x.Y", "schema": 5}, "invalid_schema"),
        ({"subject": "events-x.Y", "schema": "{not json"}, "invalid_schema"),
    ],
)
def test_resolve_refuses_malformed_requests_with_400(
    gateway_server: GatewayHandle, body: object, code: str
) -> None:
    response = _resolve(gateway_server, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_resolve_needs_a_key_allowed_the_subject(gateway_server: GatewayHandle, clicks: Registered) -> None:
    forbidden = _resolve(gateway_server, {"subject": "accord.common.Envelope", "schema": clicks.schema})
    unknown_key = _resolve(gateway_server, {"subject": clicks.subject, "schema": clicks.schema}, key="nope")
    assert forbidden.status_code == 403
    assert unknown_key.status_code == 401


def _stats(handle: GatewayHandle, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{handle.url}/v1/stats", headers=headers, timeout=30)


def test_stats_count_accepted_duplicate_and_rejected_events_per_hour(
    gateway_factory: GatewayFactory, clicks: Registered
) -> None:
    gateway = gateway_factory()
    assert _stats(gateway, gateway.write_key).json() == {"hours": []}
    framed = [clicks.framed(click()) for _ in range(3)]
    post_avro(gateway.url, gateway.write_key, framed)
    post_avro(gateway.url, gateway.write_key, [framed[0], b"\x09broken"])

    hours = _stats(gateway, gateway.write_key).json()["hours"]
    assert len(hours) == 1
    assert hours[0]["hour"].endswith(":00:00Z")
    assert (hours[0]["accepted"], hours[0]["duplicates"], hours[0]["rejected"]) == (3, 1, 1)

    metrics = httpx.get(f"{gateway.url}/metrics").text
    assert 'accord_gateway_events_total{outcome="accepted",reason=""} 3.0' in metrics
    assert 'accord_gateway_events_total{outcome="rejected",reason="bad_magic_byte"} 1.0' in metrics
    assert 'accord_gateway_requests_total{route="events",status="207"} 1.0' in metrics
    assert "accord_gateway_produce_latency_seconds_count 2.0" in metrics
    assert "accord_gateway_in_flight_requests 0.0" in metrics


def test_stats_need_a_valid_write_key(gateway_server: GatewayHandle) -> None:
    for key, code in ((None, "missing_write_key"), ("not-a-key", "invalid_write_key")):
        refused = _stats(gateway_server, key)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == code
    assert _stats(gateway_server, gateway_server.write_key).status_code == 200


def test_health_and_readiness(gateway_server: GatewayHandle) -> None:
    assert httpx.get(f"{gateway_server.url}/healthz").status_code == 200
    ready = httpx.get(f"{gateway_server.url}/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"kafka": True, "registry": True}}


def test_a_registry_outage_costs_only_schemas_not_yet_cached(
    gateway_factory: GatewayFactory, registry_factory: RegistryFactory
) -> None:
    registry = registry_factory()
    known, unseen = register_click(registry.url), register_click(registry.url)
    gateway = gateway_factory(registry_url=registry.url, latest_ttl_s=1)
    assert post_avro(gateway.url, gateway.write_key, [known.framed(click())]).status_code == 200
    assert (
        post_json(gateway.url, gateway.write_key, [{"schema": known.subject, "payload": click()}]).status_code
        == 200
    )
    registry.stop()
    # letting the cache expire is the point: after latest_ttl_s the cached latest version of
    # `known` is stale, and no state of the gateway says so
    time.sleep(1.5)

    cached = post_avro(gateway.url, gateway.write_key, [known.framed(click())])
    stale_latest = post_json(gateway.url, gateway.write_key, [{"schema": known.subject, "payload": click()}])
    uncached = post_avro(gateway.url, gateway.write_key, [unseen.framed(click())])
    ready = httpx.get(f"{gateway.url}/readyz", timeout=10)

    assert cached.status_code == 200
    assert stale_latest.status_code == 200
    assert uncached.status_code == 503
    assert uncached.json()["error"]["code"] == "registry_unavailable"
    assert int(uncached.headers["Retry-After"]) > 0
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "checks": {"kafka": True, "registry": False}}
    assert httpx.get(f"{gateway.url}/healthz").status_code == 200

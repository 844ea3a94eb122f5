"""Prometheus `/metrics` of a real registry: requests by route and status, state, registrations."""

from __future__ import annotations

import json

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from accord.registry.testing import RegistryFactory

pytestmark = pytest.mark.integration


def record(name: str, *fields: str) -> str:
    return json.dumps(
        {"type": "record", "name": name, "fields": [{"name": f, "type": "string"} for f in fields]}
    )


def samples(api: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = api.get("/metrics", headers={"Accept": "text/plain;version=0.0.4"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_requests_registrations_and_state(registry_factory: RegistryFactory) -> None:
    users = {"ci": {"password": "secret", "write": True}}
    registry = registry_factory(users=users)
    with httpx.Client(base_url=registry.url, timeout=30, auth=("ci", "secret")) as api:
        first = api.post("/subjects/a-value/versions", json={"schema": record("A", "x")})
        assert first.status_code == 200
        assert api.post("/subjects/a-value/versions", json={"schema": record("A", "x")}).status_code == 200
        assert api.post("/subjects/b-value/versions", json={"schema": record("A", "x")}).status_code == 200
        assert (
            api.post("/subjects/b-value/versions", json={"schema": record("A", "x", "y")}).status_code == 409
        )
        assert api.post("/subjects/c-value/versions", json={"schema": record("C", "x")}).status_code == 200
        assert api.get(f"/schemas/ids/{first.json()['id']}").status_code == 200
        assert api.get("/schemas/ids/999").status_code == 404
        assert api.get("/no/such/route").status_code == 404

    # open like /_health: a scraper needs no registry user
    with httpx.Client(base_url=registry.url, timeout=30) as anonymous:
        found = samples(anonymous)
        assert anonymous.get("/subjects").status_code == 401

    register = "/subjects/{subject:path}/versions"
    assert value(found, "accord_registry_requests_total", route=register, method="POST", status="200") == 4
    assert value(found, "accord_registry_requests_total", route=register, method="POST", status="409") == 1
    by_id = "/schemas/ids/{schema_id}"
    assert value(found, "accord_registry_requests_total", route=by_id, method="GET", status="200") == 1
    assert value(found, "accord_registry_requests_total", route=by_id, method="GET", status="404") == 1
    assert value(found, "accord_registry_requests_total", route="unmatched", method="GET", status="404") == 1

    count = "accord_registry_registration_seconds_count"
    assert value(found, count, outcome="registered") == 3
    assert value(found, count, outcome="existing") == 1
    assert value(found, count, outcome="refused") == 1
    assert value(found, "accord_registry_registration_seconds_sum", outcome="registered") > 0

    assert value(found, "accord_registry_schemas") == 2
    assert value(found, "accord_registry_subjects") == 3
    assert value(found, "accord_registry_reader_lag_records") == 0
    assert value(found, "accord_registry_ready") == 1

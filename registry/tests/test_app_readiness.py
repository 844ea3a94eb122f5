"""The application in process, without Kafka: readiness gating and the schema size limit."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from accord.registry.app import create_app
from accord.registry.kafka_log import Progress
from accord.registry.operations import Registry
from accord.registry.settings import RegistrySettings
from accord.registry.store import SchemaStore

pytestmark = pytest.mark.unit


def test_requests_wait_for_the_topic_to_be_read_and_health_reports_progress() -> None:
    state = {"progress": Progress(applied=120, end=500, ready=False)}
    app = create_app(Registry(SchemaStore(), None), RegistrySettings(), lambda: state["progress"])
    with TestClient(app) as http:
        replaying = http.get("/subjects")
        assert replaying.status_code == 503
        assert replaying.headers["retry-after"] == "1"
        assert replaying.json() == {
            "error_code": 50002,
            "message": "Registry is reading its schemas topic: 120 of 500 records",
        }
        health = http.get("/_health")
        assert health.status_code == 503
        assert health.json() == {"ready": False, "records_read": 120, "records_at_start": 500}
        state["progress"] = Progress(applied=500, end=500, ready=True)
        assert http.get("/subjects").json() == []
        assert http.get("/_health").status_code == 200


def test_schema_larger_than_the_limit_is_refused() -> None:
    settings = RegistrySettings(max_schema_bytes=100)
    app = create_app(Registry(SchemaStore(), None), settings, lambda: Progress(0, 0, True))
    big = json.dumps(
        {"type": "record", "name": "Big", "fields": [{"name": f"f{i}", "type": "int"} for i in range(20)]}
    )
    with TestClient(app) as http:
        refused = http.post("/subjects/big/versions", json={"schema": big})
    assert refused.status_code == 422
    assert refused.json()["error_code"] == 42209
    assert "limit is 100" in refused.json()["message"]

"""The OpenAPI document describes the Segment-spec routes, beacons and preflights."""

from __future__ import annotations

import pytest

from accord.gateway.app import create_app
from accord.gateway.settings import GatewaySettings

pytestmark = pytest.mark.unit

SPEC = create_app(GatewaySettings()).openapi()


@pytest.mark.parametrize("call", ["batch", "track", "page", "screen", "identify"])
def test_each_segment_route_is_documented_with_its_bodies_answers_and_key(call: str) -> None:
    operation = SPEC["paths"][f"/v1/{call}"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json", "text/plain"}
    assert {"200", "207", "422", "401", "403"} <= set(operation["responses"])
    assert operation["responses"]["207"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SegmentResult"
    }
    assert operation["security"] == [{"writeKey": []}]


def test_segment_bodies_and_results_are_components() -> None:
    components = SPEC["components"]["schemas"]
    assert "messageId" in components["SegmentMessage"]["required"]
    assert "deadlettered" in components["SegmentResult"]["properties"]
    assert components["SegmentBatch"]["properties"]["batch"]["items"] == {
        "$ref": "#/components/schemas/SegmentMessage"
    }


def test_preflights_are_documented_without_credentials() -> None:
    for path in ("/v1/events", "/v1/batch"):
        preflight = SPEC["paths"][path]["options"]
        assert "security" not in preflight
        assert set(preflight["responses"]) >= {"204", "403"}

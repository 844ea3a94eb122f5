"""Property-based fuzzing of the real gateway from the OpenAPI document it serves.

Each operation gets `ACCORD_FUZZ_CASES` generated cases (15 by default, so that the test run
stays short); the long run, 10,000 cases and more in one go, is `bench/gateway/fuzz.py`.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accord.gateway.app import create_app
from accord.gateway.settings import GatewaySettings
from accord.gateway.testing import GatewayHandle
from accord.wire.framing import AVRO_BATCH_MEDIA_TYPE as AVRO_BATCH

pytestmark = pytest.mark.integration

# The document is built from the application object so that test cases exist at collection
# time; the first test checks that the running gateway serves exactly this document.
SPEC = create_app(GatewaySettings()).openapi()
schema = schemathesis.openapi.from_dict(SPEC)
CASES_PER_OPERATION = int(os.environ.get("ACCORD_FUZZ_CASES", "15"))


@schemathesis.serializer(AVRO_BATCH)
def _avro_batch(_context: Any, value: Any) -> bytes:
    # generated binary bodies are arbitrary bytes: exactly what a broken client would send
    return value if isinstance(value, bytes) else str(value).encode()


def test_the_gateway_serves_the_fuzzed_document(gateway_server: GatewayHandle) -> None:
    assert httpx.get(f"{gateway_server.url}/openapi.json").json() == SPEC


@schema.parametrize()
@settings(max_examples=CASES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_own_spec_and_never_fails_with_5xx(
    case: Any, gateway_server: GatewayHandle
) -> None:
    case.call_and_validate(
        base_url=gateway_server.url,
        headers={"Authorization": f"Bearer {gateway_server.write_key}"},
        # a well-formed batch is still answered 422 when its events break their registered schemas,
        # which the OpenAPI document cannot express
        excluded_checks=[positive_data_acceptance],
    )

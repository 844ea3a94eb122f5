"""Fixtures of the simulator's integration tests: the session's gateway, event schemas registered."""

from __future__ import annotations

import pytest

from accord.gateway.testing import GatewayHandle


@pytest.fixture(scope="session")
def gateway(gateway_server: GatewayHandle, registered_schemas: str) -> GatewayHandle:
    """The session's gateway, once every event schema is registered in its registry."""
    return gateway_server

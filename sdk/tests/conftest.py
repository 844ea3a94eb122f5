"""Fixtures of the SDK's integration tests: the session's real gateway with the event schemas registered."""

from __future__ import annotations

import pytest

from accord.gateway.testing import GatewayHandle
from accord.registry.testing import RegistryHandle
from accord.streaming.testing import register_event_schemas


@pytest.fixture(scope="session")
def registered_schemas(registry_server: RegistryHandle) -> dict[str, int]:
    """Schema id of every event subject, registered in the session's registry."""
    return register_event_schemas(registry_server.url)


@pytest.fixture(scope="session")
def gateway(gateway_server: GatewayHandle, registered_schemas: dict[str, int]) -> GatewayHandle:
    """The session's gateway, once every event schema is registered."""
    return gateway_server

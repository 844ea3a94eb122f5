"""Shared fixtures of the registry tests: an HTTP client on the session registry, unique subjects."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from accord.registry.testing import RegistryHandle


@pytest.fixture
def api(registry_server: RegistryHandle) -> Iterator[httpx.Client]:
    """An HTTP client on the session registry."""
    with httpx.Client(base_url=registry_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def subject() -> str:
    """A subject name no other test uses."""
    return f"test-{uuid.uuid4().hex[:12]}-value"

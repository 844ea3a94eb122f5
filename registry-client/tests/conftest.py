"""Shared fixtures of the client tests: unique subjects on the session registry."""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture
def subject() -> str:
    """A subject name no other test uses."""
    return f"test-{uuid.uuid4().hex[:12]}-value"

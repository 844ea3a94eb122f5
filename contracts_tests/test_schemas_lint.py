"""Gate: every schema follows the contract rules (`accord schemas lint`)."""

from __future__ import annotations

import pytest

from accord.schemas.lint import lint_directory
from accord.schemas.settings import SchemasSettings

pytestmark = pytest.mark.unit


def test_every_schema_passes_lint(settings: SchemasSettings) -> None:
    findings = lint_directory(settings.schemas_dir, settings.events_topic)
    assert not findings, "\n".join(str(finding) for finding in findings)

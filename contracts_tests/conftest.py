"""The contract gate: every schema of the repository, loaded once."""

from __future__ import annotations

import pytest

from accord.schemas.catalog import Catalog, SchemaFile, load_catalog
from accord.schemas.settings import SchemasSettings


@pytest.fixture(scope="session")
def settings() -> SchemasSettings:
    """Where the contracts and the generated classes live (overridable through ACCORD_*)."""
    return SchemasSettings()


@pytest.fixture(scope="session")
def catalog(settings: SchemasSettings) -> Catalog:
    """Every `.avsc` file of the repository, validated."""
    return load_catalog(settings.schemas_dir, settings.events_topic)


def schema_files() -> list[SchemaFile]:
    """The schema files, for parametrizing tests (one test id per file)."""
    settings = SchemasSettings()
    return list(load_catalog(settings.schemas_dir, settings.events_topic))

"""Gate: every schema is compatible with the same file on the base branch, per its subject's level.

The base branch is `main`, or `ACCORD_CONTRACTS_BASE_REF` (e.g. `origin/main` in CI). Files that
do not exist there are new and pass; the levels come from `schemas/compatibility.json`.
"""

from __future__ import annotations

import os

import pytest

from accord.schemas.catalog import Catalog, load_texts
from accord.schemas.check import Status, check_against_catalog
from accord.schemas.gitref import schema_texts_at
from accord.schemas.levels import load_levels
from accord.schemas.settings import SchemasSettings

pytestmark = pytest.mark.unit


def test_every_schema_is_compatible_with_the_base_branch(settings: SchemasSettings, catalog: Catalog) -> None:
    ref = os.environ.get("ACCORD_CONTRACTS_BASE_REF", "main")
    old = load_texts(
        schema_texts_at(ref, settings.schemas_dir), catalog.topic, shown_as=lambda rel: f"{ref}:{rel}"
    )
    verdicts = check_against_catalog(catalog, old, load_levels(settings.compatibility_file).level, ref)
    breaking = [
        f"{verdict.file}:{problem.path}: {problem.message} ({verdict.level} on {verdict.subject})"
        for verdict in verdicts
        if verdict.status is Status.BREAKING
        for problem in verdict.problems
    ]
    assert not breaking, "\n".join(breaking)
    assert {verdict.subject for verdict in verdicts} >= {catalog.subject(file) for file in catalog}

"""Fixtures of the schema tooling tests: a private, editable copy of the contracts."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from accord.runtime.cli import cli
from accord.schemas.settings import SchemasSettings


@dataclass
class SchemaTree:
    """A copy of the repository's `.avsc` files that a test may edit."""

    root: Path

    def path(self, rel: str) -> Path:
        """Absolute path of a schema file."""
        return self.root / rel

    def read(self, rel: str) -> dict[str, Any]:
        """The decoded JSON of a schema file."""
        data: dict[str, Any] = json.loads(self.path(rel).read_text())
        return data

    def write(self, rel: str, schema: dict[str, Any] | str) -> None:
        """Create or replace a schema file."""
        self.path(rel).parent.mkdir(parents=True, exist_ok=True)
        self.path(rel).write_text(schema if isinstance(schema, str) else json.dumps(schema, indent=2))

    def edit(self, rel: str, change: Callable[[dict[str, Any]], None]) -> None:
        """Apply `change` to a schema file's JSON in place."""
        schema = self.read(rel)
        change(schema)
        self.write(rel, schema)

    def field(self, schema: dict[str, Any], name: str) -> dict[str, Any]:
        """The field `name` of a record's JSON."""
        return next(f for f in schema["fields"] if f["name"] == name)


@pytest.fixture
def schema_tree(tmp_path: Path) -> SchemaTree:
    """A copy of the repository's contracts under `tmp_path/avro`."""
    root = tmp_path / "avro"
    shutil.copytree(SchemasSettings().schemas_dir, root)
    return SchemaTree(root)


@pytest.fixture
def accord(monkeypatch: pytest.MonkeyPatch, schema_tree: SchemaTree) -> Callable[..., Result]:
    """Run `accord ...` in-process against the private schema tree; returns click's result.

    The TypeScript output goes to a file beside the tree unless a test says otherwise.
    """
    monkeypatch.setenv("ACCORD_SCHEMAS_DIR", str(schema_tree.root))
    # a test that edits the tree must never regenerate the repository's TypeScript file
    monkeypatch.setenv("ACCORD_SDK_TS_EVENTS_FILE", str(schema_tree.root.parent / "sdk-ts" / "events.ts"))
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return run

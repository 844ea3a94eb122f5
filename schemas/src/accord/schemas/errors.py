"""Errors of the schema tooling; the command line reports each as one message and exit code 1.

SchemaToolError (AccordError)
├── SchemaFilesError      .avsc files that cannot be loaded (bad JSON, bad Avro, dangling
│                         reference, duplicate name); carries every finding
├── CompatibilityFileError  compatibility.json is malformed or names an unknown level
├── GitRefError           `check --against REF` cannot read the files at REF
└── RegistrationRefusedError   `register` found a breaking change before registering anything
"""

from __future__ import annotations

from collections.abc import Sequence

from accord.runtime.errors import AccordError
from accord.schemas.findings import Finding


class SchemaToolError(AccordError):
    """Base class of the schema tooling's errors."""


class SchemaFilesError(SchemaToolError):
    """One or more `.avsc` files cannot be loaded; `findings` says which, where and why."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        lines = "\n".join(f"  {finding}" for finding in self.findings)
        super().__init__(f"{len(self.findings)} schema file problem(s):\n{lines}")


class CompatibilityFileError(SchemaToolError):
    """The file declaring per-subject compatibility levels is malformed."""


class GitRefError(SchemaToolError):
    """The schema files cannot be read at the git ref given to `check --against`."""


class RegistrationRefusedError(SchemaToolError):
    """`register` refused to register anything because a schema breaks its subject's level."""

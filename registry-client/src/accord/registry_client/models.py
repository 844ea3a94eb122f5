"""What the registry answers, as typed values: references, schemas by id, subject versions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reference:
    """A named type imported from a version of another subject."""

    name: str
    subject: str
    version: int

    def to_json(self) -> dict[str, Any]:
        """The reference as the REST API and the `_schemas` topic spell it."""
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True)
class RegisteredSchema:
    """A schema by id."""

    id: int
    schema: str
    references: tuple[Reference, ...] = ()
    rule_set: dict[str, Any] | None = None
    """The schema's data-contract rules (Confluent's `ruleSet`), None when it has none."""


@dataclass(frozen=True)
class RegisteredVersion:
    """One version of a subject; `schema` is the text as the registry stores it (compact JSON)."""

    subject: str
    version: int
    id: int
    schema: str
    references: tuple[Reference, ...] = ()
    rule_set: dict[str, Any] | None = None

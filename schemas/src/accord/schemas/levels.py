"""Per-subject compatibility levels declared in the repository (`schemas/compatibility.json`).

`check --against <ref>` has no registry to ask, so the levels come from this file:

    {"default": "BACKWARD", "subjects": {"accord.common.Envelope": "FULL_TRANSITIVE"}}

A subject not listed gets `default`; a missing file means BACKWARD for every subject.
`register` sets these levels in the registry; `check --registry` judges at the registry's own
levels and reports a registered subject whose level there differs from this file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from accord.registry_client.compatibility import CompatibilityLevel
from accord.schemas.errors import CompatibilityFileError


@dataclass(frozen=True)
class DeclaredLevels:
    """The default level and the per-subject exceptions."""

    default: CompatibilityLevel = CompatibilityLevel.BACKWARD
    subjects: dict[str, CompatibilityLevel] = field(default_factory=dict)

    def level(self, subject: str) -> CompatibilityLevel:
        """The level `subject` is checked with."""
        return self.subjects.get(subject, self.default)


def load_levels(path: Path) -> DeclaredLevels:
    """Read the levels file; raise `CompatibilityFileError` naming the bad entry."""
    if not path.exists():
        return DeclaredLevels()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CompatibilityFileError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("subjects", {}), dict):
        raise CompatibilityFileError(f'{path}: expected {{"default": LEVEL, "subjects": {{SUBJECT: LEVEL}}}}')
    return DeclaredLevels(
        default=_level(path, "default", data.get("default", "BACKWARD")),
        subjects={
            subject: _level(path, subject, value) for subject, value in data.get("subjects", {}).items()
        },
    )


def _level(path: Path, key: str, value: object) -> CompatibilityLevel:
    try:
        return CompatibilityLevel(str(value).upper())
    except ValueError:
        known = ", ".join(level.value for level in CompatibilityLevel)
        raise CompatibilityFileError(
            f"{path}: {key}: unknown compatibility level {value!r}; use one of {known}"
        ) from None

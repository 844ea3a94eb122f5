"""`accord schemas check`: each schema's verdict under its subject's compatibility level.

The verdicts come from `accord.registry_client.compatibility.check_compatibility`, the code the
registry server runs on every registration. Both sides are compared self-contained (referenced
types inlined), so a change to a shared type is judged in every event that carries it.

A change to a schema's data-contract rules (its `.rules.json`) is a contract change too: the
registry gives the schema a new version for it, so every verdict lists the rules added,
removed or changed (it does not fail the check: rules are not judged for compatibility).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accord.registry_client.compatibility import CompatibilityLevel, Incompatibility, check_compatibility
from accord.schemas.catalog import Catalog, SchemaFile
from accord.schemas.findings import Finding
from accord.schemas.levels import DeclaredLevels

if TYPE_CHECKING:
    # the client loads confluent-kafka's registry client, half a second every `accord` command paid
    from accord.registry_client import RegistryClient


class Status(StrEnum):
    """The outcome of one subject's check."""

    NEW = "new"
    COMPATIBLE = "compatible"
    BREAKING = "breaking"
    REMOVED = "removed"
    """The file is gone; the registry keeps the subject, so old producers still validate."""


@dataclass(frozen=True)
class Verdict:
    """One subject's verdict: what it was compared with, under which level, and why it breaks."""

    subject: str
    file: str
    level: CompatibilityLevel
    against: str
    status: Status
    problems: list[Incompatibility] = field(default_factory=list)
    rule_changes: tuple[str, ...] = ()
    """One sentence per rule added, removed or changed against the compared version."""


History = Sequence[tuple[int | None, str]]
"""(version, self-contained schema JSON) of a subject, newest first."""


def self_contained_text(catalog: Catalog, file: SchemaFile) -> str:
    """The compact JSON of `file` with referenced types inlined."""
    return json.dumps(catalog.self_contained(file), separators=(",", ":"))


def rule_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> tuple[str, ...]:
    """What changed from the `old` rule set to the `new` one, one sentence per rule."""
    if (old or None) == (new or None):
        return ()
    before, after = _rules_by_name(old), _rules_by_name(new)
    changes = [f"adds rule {name!r}" for name in after if name not in before]
    changes += [f"removes rule {name!r}" for name in before if name not in after]
    changes += [f"changes rule {name!r}" for name in after if name in before and after[name] != before[name]]
    return tuple(changes) or ("changes the ruleSet",)


def _rules_by_name(rule_set: Mapping[str, Any] | None) -> dict[str, Any]:
    rules = (rule_set or {}).get("domainRules") or []
    return {str(rule.get("name")): rule for rule in rules if isinstance(rule, Mapping)}


def judge(
    catalog: Catalog,
    file: SchemaFile,
    history: History,
    level: CompatibilityLevel,
    against: str,
    rule_set: Mapping[str, Any] | None = None,
) -> Verdict:
    """Compare `file` with a subject's history under `level`, and its rules with `rule_set` (the newest's)."""
    subject = catalog.subject(file)
    if not history:
        return Verdict(subject, file.path, level, "-", Status.NEW)
    problems = check_compatibility(self_contained_text(catalog, file), history, level)
    status = Status.BREAKING if problems else Status.COMPATIBLE
    changes = rule_changes(rule_set, file.rule_set)
    return Verdict(subject, file.path, level, against, status, problems, changes)


def check_against_catalog(
    catalog: Catalog, old: Catalog, level_of: Callable[[str], CompatibilityLevel], ref: str
) -> list[Verdict]:
    """Every file's verdict against the same subject in `old` (the files at a git ref).

    Subjects whose file is gone are listed as removed, which does not fail the check.
    """
    verdicts = []
    for file in catalog:
        subject = catalog.subject(file)
        previous = old.by_subject(subject)
        history = [(None, self_contained_text(old, previous))] if previous else []
        rule_set = previous.rule_set if previous else None
        verdicts.append(judge(catalog, file, history, level_of(subject), ref, rule_set))
    for gone in old:
        subject = old.subject(gone)
        if catalog.by_subject(subject) is None:
            verdicts.append(Verdict(subject, gone.path, level_of(subject), ref, Status.REMOVED))
    return verdicts


def registry_history(client: RegistryClient, subject: str) -> History:
    """Every live version of `subject` in the registry, self-contained, newest first."""
    from accord.registry_client.errors import SubjectNotFoundError

    try:
        versions = client.versions(subject)
    except SubjectNotFoundError:
        return []
    history: list[tuple[int | None, str]] = []
    for number in sorted(versions, reverse=True):
        resolved = client.resolved_schema(client.version(subject, number).id)
        history.append((number, json.dumps(resolved, separators=(",", ":"))))
    return history


def check_against_registry(
    catalog: Catalog, client: RegistryClient, level_of: Callable[[str], CompatibilityLevel] | None = None
) -> list[Verdict]:
    """Every file's verdict against its subject's versions in the registry.

    The level is the registry's own for the subject, or `level_of(subject)` when given.
    """
    verdicts = []
    for file in catalog:
        subject = catalog.subject(file)
        history = registry_history(client, subject)
        level = level_of(subject) if level_of is not None else client.compatibility_level(subject)
        against = f"version {history[0][0]}" if history else "-"
        newest = history[0][0] if history else None
        # a file without rules keeps the registered ones when registered, so it changes none
        rule_set = client.version(subject, newest).rule_set if newest and file.rule_set is not None else None
        verdicts.append(judge(catalog, file, history, level, against, rule_set))
    return verdicts


def level_mismatches(verdicts: Sequence[Verdict], levels: DeclaredLevels, levels_file: str) -> list[Finding]:
    """A finding per registered subject whose registry level differs from the declared one.

    `verdicts` come from `check_against_registry` at the registry's levels. A subject the
    registry does not hold yet is not reported: `register` sets its level before its first
    version, and nothing is judged before a second one.
    """
    return [
        Finding(
            levels_file,
            verdict.subject,
            "level-mismatch",
            f"the registry judges {verdict.subject} at {verdict.level.value}, "
            f"{Path(levels_file).name} declares {levels.level(verdict.subject).value}; "
            "`accord schemas register` sets the declared level",
        )
        for verdict in verdicts
        if verdict.status is not Status.NEW and verdict.level is not levels.level(verdict.subject)
    ]

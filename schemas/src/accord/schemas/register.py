"""`accord schemas register`: every schema into the registry, references first, idempotently.

Each subject's level from `compatibility.json` is pushed too (`PUT /config/{subject}`), so a
producer that registers on its own (a serializer with auto-registration) is judged by the same
rule as CI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from accord.registry_client import Reference, RegistryClient
from accord.registry_client.compatibility import CompatibilityLevel
from accord.schemas.catalog import Catalog
from accord.schemas.check import Status, check_against_registry
from accord.schemas.errors import RegistrationRefusedError
from accord.schemas.levels import DeclaredLevels

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    """The registry's answer for one subject: its version, schema id and level, and what changed."""

    subject: str
    version: int
    schema_id: int
    created: bool
    level: CompatibilityLevel
    level_set: bool = False

    @property
    def status(self) -> str:
        """`registered` for a new version, `unchanged` when the registry already held it."""
        return "registered" if self.created else "unchanged"


def push_levels(catalog: Catalog, levels: DeclaredLevels, client: RegistryClient) -> set[str]:
    """Give every subject of `catalog` its declared level; returns the subjects whose level changed.

    A subject whose own level already is the declared one is left alone, so a second run
    writes nothing.
    """
    changed = set()
    for file in catalog:
        subject = catalog.subject(file)
        declared = levels.level(subject)
        if client.subject_level(subject) is not declared:
            client.set_subject_level(subject, declared)
            changed.add(subject)
            log.info("compatibility level set", extra={"subject": subject, "level": declared.value})
    return changed


def register_catalog(
    catalog: Catalog, client: RegistryClient, levels: DeclaredLevels | None = None
) -> list[Registration]:
    """Set every subject's declared level, then register every file of `catalog`, shared types first.

    Each file is registered as written, with a Confluent reference (name, subject, version)
    for every type it uses from another file (the registry resolves the references of those),
    and with the `ruleSet` of its `.rules.json`; a file without one keeps the rules the
    subject's latest version has, as Confluent's registry does.
    Everything is checked against the registry first, at the declared levels: when any schema
    breaks its subject's level, `RegistrationRefusedError` is raised before anything is
    registered or any level changed. Without `levels` the registry's levels are used and left
    as they are.
    """
    level_of = levels.level if levels is not None else None
    verdicts = check_against_registry(catalog, client, level_of=level_of)
    breaking = [v for v in verdicts if v.status is Status.BREAKING]
    if breaking:
        details = "\n".join(f"  {v.subject}: {p.message}" for v in breaking for p in v.problems)
        raise RegistrationRefusedError(
            f"nothing registered: {len(breaking)} schema(s) break their subject's level:\n{details}"
        )
    levels_set = push_levels(catalog, levels, client) if levels is not None else set()
    level_by_subject = {verdict.subject: verdict.level for verdict in verdicts}
    versions: dict[str, int] = {}
    results: list[Registration] = []
    for file in catalog:
        subject = catalog.subject(file)
        references = [
            Reference(name, catalog.subject(catalog.require(name)), versions[name])
            for name in file.references
        ]
        found = client.lookup(subject, file.text, references, file.rule_set)
        registered = found or client.register(subject, file.text, references, file.rule_set)
        versions[file.full_name] = registered.version
        results.append(
            Registration(
                subject,
                registered.version,
                registered.id,
                created=found is None,
                level=level_by_subject[subject],
                level_set=subject in levels_set,
            )
        )
        log.info(
            "schema registered" if found is None else "schema already registered",
            extra={"subject": subject, "version": registered.version, "schema_id": registered.id},
        )
    return results

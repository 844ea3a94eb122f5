"""`accord schemas register`: every schema into the registry, references first, idempotently."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from accord.registry_client import Reference, RegistryClient
from accord.schemas.catalog import Catalog
from accord.schemas.check import Status, check_against_registry
from accord.schemas.errors import RegistrationRefusedError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    """The registry's answer for one subject: its version and schema id, and whether it is new."""

    subject: str
    version: int
    schema_id: int
    created: bool

    @property
    def status(self) -> str:
        """`registered` for a new version, `unchanged` when the registry already held it."""
        return "registered" if self.created else "unchanged"


def register_catalog(catalog: Catalog, client: RegistryClient) -> list[Registration]:
    """Register every file of `catalog` under its subject, shared types first.

    Each file is registered as written, with a Confluent reference (name, subject, version)
    for every type it uses from another file; the registry resolves the references of those.
    Everything is checked against the registry first: when any schema breaks its subject's
    level, `RegistrationRefusedError` is raised before anything is registered.
    """
    breaking = [v for v in check_against_registry(catalog, client) if v.status is Status.BREAKING]
    if breaking:
        details = "\n".join(f"  {v.subject}: {p.message}" for v in breaking for p in v.problems)
        raise RegistrationRefusedError(
            f"nothing registered: {len(breaking)} schema(s) break their subject's level:\n{details}"
        )
    versions: dict[str, int] = {}
    results: list[Registration] = []
    for file in catalog:
        subject = catalog.subject(file)
        references = [
            Reference(name, catalog.subject(catalog.require(name)), versions[name])
            for name in file.references
        ]
        found = client.lookup(subject, file.text, references)
        registered = found or client.register(subject, file.text, references)
        versions[file.full_name] = registered.version
        results.append(Registration(subject, registered.version, registered.id, created=found is None))
        log.info(
            "schema registered" if found is None else "schema already registered",
            extra={"subject": subject, "version": registered.version, "schema_id": registered.id},
        )
    return results

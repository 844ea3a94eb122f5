"""The contracts registered by `accord up` as soon as the registry is ready.

Without it, traffic sent right after `up` is rejected as `schema_not_registered`. Registration
is idempotent, so every `up` runs it: an unchanged contract registers nothing new.
"""

from __future__ import annotations

from accord.registry_client import RegistryClient
from accord.runtime.services import SetupStep
from accord.runtime.settings import RuntimeSettings
from accord.schemas.catalog import load_catalog
from accord.schemas.register import register_catalog
from accord.schemas.settings import SchemasSettings


def register_contracts(settings: SchemasSettings) -> str:
    """Register every contract with the registry; return how many were new."""
    catalog = load_catalog(settings.schemas_dir, settings.events_topic)
    results = register_catalog(catalog, RegistryClient(settings.registry_url))
    new = sum(result.created for result in results)
    return f"{new} schema(s) registered, {len(results) - new} already registered"


def setup(_runtime: RuntimeSettings) -> SetupStep:
    """Entry point of the `accord.setup` group: register the contracts after the registry starts."""
    settings = SchemasSettings()
    return SetupStep(name="contracts", after="registry", run=lambda: register_contracts(settings))

"""Accord's schema registry client: what every component needs from the registry, without the server.

`RegistryClient` (cached, typed, specific errors), `inline_references` (self-contained schemas)
and `compatibility` (the Avro compatibility rules the server enforces and `accord schemas check`
reuses).

The names are loaded on first use: confluent-kafka's registry client takes a second to
import, and tools that only check compatibility or inline references (and `accord --help`,
which loads every command module) should not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accord.registry_client.client import RegistryClient
    from accord.registry_client.compatibility import CompatibilityLevel
    from accord.registry_client.errors import (
        IncompatibleSchemaError,
        RegistryClientError,
        RegistryUnavailableError,
        SchemaNotFoundError,
        SchemaRejectedError,
        SubjectNotFoundError,
    )
    from accord.registry_client.models import Reference, RegisteredSchema, RegisteredVersion
    from accord.registry_client.references import inline_references

_MODULES = {
    "RegistryClient": "client",
    "CompatibilityLevel": "compatibility",
    "IncompatibleSchemaError": "errors",
    "RegistryClientError": "errors",
    "RegistryUnavailableError": "errors",
    "SchemaNotFoundError": "errors",
    "SchemaRejectedError": "errors",
    "SubjectNotFoundError": "errors",
    "Reference": "models",
    "RegisteredSchema": "models",
    "RegisteredVersion": "models",
    "inline_references": "references",
}

__all__ = [
    "CompatibilityLevel",
    "IncompatibleSchemaError",
    "Reference",
    "RegisteredSchema",
    "RegisteredVersion",
    "RegistryClient",
    "RegistryClientError",
    "RegistryUnavailableError",
    "SchemaNotFoundError",
    "SchemaRejectedError",
    "SubjectNotFoundError",
    "inline_references",
]


def __getattr__(name: str) -> object:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'accord.registry_client' has no attribute '{name}'")
    return getattr(importlib.import_module(f"accord.registry_client.{module}"), name)

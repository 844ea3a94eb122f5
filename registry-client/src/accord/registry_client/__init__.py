"""Accord's schema registry client: what every component needs from the registry, without the server.

`RegistryClient` (cached, typed, specific errors), `inline_references` (self-contained schemas)
and `compatibility` (the Avro compatibility rules the server enforces and `accord schemas check`
reuses).
"""

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

"""A cached registry client for the rest of the platform (gateway, streaming, schema tooling).

It wraps confluent-kafka's `SchemaRegistryClient`, which already caches schemas by id forever
(ids are immutable) and latest versions for a configurable time, and adds what our components
need on top: typed results, specific exceptions, and self-contained schemas with references
inlined (what fastavro and Spark's `from_avro` want).
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.common._httpx_compat import httpx as transport
from confluent_kafka.schema_registry.error import SchemaRegistryError

from accord.registry.compatibility import CompatibilityLevel
from accord.runtime.errors import AccordError

T = TypeVar("T")


@dataclass(frozen=True)
class Reference:
    """A named type imported from a version of another subject."""

    name: str
    subject: str
    version: int


@dataclass(frozen=True)
class RegisteredSchema:
    """A schema by id."""

    id: int
    schema: str
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class RegisteredVersion:
    """One version of a subject; `schema` is the text as the registry stores it (compact JSON)."""

    subject: str
    version: int
    id: int
    schema: str
    references: tuple[Reference, ...] = ()


class RegistryClientError(AccordError):
    """Base class of the client's errors; `error_code` is the registry's code, when it sent one."""

    def __init__(self, message: str, error_code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.http_status = http_status


class SubjectNotFoundError(RegistryClientError):
    """The subject (or the version of it) does not exist."""


class SchemaNotFoundError(RegistryClientError):
    """No schema with this id, or the schema is not registered under the subject."""


class IncompatibleSchemaError(RegistryClientError):
    """The registry refused the schema: it breaks the subject's compatibility level."""

    def __init__(self, message: str, error_code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message, error_code, http_status)
        self.messages = _incompatibility_details(message)


class InvalidSchemaError(RegistryClientError):
    """The registry refused the schema as invalid Avro (or an invalid request)."""


class RegistryUnavailableError(RegistryClientError):
    """The registry could not be reached or answered with a server error."""


def _incompatibility_details(message: str) -> list[str]:
    _, _, details = message.partition("details: [")
    return [part for part in details.rstrip("]").split(", ") if part and not part.startswith("{")]


def _translated(call: Callable[..., T]) -> Callable[..., T]:
    """Turn confluent-kafka's and httpx's errors into this module's exceptions."""

    @functools.wraps(call)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return call(*args, **kwargs)
        except SchemaRegistryError as exc:
            raise _error_for(exc) from exc
        # confluent-kafka picks its HTTP package (httpx or httpx2); catch that one's errors
        except transport.HTTPError as exc:
            raise RegistryUnavailableError(f"schema registry unreachable: {exc}") from exc

    return wrapper


def _error_for(exc: SchemaRegistryError) -> RegistryClientError:
    code, status, message = exc.error_code, exc.http_status_code, exc.error_message
    if code in (40401, 40402, 40404):
        return SubjectNotFoundError(message, code, status)
    if code == 40403:
        return SchemaNotFoundError(message, code, status)
    if status == 409:
        return IncompatibleSchemaError(message, code, status)
    if status >= 500 or status in (401, 403):
        return RegistryUnavailableError(message, code, status)
    return InvalidSchemaError(message, code, status)


def _references(refs: Sequence[SchemaReference] | None) -> tuple[Reference, ...]:
    return tuple(Reference(str(ref.name), str(ref.subject), int(ref.version or 0)) for ref in refs or ())


class RegistryClient:
    """Registry access with caches: ids → schemas forever, subjects → latest for `latest_ttl_s`."""

    def __init__(self, url: str, *, latest_ttl_s: float = 30.0, auth: tuple[str, str] | None = None) -> None:
        conf: dict[str, Any] = {
            "url": url,
            "cache.latest.ttl.sec": max(int(latest_ttl_s), 1),
            "timeout": 10,
            "max.retries": 2,
        }
        if auth is not None:
            conf["basic.auth.user.info"] = f"{auth[0]}:{auth[1]}"
        self._client = SchemaRegistryClient(conf)
        self._resolved: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @_translated
    def schema_by_id(self, schema_id: int) -> RegisteredSchema:
        """The schema with this id (cached forever: ids are immutable)."""
        schema = self._client.get_schema(schema_id)
        return RegisteredSchema(schema_id, str(schema.schema_str), _references(schema.references))

    @_translated
    def subjects_for_id(self, schema_id: int) -> list[str]:
        """The subjects the schema with this id is registered under (not cached: the list can grow)."""
        return list(self._client.get_subjects_by_schema_id(schema_id))

    def resolved_schema(self, schema_id: int) -> dict[str, Any]:
        """The schema with this id as one self-contained Avro schema, references inlined (cached)."""
        with self._lock:
            cached = self._resolved.get(schema_id)
        if cached is not None:
            return cached
        registered = self.schema_by_id(schema_id)
        definitions = self._definitions(registered.references, set())
        resolved: dict[str, Any] = inline_references(json.loads(registered.schema), definitions)
        with self._lock:
            self._resolved[schema_id] = resolved
        return resolved

    def _definitions(self, references: Sequence[Reference], seen: set[tuple[str, int]]) -> dict[str, Any]:
        """Full name → definition of every referenced type, references of references first."""
        found: dict[str, Any] = {}
        for ref in references:
            if (ref.subject, ref.version) in seen:
                continue
            seen.add((ref.subject, ref.version))
            version = self.version(ref.subject, ref.version)
            found.update(self._definitions(version.references, seen))
            definition = inline_references(json.loads(version.schema), found)
            found[ref.name] = definition
        return found

    @_translated
    def latest(self, subject: str) -> RegisteredVersion:
        """The subject's latest version (cached for `latest_ttl_s`)."""
        return self._version(self._client.get_latest_version(subject), subject)

    @_translated
    def version(self, subject: str, version: int) -> RegisteredVersion:
        """One version of a subject."""
        return self._version(self._client.get_version(subject, version), subject)

    @_translated
    def versions(self, subject: str) -> list[int]:
        """The subject's live version numbers, ascending."""
        return list(self._client.get_versions(subject))

    @_translated
    def subjects(self) -> list[str]:
        """Every subject with a live version."""
        return list(self._client.get_subjects())

    @_translated
    def register(self, subject: str, schema: str, references: Sequence[Reference] = ()) -> RegisteredVersion:
        """Register `schema` under `subject` (idempotent); raises `IncompatibleSchemaError` when refused."""
        registered = self._client.register_schema_full_response(subject, self._schema(schema, references))
        if registered.version is None or registered.schema_id is None:
            return self.lookup(subject, schema, references) or self._missing(subject)
        stored = self.schema_by_id(registered.schema_id)
        return RegisteredVersion(subject, registered.version, stored.id, stored.schema, stored.references)

    @_translated
    def lookup(
        self, subject: str, schema: str, references: Sequence[Reference] = ()
    ) -> RegisteredVersion | None:
        """The version of `subject` holding exactly `schema`, or None when it is not registered there."""
        try:
            found = self._client.lookup_schema(subject, self._schema(schema, references))
        except SchemaRegistryError as exc:
            if exc.error_code in (40401, 40403):
                return None
            raise
        stored = self.schema_by_id(found.schema_id)
        return RegisteredVersion(
            found.subject or subject, int(found.version or 0), stored.id, stored.schema, stored.references
        )

    @_translated
    def compatibility_level(self, subject: str) -> CompatibilityLevel:
        """The level that applies to the subject (its own, else the global one)."""
        try:
            level = self._client.get_compatibility(subject)
        except SchemaRegistryError as exc:
            if exc.error_code != 40408:
                raise
            level = self._client.get_compatibility()
        return CompatibilityLevel(level)

    @_translated
    def subject_level(self, subject: str) -> CompatibilityLevel | None:
        """The subject's own level; None when it has none (the global one applies)."""
        try:
            return CompatibilityLevel(self._client.get_compatibility(subject))
        except SchemaRegistryError as exc:
            if exc.error_code != 40408:
                raise
            return None

    @_translated
    def set_subject_level(self, subject: str, level: CompatibilityLevel) -> None:
        """Set the subject's own level (allowed before the subject has versions)."""
        self._client.set_compatibility(subject, level.value)

    @staticmethod
    def _schema(schema: str, references: Sequence[Reference]) -> Schema:
        refs = [SchemaReference(ref.name, ref.subject, ref.version) for ref in references]
        return Schema(schema, "AVRO", refs)

    @staticmethod
    def _version(found: Any, subject: str) -> RegisteredVersion:
        return RegisteredVersion(
            found.subject or subject,
            found.version,
            found.schema_id,
            found.schema.schema_str,
            _references(found.schema.references),
        )

    @staticmethod
    def _missing(subject: str) -> RegisteredVersion:
        raise SchemaNotFoundError(f"schema registered under '{subject}' could not be read back")


_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
_KEYWORDS = _PRIMITIVES | {"record", "enum", "fixed", "error", "array", "map"}


def inline_references(schema: Any, definitions: dict[str, Any]) -> Any:
    """Replace the first use of each referenced full name by its definition (later uses stay names)."""
    placed: set[str] = set()

    def full_name(name: str, namespace: str | None) -> str:
        return name if "." in name or not namespace else f"{namespace}.{name}"

    def walk(node: Any, namespace: str | None) -> Any:
        if isinstance(node, str):
            if node in _PRIMITIVES:
                return node
            name = full_name(node, namespace)
            target = name if name in definitions else node
            if target in definitions and target not in placed:
                placed.add(target)
                return walk(definitions[target], None)
            return node
        if isinstance(node, list):
            return [walk(item, namespace) for item in node]
        if isinstance(node, dict):
            inner = namespace
            if node.get("type") in ("record", "enum", "fixed", "error") and "name" in node:
                declared = str(node["name"])
                inner = declared.rpartition(".")[0] if "." in declared else node.get("namespace", namespace)
                placed.add(full_name(declared, inner))
            copy = dict(node)
            if "fields" in copy:
                copy["fields"] = [{**f, "type": walk(f["type"], inner)} for f in copy["fields"]]
            for key in ("items", "values"):
                if key in copy:
                    copy[key] = walk(copy[key], inner)
            if isinstance(copy.get("type"), dict | list) or (
                isinstance(copy.get("type"), str)
                and copy["type"]
                not in _PRIMITIVES
                | {
                    "record",
                    "enum",
                    "fixed",
                    "error",
                    "array",
                    "map",
                }
            ):
                copy["type"] = walk(copy["type"], inner)
            return copy
        return node

    return walk(schema, None)

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
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from confluent_kafka.schema_registry import RuleSet, Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.common._httpx_compat import httpx as transport
from confluent_kafka.schema_registry.error import SchemaRegistryError

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

T = TypeVar("T")


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
    return SchemaRejectedError(message, code, status)


def _rule_set(found: Any) -> dict[str, Any] | None:
    """The schema's `ruleSet` without the empty rule lists confluent-kafka's client writes."""
    rule_set = getattr(found, "rule_set", None)
    if rule_set is None:
        return None
    as_dict: dict[str, Any] = {kind: rules for kind, rules in rule_set.to_dict().items() if rules}
    return as_dict or None


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
        return RegisteredSchema(
            schema_id, str(schema.schema_str), _references(schema.references), _rule_set(schema)
        )

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
    def register(
        self,
        subject: str,
        schema: str,
        references: Sequence[Reference] = (),
        rule_set: Mapping[str, Any] | None = None,
    ) -> RegisteredVersion:
        """Register `schema` (with its `ruleSet`) under `subject` (idempotent).

        Raises `IncompatibleSchemaError` when refused.
        """
        registered = self._client.register_schema_full_response(
            subject, self._schema(schema, references, rule_set)
        )
        if registered.version is None or registered.schema_id is None:
            return self.lookup(subject, schema, references, rule_set) or self._missing(subject)
        stored = self.schema_by_id(registered.schema_id)
        return RegisteredVersion(
            subject, registered.version, stored.id, stored.schema, stored.references, stored.rule_set
        )

    @_translated
    def lookup(
        self,
        subject: str,
        schema: str,
        references: Sequence[Reference] = (),
        rule_set: Mapping[str, Any] | None = None,
    ) -> RegisteredVersion | None:
        """The version of `subject` holding exactly `schema` (and `rule_set`), None when there is none.

        Without `rule_set` the registry matches the schema with the latest version's rules, as
        Confluent does; a caller that declares rules passes them (an empty set for none).
        """
        try:
            found = self._client.lookup_schema(subject, self._schema(schema, references, rule_set))
        except SchemaRegistryError as exc:
            if exc.error_code in (40401, 40403):
                return None
            raise
        stored = self.schema_by_id(found.schema_id)
        return RegisteredVersion(
            found.subject or subject,
            int(found.version or 0),
            stored.id,
            stored.schema,
            stored.references,
            stored.rule_set,
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
    def _schema(
        schema: str, references: Sequence[Reference], rule_set: Mapping[str, Any] | None = None
    ) -> Schema:
        refs = [SchemaReference(ref.name, ref.subject, ref.version) for ref in references]
        rules = RuleSet.from_dict(dict(rule_set)) if rule_set is not None else None
        return Schema(schema, "AVRO", refs, rule_set=rules)

    @staticmethod
    def _version(found: Any, subject: str) -> RegisteredVersion:
        return RegisteredVersion(
            found.subject or subject,
            found.version,
            found.schema_id,
            found.schema.schema_str,
            _references(found.schema.references),
            _rule_set(found.schema),
        )

    @staticmethod
    def _missing(subject: str) -> RegisteredVersion:
        raise SchemaNotFoundError(f"schema registered under '{subject}' could not be read back")

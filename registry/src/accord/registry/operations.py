"""What the registry does: register, look up, check, delete, configure; over a store and its log.

Writes are serialised by one lock (this instance is the topic's only writer), checked against
the store, written to `_schemas`, and answered only once the reader has applied them.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from accord.registry.errors import (
    CompatibilityViolationError,
    ImportIdMismatchError,
    InvalidAvroSchemaError,
    InvalidCompatibilityLevelError,
    InvalidModeError,
    InvalidSubjectError,
    OperationNotPermittedError,
    ReferenceExistsError,
    SubjectConfigNotFoundError,
    SubjectModeNotFoundError,
    SubjectNotSoftDeletedError,
    SubjectSoftDeletedError,
    UnknownSchemaError,
    UnknownSubjectError,
    UnknownVersionError,
    VersionNotSoftDeletedError,
    VersionSoftDeletedError,
)
from accord.registry.kafka_log import SchemasLog
from accord.registry.records import (
    KeyType,
    RecordKey,
    SchemaValue,
    config_value,
    delete_subject_value,
    mode_value,
)
from accord.registry.store import SchemaStore
from accord.registry_client.compatibility import (
    CompatibilityLevel,
    Incompatibility,
    InvalidSchemaError,
    check_compatibility,
    parse_schema,
)
from accord.registry_client.models import Reference

log = logging.getLogger(__name__)

MODES = ("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT", "FORWARD")


@dataclass(frozen=True)
class SchemaRequest:
    """A schema as a client sends it to register, look up or test."""

    schema: str
    references: tuple[Reference, ...] = ()
    schema_type: str = "AVRO"
    id: int | None = None
    version: int | None = None

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> SchemaRequest:
        """Read the request body; unknown properties (metadata, ruleSet, …) are ignored."""
        schema_type = body.get("schemaType") or "AVRO"
        if schema_type != "AVRO":
            raise InvalidAvroSchemaError(f"Invalid schemaType {schema_type}")
        schema = body.get("schema")
        if not schema:
            raise InvalidAvroSchemaError("Empty schema")
        if not isinstance(schema, str):
            raise InvalidAvroSchemaError("Invalid schema: the schema property must be a string of JSON")
        references = []
        for ref in body.get("references") or ():
            try:
                references.append(Reference(str(ref["name"]), str(ref["subject"]), int(ref["version"])))
            except (KeyError, TypeError, ValueError) as exc:
                raise InvalidAvroSchemaError(
                    f"Invalid reference {ref}: needs name, subject and version"
                ) from exc
        schema_id, version = body.get("id"), body.get("version")
        return cls(
            schema=schema,
            references=tuple(references),
            id=schema_id if isinstance(schema_id, int) and schema_id > 0 else None,
            version=version if isinstance(version, int) and version > 0 else None,
        )


def canonical_text(schema: str) -> str:
    """The schema as compact JSON, with `{"type": "<primitive>"}` written as `"<primitive>"`."""
    try:
        data = json.loads(schema)
    except json.JSONDecodeError as exc:
        raise InvalidAvroSchemaError(f"Invalid AVRO schema. Error: Invalid JSON: {exc}") from exc
    return json.dumps(_simplify(data), separators=(",", ":"), ensure_ascii=False)


_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


def _simplify(node: Any) -> Any:
    if isinstance(node, list):
        return [_simplify(item) for item in node]
    if isinstance(node, dict):
        if set(node) == {"type"} and node["type"] in _PRIMITIVES:
            return node["type"]
        return {key: _simplify(value) for key, value in node.items()}
    return node


def validate_subject(subject: str) -> None:
    """Subjects are any text without control characters (Confluent's rule)."""
    if not subject or any(ord(char) < 32 or 127 <= ord(char) < 160 for char in subject):
        raise InvalidSubjectError(subject)


def validate_level(level: object) -> CompatibilityLevel:
    """A compatibility level named in a request, case-insensitively."""
    if not isinstance(level, str):
        raise InvalidCompatibilityLevelError()
    try:
        return CompatibilityLevel(level.upper())
    except ValueError as exc:
        raise InvalidCompatibilityLevelError() from exc


class Registry:
    """The registry's operations, over a `SchemaStore` fed and written through a `SchemasLog`."""

    def __init__(
        self, store: SchemaStore, schemas_log: SchemasLog | None, write_timeout_s: float = 30.0
    ) -> None:
        self.store = store
        self.log = schemas_log
        self.write_timeout_s = write_timeout_s
        self._write_lock = threading.Lock()

    # ------------------------------------------------------------------ schema resolution

    def named_types(self, references: Sequence[Reference]) -> dict[str, str]:
        """Full name → schema JSON of every referenced type, references of references included."""
        found: dict[str, str] = {}
        pending = list(references)
        seen: set[tuple[str, int]] = set()
        while pending:
            ref = pending.pop()
            if (ref.subject, ref.version) in seen:
                continue
            seen.add((ref.subject, ref.version))
            try:
                value = self.store.version(ref.subject, ref.version, deleted=True)
            except (UnknownSubjectError, UnknownVersionError) as exc:
                raise InvalidAvroSchemaError(
                    f"Invalid schema: reference {ref.name} to subject '{ref.subject}' version {ref.version} "
                    "does not exist"
                ) from exc
            found[ref.name] = value.schema
            pending.extend(value.references)
        return found

    def _parse_new(self, request: SchemaRequest) -> tuple[str, dict[str, str]]:
        text = canonical_text(request.schema)
        named = self.named_types(request.references)
        try:
            parse_schema(text, named, strict=True)
        except InvalidSchemaError as exc:
            raise InvalidAvroSchemaError(f"Invalid AVRO schema. Error: {exc}") from exc
        return text, named

    # ------------------------------------------------------------------ reads

    def lookup(self, subject: str, request: SchemaRequest, *, deleted: bool) -> SchemaValue:
        """The version of `subject` holding exactly this schema (40401 / 40403 otherwise)."""
        versions = self.store.versions_of(subject, deleted=deleted)
        text = canonical_text(request.schema)
        for value in reversed(versions):
            if value.schema == text and value.references == request.references:
                return value
        raise UnknownSchemaError()

    def incompatibilities(
        self, subject: str, request: SchemaRequest, against: Sequence[SchemaValue], level: CompatibilityLevel
    ) -> list[Incompatibility]:
        """Why `request` may not follow `against` (newest first) under `level`."""
        text, named = self._parse_new(request)
        for value in against:
            named.update(self.named_types(value.references))
        existing = [(value.version, value.schema) for value in against]
        try:
            return check_compatibility(text, existing, level, named)
        except InvalidSchemaError as exc:
            raise InvalidAvroSchemaError(f"Invalid AVRO schema. Error: {exc}") from exc

    def test_compatibility(
        self, subject: str, request: SchemaRequest, version: int | None, *, all_versions: bool
    ) -> list[Incompatibility]:
        """The `/compatibility` check: against one version, or as a register would check."""
        level = self.store.compatibility(subject)
        if all_versions:
            live = self._live_newest_first(subject)
            against = live if level.transitive else live[:1]
        else:
            against = (
                [self._explicit_version(subject, version)] if version is not None else self._latest(subject)
            )
            level = _single_version_level(level)
        return self.incompatibilities(subject, request, against, level)

    def _explicit_version(self, subject: str, version: int) -> SchemaValue:
        # Confluent answers 40402 for an explicit version even when the subject is unknown
        try:
            return self.store.version(subject, version)
        except UnknownSubjectError as exc:
            raise UnknownVersionError(version) from exc

    def _live_newest_first(self, subject: str) -> list[SchemaValue]:
        try:
            return list(reversed(self.store.versions_of(subject)))
        except UnknownSubjectError:
            return []

    def _latest(self, subject: str) -> list[SchemaValue]:
        live = self._live_newest_first(subject)
        return live[:1]

    # ------------------------------------------------------------------ writes

    def _append(self, key: RecordKey, value: bytes | None) -> None:
        if self.log is None:
            raise OperationNotPermittedError("This registry instance has no store to write to")
        self.log.append(key.to_bytes(), value, self.write_timeout_s)

    def register(self, subject: str, request: SchemaRequest, *, force: bool = False) -> SchemaValue:
        """Register `request` under `subject`, or return the live version that already holds it."""
        validate_subject(subject)
        with self._write_lock:
            mode = self.store.mode(subject)
            if mode in ("READONLY", "READONLY_OVERRIDE"):
                raise OperationNotPermittedError(f"Subject {subject} in context . is in read-only mode")
            if request.id is not None and mode != "IMPORT":
                raise OperationNotPermittedError(f"Subject {subject} in context . is not in import mode")
            if request.id is None and mode == "IMPORT":
                raise OperationNotPermittedError(f"Subject {subject} in context . is not in read-write mode")
            text, _ = self._parse_new(request)
            live = self._live_newest_first(subject)
            for value in live:
                if value.schema == text and value.references == request.references:
                    if request.id is not None and request.id != value.id:
                        raise ImportIdMismatchError()
                    return value
            if mode == "IMPORT":
                return self._import(subject, request, text)
            level = self.store.compatibility(subject)
            if not force and level is not CompatibilityLevel.NONE and live:
                against = live if level.transitive else live[:1]
                problems = self.incompatibilities(subject, request, against, level)
                if problems:
                    raise CompatibilityViolationError(subject, [p.message for p in problems], level.value)
            schema_id = self.store.id_for(text, request.references) or self.store.max_id + 1
            value = SchemaValue(
                subject, self.store.next_version(subject), schema_id, text, request.references
            )
            self._append(RecordKey(KeyType.SCHEMA, subject, value.version), value.to_bytes())
            log.info(
                "schema registered",
                extra={"subject": subject, "version": value.version, "schema_id": value.id},
            )
            return value

    def _import(self, subject: str, request: SchemaRequest, text: str) -> SchemaValue:
        assert request.id is not None
        existing_id = self.store.id_for(text, request.references)
        if existing_id is not None and existing_id != request.id:
            raise ImportIdMismatchError()
        try:
            holder = self.store.schema_by_id(request.id)
            if (holder.schema, holder.references) != (text, request.references):
                raise ImportIdMismatchError()
        except UnknownSchemaError:
            pass
        version = request.version or self.store.next_version(subject)
        value = SchemaValue(subject, version, request.id, text, request.references)
        self._append(RecordKey(KeyType.SCHEMA, subject, version), value.to_bytes())
        log.info("schema imported", extra={"subject": subject, "version": version, "schema_id": request.id})
        return value

    def _check_writable(self, subject: str | None) -> None:
        if self.store.mode(subject) in ("READONLY", "READONLY_OVERRIDE"):
            raise OperationNotPermittedError(f"Subject {subject} in context . is in read-only mode")

    def _check_not_referenced(self, value: SchemaValue) -> None:
        if self.store.referenced_by(value.subject, value.version):
            raise ReferenceExistsError(value.subject, value.version)

    def delete_version(self, subject: str, version: int | None, *, permanent: bool) -> int:
        """Soft delete a version, or permanently delete a soft-deleted one; returns the version."""
        with self._write_lock:
            self._check_writable(subject)
            value = self.store.version(subject, version, deleted=version is not None)
            if permanent and not value.deleted:
                raise VersionNotSoftDeletedError(subject, value.version)
            self._check_not_referenced(value)
            key = RecordKey(KeyType.SCHEMA, subject, value.version)
            if permanent:
                self._append(key, None)
                self._tombstone_settings_if_empty(subject)
            else:
                if value.deleted:
                    raise VersionSoftDeletedError(subject, value.version)
                self._append(key, replace(value, deleted=True).to_bytes())
            log.info(
                "version deleted",
                extra={"subject": subject, "version": value.version, "permanent": permanent},
            )
            return value.version

    def delete_subject(self, subject: str, *, permanent: bool) -> list[int]:
        """Soft delete every live version, or permanently delete a soft-deleted subject."""
        with self._write_lock:
            self._check_writable(subject)
            every = self.store.versions_of(subject, deleted=True)
            live = [value for value in every if not value.deleted]
            for value in live if not permanent else every:
                self._check_not_referenced(value)
            if permanent:
                if live:
                    raise SubjectNotSoftDeletedError(subject)
                for value in reversed(every):
                    self._append(RecordKey(KeyType.SCHEMA, subject, value.version), None)
                self._tombstone_settings_if_empty(subject)
                deleted = [value.version for value in every]
            else:
                if not live:
                    raise SubjectSoftDeletedError(subject)
                top = max(value.version for value in live)
                self._append(RecordKey(KeyType.DELETE_SUBJECT, subject), delete_subject_value(subject, top))
                deleted = [value.version for value in live]
            log.info(
                "subject deleted", extra={"subject": subject, "permanent": permanent, "versions": deleted}
            )
            return deleted

    def _tombstone_settings_if_empty(self, subject: str) -> None:
        if self.store.has_subject(subject):
            return
        if subject in self.store.configs:
            self._append(RecordKey(KeyType.CONFIG, subject), None)
        if subject in self.store.modes:
            self._append(RecordKey(KeyType.MODE, subject), None)

    def set_config(self, subject: str | None, level: CompatibilityLevel) -> None:
        """Set the global or a subject's compatibility level."""
        if subject is not None:
            validate_subject(subject)
        with self._write_lock:
            self._append(RecordKey(KeyType.CONFIG, subject), config_value(subject, level.value))

    def delete_config(self, subject: str | None) -> CompatibilityLevel:
        """Remove the global or a subject's level; returns the level it had."""
        with self._write_lock:
            if subject is not None and subject not in self.store.configs:
                if not self.store.has_subject(subject):
                    raise UnknownSubjectError(subject)
                raise SubjectConfigNotFoundError(subject)
            previous = self.store.compatibility(subject)
            self._append(RecordKey(KeyType.CONFIG, subject), None)
            return previous

    def set_mode(self, subject: str | None, mode: object, *, force: bool) -> str:
        """Set the global or a subject's mode."""
        wanted = str(mode).upper() if isinstance(mode, str) else ""
        if wanted not in MODES or (wanted == "FORWARD" and subject is not None):
            raise InvalidModeError()
        if subject is not None:
            validate_subject(subject)
        with self._write_lock:
            if wanted == "IMPORT" and not force:
                has_schemas = self.store.has_subject(subject) if subject else bool(self.store.subject_names())
                if has_schemas:
                    raise OperationNotPermittedError("Cannot import since found existing subjects")
            self._append(RecordKey(KeyType.MODE, subject), mode_value(subject, wanted))
        return wanted

    def delete_mode(self, subject: str | None) -> str:
        """Remove the global or a subject's mode; returns the mode it had."""
        with self._write_lock:
            if subject is not None and subject not in self.store.modes:
                raise SubjectModeNotFoundError(subject)
            previous = self.store.mode(subject)
            self._append(RecordKey(KeyType.MODE, subject), None)
            return previous


def _single_version_level(level: CompatibilityLevel) -> CompatibilityLevel:
    """A transitive level applied to one explicit version is its non-transitive twin."""
    return CompatibilityLevel(level.value.removesuffix("_TRANSITIVE"))

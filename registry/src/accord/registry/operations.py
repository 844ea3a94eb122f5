"""What the registry does: register, look up, check, delete, configure; over a store and its log.

Writes are serialised by one lock (this instance is the topic's only writer), checked against
the store, written to `_schemas`, and answered only once the reader has applied them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from accord.registry.canonical import CanonicalSchema, canonical_schema, contract_identity
from accord.registry.errors import (
    CompatibilityViolationError,
    ImportIdMismatchError,
    InvalidAvroSchemaError,
    InvalidCompatibilityLevelError,
    InvalidModeError,
    InvalidRuleSetError,
    InvalidSubjectError,
    OperationNotPermittedError,
    ReferenceExistsError,
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
from accord.registry.store import ContentKey, SchemaStore, UnresolvedReferenceError
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
    metadata: dict[str, Any] | None = field(default=None, hash=False)
    rule_set: dict[str, Any] | None = field(default=None, hash=False)

    @property
    def contract(self) -> str:
        """The identity of the request's `metadata` and `ruleSet`."""
        return contract_identity(self.metadata, self.rule_set)

    def inheriting(self, previous: SchemaValue | None) -> SchemaRequest:
        """Confluent: a schema sent without `metadata` or `ruleSet` keeps those of `previous`."""
        if previous is None:
            return self
        return replace(
            self,
            metadata=self.metadata if self.metadata is not None else previous.metadata,
            rule_set=self.rule_set if self.rule_set is not None else previous.rule_set,
        )

    @classmethod
    def from_body(cls, body: dict[str, Any], *, allow_empty: bool = False) -> SchemaRequest:
        """Read the request body; unknown properties (schema tags, …) are ignored.

        An empty or missing schema is refused (42201) unless `allow_empty`: a lookup with it
        finds nothing, as in Confluent's registry.
        """
        schema_type = body.get("schemaType") or "AVRO"
        if schema_type != "AVRO":
            raise InvalidAvroSchemaError(f"Invalid schemaType {schema_type}")
        schema = body.get("schema")
        if schema is None or schema == "":
            if not allow_empty:
                raise InvalidAvroSchemaError("Empty schema")
            schema = ""
        elif not isinstance(schema, str):
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
            metadata=_metadata(body.get("metadata")),
            rule_set=_rule_set(body.get("ruleSet")),
        )


_RULE_LISTS = ("migrationRules", "domainRules", "encodingRules")


def _metadata(value: object) -> dict[str, Any] | None:
    """Confluent's `Metadata`: `tags` {path: [tag]}, `properties` {name: text}, `sensitive` [name]."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidAvroSchemaError("Invalid metadata: expected a JSON object")
    tags, properties, sensitive = value.get("tags"), value.get("properties"), value.get("sensitive")
    if tags is not None and not (
        isinstance(tags, dict)
        and all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in tags.values())
    ):
        raise InvalidAvroSchemaError("Invalid metadata: tags must map each path to a list of tags")
    if properties is not None and not (
        isinstance(properties, dict) and all(isinstance(v, str) for v in properties.values())
    ):
        raise InvalidAvroSchemaError("Invalid metadata: properties must map each name to a string")
    if sensitive is not None and not (
        isinstance(sensitive, list) and all(isinstance(v, str) for v in sensitive)
    ):
        raise InvalidAvroSchemaError("Invalid metadata: sensitive must be a list of names")
    return value


def _rule_set(value: object) -> dict[str, Any] | None:
    """Confluent's `RuleSet`: lists of rules, each with at least a `name` and a `type`."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRuleSetError("Invalid ruleSet: expected a JSON object")
    for kind in _RULE_LISTS:
        rules = value.get(kind)
        if rules is None:
            continue
        if not isinstance(rules, list):
            raise InvalidRuleSetError(f"Invalid ruleSet: {kind} must be a list of rules")
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict) or not isinstance(rule.get("name"), str) or not rule["name"]:
                raise InvalidRuleSetError(f"Invalid ruleSet: {kind}[{index}] needs a name")
            if not isinstance(rule.get("type"), str) or not rule["type"]:
                raise InvalidRuleSetError(f"Invalid ruleSet: rule {rule['name']} needs a type")
    return value


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
        self.on_registration: Callable[[str, float], None] | None = None
        self._write_lock = threading.Lock()

    # ------------------------------------------------------------------ schema resolution

    def named_types(self, references: Sequence[Reference]) -> dict[str, str]:
        """Full name → schema JSON of every referenced type, references of references included."""
        try:
            return self.store.named_types(tuple(references))
        except UnresolvedReferenceError as exc:
            ref = exc.reference
            raise InvalidAvroSchemaError(
                f"Invalid schema: reference {ref.name} to subject '{ref.subject}' version {ref.version} "
                "does not exist"
            ) from exc

    def _parse(self, request: SchemaRequest, *, strict: bool) -> tuple[CanonicalSchema, dict[str, str]]:
        """Parse the request's schema (strictly for a new one) and give its canonical form."""
        named = self.named_types(request.references)
        try:
            parse_schema(request.schema, named, strict=strict)
            return canonical_schema(request.schema, named), named
        except InvalidSchemaError as exc:
            raise InvalidAvroSchemaError(f"Invalid AVRO schema. Error: {exc}") from exc

    # ------------------------------------------------------------------ reads

    def lookup(self, subject: str, request: SchemaRequest, *, deleted: bool) -> SchemaValue:
        """The earliest version of `subject` holding this schema (40401 / 40403 otherwise).

        As in Confluent's registry the schema is parsed first (leniently, as stored schemas
        are: 42201 when it is not Avro), then compared by parsed equality; an empty schema
        matches nothing.
        """
        if not request.schema:
            self.store.versions_of(subject, deleted=deleted)
            raise UnknownSchemaError()
        canonical, _ = self._parse(request, strict=False)
        found = self.store.find_version(subject, self._key(canonical, request), deleted=deleted)
        if found is None:
            # as a registration would, try again with the latest version's metadata and ruleSet
            inherited = request.inheriting(self._latest_or_none(subject))
            if inherited != request:
                found = self.store.find_version(subject, self._key(canonical, inherited), deleted=deleted)
        if found is None:
            raise UnknownSchemaError()
        return found

    @staticmethod
    def _key(canonical: CanonicalSchema, request: SchemaRequest) -> ContentKey:
        return (canonical.identity, request.references, request.contract)

    def _latest_or_none(self, subject: str) -> SchemaValue | None:
        latest = self._latest(subject)
        return latest[0] if latest else None

    def incompatibilities(
        self, subject: str, request: SchemaRequest, against: Sequence[SchemaValue], level: CompatibilityLevel
    ) -> list[Incompatibility]:
        """Why `request` may not follow `against` (newest first) under `level`."""
        canonical, named = self._parse(request, strict=True)
        for value in against:
            named.update(self.named_types(value.references))
        existing = [(value.version, value.schema) for value in against]
        try:
            return check_compatibility(canonical.text, existing, level, named)
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
        """Register `request` under `subject`, or return the live version that already holds it.

        `on_registration(outcome, seconds)` hears of every call: `registered`, `existing` (the
        subject already held the schema) or `refused` (any error).
        """
        started = time.perf_counter()
        outcome = "refused"
        try:
            value, created = self._register(subject, request, force=force)
            outcome = "registered" if created else "existing"
            return value
        finally:
            if self.on_registration is not None:
                self.on_registration(outcome, time.perf_counter() - started)

    def _register(self, subject: str, request: SchemaRequest, *, force: bool) -> tuple[SchemaValue, bool]:
        validate_subject(subject)
        with self._write_lock:
            mode = self.store.mode(subject)
            if mode in ("READONLY", "READONLY_OVERRIDE"):
                raise OperationNotPermittedError(f"Subject {subject} in context . is in read-only mode")
            if request.id is not None and mode != "IMPORT":
                raise OperationNotPermittedError(f"Subject {subject} in context . is not in import mode")
            if request.id is None and mode == "IMPORT":
                raise OperationNotPermittedError(f"Subject {subject} in context . is not in read-write mode")
            canonical, _ = self._parse(request, strict=True)
            live = self._live_newest_first(subject)
            if mode != "IMPORT":
                request = request.inheriting(live[0] if live else None)
            if live:
                same = self.store.find_version(subject, self._key(canonical, request))
                if same is not None:
                    if request.id is not None and request.id != same.id:
                        raise ImportIdMismatchError()
                    return same, False
            if mode == "IMPORT":
                return self._import(subject, request, canonical), True
            level = self.store.compatibility(subject)
            if not force and level is not CompatibilityLevel.NONE and live:
                against = live if level.transitive else live[:1]
                problems = self.incompatibilities(subject, request, against, level)
                if problems:
                    raise CompatibilityViolationError(subject, [p.message for p in problems], level.value)
            schema_id = self.store.id_for(self._key(canonical, request)) or self.store.max_id + 1
            value = SchemaValue(
                subject,
                self.store.next_version(subject),
                schema_id,
                canonical.text,
                request.references,
                metadata=request.metadata,
                rule_set=request.rule_set,
            )
            self._append(RecordKey(KeyType.SCHEMA, subject, value.version), value.to_bytes())
            log.info(
                "schema registered",
                extra={"subject": subject, "version": value.version, "schema_id": value.id},
            )
            return value, True

    def _import(self, subject: str, request: SchemaRequest, canonical: CanonicalSchema) -> SchemaValue:
        assert request.id is not None
        key = self._key(canonical, request)
        existing_id = self.store.id_for(key)
        if existing_id is not None and existing_id != request.id:
            raise ImportIdMismatchError()
        try:
            if self.store.schema_by_id(request.id).key != key:
                raise ImportIdMismatchError()
        except UnknownSchemaError:
            pass
        version = request.version or self.store.next_version(subject)
        value = SchemaValue(
            subject,
            version,
            request.id,
            canonical.text,
            request.references,
            metadata=request.metadata,
            rule_set=request.rule_set,
        )
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
                # Confluent answers 40401 whether or not the subject has versions
                raise UnknownSubjectError(subject)
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

"""The registry's state, rebuilt from `_schemas` records and queried by the REST API.

`SchemaStore.apply` folds one topic record into memory; the queries raise the registry's
errors. Only the Kafka reader thread applies records; request handlers read under the same
lock. Response bodies of `/schemas/ids/{id}` are rendered once when a schema is first seen.

Schemas are identified by `canonical.canonical_schema(...).identity` plus their references
and their data contract (`metadata`, `ruleSet`), never by their text: a record another
registry wrote with other spacing or key order is the same schema. A topic that already holds
one schema several times (written before identity was by parsed equality, or by another tool)
is read as it is; the earliest version and the first id seen answer for it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson

from accord.registry.canonical import canonical_schema, contract_identity
from accord.registry.errors import (
    UnknownSchemaError,
    UnknownSubjectError,
    UnknownVersionError,
)
from accord.registry.records import (
    CorruptRecordError,
    KeyType,
    RecordKey,
    SchemaValue,
    parse_value,
)
from accord.registry_client.compatibility import CompatibilityLevel, InvalidSchemaError
from accord.registry_client.models import Reference

log = logging.getLogger(__name__)


class UnresolvedReferenceError(LookupError):
    """A reference names a subject version the store does not hold."""

    def __init__(self, reference: Reference) -> None:
        super().__init__(f"reference {reference.name} to {reference.subject} version {reference.version}")
        self.reference = reference


DEFAULT_COMPATIBILITY = CompatibilityLevel.BACKWARD
DEFAULT_MODE = "READWRITE"


ContentKey = tuple[str, tuple[Reference, ...], str]
"""What makes two versions hold the same schema: identity, references, contract identity."""


@dataclass(frozen=True)
class StoredSchema:
    """A schema by id: its text, references and the precomputed `/schemas/ids/{id}` body."""

    id: int
    schema: str
    references: tuple[Reference, ...]
    body: bytes
    key: ContentKey


def schema_body(value: SchemaValue) -> bytes:
    """The `/schemas/ids/{id}` answer (schemaType omitted for Avro, as Confluent and Karapace do)."""
    data: dict[str, Any] = {"schema": value.schema}
    if value.references:
        data["references"] = [ref.to_json() for ref in value.references]
    if value.metadata is not None:
        data["metadata"] = value.metadata
    if value.rule_set is not None:
        data["ruleSet"] = value.rule_set
    return orjson.dumps(data)


class SchemaStore:
    """Subjects, versions, schemas by id, compatibility configs and modes."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.subjects: dict[str, dict[int, SchemaValue]] = {}
        self.schemas: dict[int, StoredSchema] = {}
        self.id_bodies: dict[int, bytes] = {}
        self.ids_by_content: dict[ContentKey, int] = {}
        self._identities: dict[tuple[str, tuple[Reference, ...]], str] = {}
        self.users_of_id: dict[int, set[tuple[str, int]]] = {}
        self.configs: dict[str | None, str] = {}
        self.modes: dict[str | None, str] = {}
        self.max_id = 0
        self.records_applied = 0
        self.records_skipped = 0

    # ---------------------------------------------------------------- applying records

    def apply(self, key_bytes: bytes | None, value_bytes: bytes | None) -> None:
        """Fold one `_schemas` record into the state; a corrupt record is logged and skipped.

        Any error while understanding one record skips that record, whatever its kind: the
        parsers raise `CorruptRecordError` for what they recognise, but a record is written by
        whoever can write to the topic, and the decoders beneath can fail in ways of their own
        (`OverflowError` for an `Infinity` id, `RecursionError` for deep nesting, ...). One
        record must never stop the reader: every later record would be lost to the registry.
        Records are parsed before the state is touched, so a skipped record changes nothing.
        """
        try:
            if not key_bytes:
                raise CorruptRecordError("record without a key")
            key = RecordKey.from_bytes(key_bytes)
            with self.lock:
                self._apply(key, value_bytes)
                self.records_applied += 1
        except Exception as exc:
            self.records_skipped += 1
            log.warning(
                "skipping corrupt _schemas record",
                extra={
                    "reason": str(exc)[:500],
                    "error": type(exc).__name__,
                    "key": (key_bytes or b"")[:200].decode("utf-8", "replace"),
                },
            )

    def _apply(self, key: RecordKey, value: bytes | None) -> None:
        if key.keytype is KeyType.SCHEMA:
            if value is None:
                self._forget_version(str(key.subject), int(key.version or 0))
            else:
                self._put_version(SchemaValue.from_bytes(value, key))
        elif key.keytype in (KeyType.CONFIG, KeyType.MODE):
            table = self.configs if key.keytype is KeyType.CONFIG else self.modes
            if value is None:
                table.pop(key.subject, None)
                return
            data = parse_value(value)
            setting = data.get("compatibilityLevel" if key.keytype is KeyType.CONFIG else "mode")
            if not isinstance(setting, str):
                raise CorruptRecordError(f"{key.keytype} value without a setting: {value[:200]!r}")
            table[key.subject] = setting.upper()
        elif key.keytype is KeyType.DELETE_SUBJECT and value is not None:
            data = parse_value(value)
            upto = data.get("version")
            if not isinstance(upto, int):
                raise CorruptRecordError(f"DELETE_SUBJECT value without a version: {value[:200]!r}")
            for version, entry in list(self.subjects.get(str(key.subject), {}).items()):
                if version <= upto:
                    self.subjects[str(key.subject)][version] = replace(entry, deleted=True)
        elif key.keytype is KeyType.CLEAR_SUBJECT and value is not None:
            for version in list(self.subjects.get(str(key.subject), {})):
                self._forget_version(str(key.subject), version)
        # NOOP, CONTEXT, ASSOC and non-SCHEMA tombstones of other kinds carry nothing for us

    def _put_version(self, value: SchemaValue) -> None:
        known = self.schemas.get(value.id)
        key = self.key_of(value)
        if known is not None and known.key != key:
            raise CorruptRecordError(
                f"Found a schema with duplicate ID {value.id} for {value.subject} version {value.version}"
            )
        previous = self.subjects.get(value.subject, {}).get(value.version)
        if previous is not None and previous.id != value.id:
            self._release_id(previous.id, value.subject, value.version)
        if known is None:
            known = StoredSchema(value.id, value.schema, value.references, schema_body(value), key)
            self.schemas[value.id] = known
            # a schema stored under several ids keeps the first one for new registrations
            self.ids_by_content.setdefault(key, value.id)
        self.max_id = max(self.max_id, value.id)
        self.subjects.setdefault(value.subject, {})[value.version] = value
        self.users_of_id.setdefault(value.id, set()).add((value.subject, value.version))
        self.id_bodies[value.id] = known.body

    def _forget_version(self, subject: str, version: int) -> None:
        versions = self.subjects.get(subject, {})
        value = versions.pop(version, None)
        if not versions:
            self.subjects.pop(subject, None)
        if value is not None:
            self._release_id(value.id, subject, version)

    def _release_id(self, schema_id: int, subject: str, version: int) -> None:
        users = self.users_of_id.get(schema_id, set())
        users.discard((subject, version))
        if not users:
            # the id stays reserved (and is reused for the same schema), but is no longer served
            self.users_of_id.pop(schema_id, None)
            self.id_bodies.pop(schema_id, None)

    # ---------------------------------------------------------------- queries

    def subject_names(self, *, deleted: bool = False, deleted_only: bool = False) -> list[str]:
        """Subjects with a live version (or, with `deleted`, any version; `deleted_only`: none live)."""
        with self.lock:
            names = []
            for subject, versions in self.subjects.items():
                live = any(not v.deleted for v in versions.values())
                if (deleted_only and not live) or (not deleted_only and (live or deleted)):
                    names.append(subject)
            return sorted(names)

    def versions_of(self, subject: str, *, deleted: bool = False) -> list[SchemaValue]:
        """The subject's versions in ascending order; raises `UnknownSubjectError` when none qualifies."""
        with self.lock:
            found = [
                value
                for _, value in sorted(self.subjects.get(subject, {}).items())
                if deleted or not value.deleted
            ]
        if not found:
            raise UnknownSubjectError(subject)
        return found

    def has_subject(self, subject: str) -> bool:
        """True when the subject has any version, soft deleted or not."""
        with self.lock:
            return bool(self.subjects.get(subject))

    def version(self, subject: str, version: int | None, *, deleted: bool = False) -> SchemaValue:
        """One version (None: the latest); raises `UnknownSubjectError` / `UnknownVersionError`."""
        with self.lock:
            versions = self.subjects.get(subject, {})
            if not versions or (not deleted and all(v.deleted for v in versions.values())):
                raise UnknownSubjectError(subject)
            if version is None:
                live = [v for v in versions.values() if deleted or not v.deleted]
                return max(live, key=lambda v: v.version)
            value = versions.get(version)
        if value is None or (value.deleted and not deleted):
            raise UnknownVersionError(version)
        return value

    def next_version(self, subject: str) -> int:
        """Max version ever used by the subject (soft deleted included) + 1."""
        with self.lock:
            return max(self.subjects.get(subject, {}), default=0) + 1

    def schema_by_id(self, schema_id: int) -> StoredSchema:
        """The schema with this id, while a version (soft deleted or not) uses it."""
        with self.lock:
            stored = self.schemas.get(schema_id)
            if stored is None or schema_id not in self.users_of_id:
                raise UnknownSchemaError(schema_id)
            return stored

    def id_for(self, key: ContentKey) -> int | None:
        """The id the schema with this content key has ever had, if any."""
        with self.lock:
            return self.ids_by_content.get(key)

    def key_of(self, value: SchemaValue) -> ContentKey:
        """The content key of a stored version."""
        return (
            self.identity(value.schema, value.references),
            value.references,
            contract_identity(value.metadata, value.rule_set),
        )

    def named_types(self, references: tuple[Reference, ...]) -> dict[str, str]:
        """Full name → schema JSON of every referenced type, references of references included.

        Raises `UnresolvedReferenceError` for a reference to a version the store does not hold.
        """
        found: dict[str, str] = {}
        pending = list(references)
        seen: set[tuple[str, int]] = set()
        with self.lock:
            while pending:
                ref = pending.pop()
                if (ref.subject, ref.version) in seen:
                    continue
                seen.add((ref.subject, ref.version))
                value = self.subjects.get(ref.subject, {}).get(ref.version)
                if value is None:
                    raise UnresolvedReferenceError(ref)
                found[ref.name] = value.schema
                pending.extend(value.references)
        return found

    def identity(self, schema: str, references: tuple[Reference, ...]) -> str:
        """The identity of a stored schema, parsed leniently (see `canonical`).

        Text that is not an Avro schema (Karapace stores any JSON) only matches the same text.
        """
        key = (schema, references)
        with self.lock:
            cached = self._identities.get(key)
            if cached is not None:
                return cached
            try:
                identity = canonical_schema(schema, self.named_types(references)).identity
            except UnresolvedReferenceError:
                # not cached: the referenced version may still arrive
                return f"text:{schema}"
            except InvalidSchemaError:
                identity = f"text:{schema}"
            self._identities[key] = identity
            return identity

    def find_version(self, subject: str, key: ContentKey, *, deleted: bool = False) -> SchemaValue | None:
        """The earliest version of `subject` holding the schema; raises `UnknownSubjectError`
        when the subject has no version to look at."""
        for value in self.versions_of(subject, deleted=deleted):
            if value.references == key[1] and self.key_of(value) == key:
                return value
        return None

    def users(self, schema_id: int, *, deleted: bool = False) -> list[SchemaValue]:
        """The (subject, version) entries that use the id, sorted."""
        with self.lock:
            pairs = sorted(self.users_of_id.get(schema_id, set()))
            values = [self.subjects[s][v] for s, v in pairs]
        return [value for value in values if deleted or not value.deleted]

    def referenced_by(self, subject: str, version: int) -> list[int]:
        """Ids of live versions whose references point at `subject` `version`."""
        with self.lock:
            ids = {
                value.id
                for versions in self.subjects.values()
                for value in versions.values()
                if not value.deleted
                and any(ref.subject == subject and ref.version == version for ref in value.references)
            }
        return sorted(ids)

    def all_versions(self) -> Iterator[SchemaValue]:
        """Every version of every subject, subjects sorted, versions ascending."""
        with self.lock:
            items = [
                value
                for _, versions in sorted(self.subjects.items())
                for _, value in sorted(versions.items())
            ]
        yield from items

    def compatibility(self, subject: str | None) -> CompatibilityLevel:
        """The level that applies to the subject: its own, else the global one, else BACKWARD."""
        with self.lock:
            level = self.configs.get(subject) if subject is not None else None
            level = level or self.configs.get(None) or DEFAULT_COMPATIBILITY.value
        return CompatibilityLevel(level)

    def mode(self, subject: str | None) -> str:
        """The mode that applies to the subject: its own, else the global one, else READWRITE."""
        with self.lock:
            mode = self.modes.get(subject) if subject is not None else None
            return mode or self.modes.get(None) or DEFAULT_MODE

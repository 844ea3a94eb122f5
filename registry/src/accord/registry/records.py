"""Keys and values of the `_schemas` topic, byte for byte as Confluent's registry writes them.

Keys are compact JSON with a fixed property order (`keytype`, `subject`, `version`, `magic`)
and raw UTF-8 (no `\\u` escapes): compaction works on exact key bytes, so a key written for a
delete must equal the key written for the create. Reading is lenient: any property order, a
`null` subject on global keys, missing `schemaType` / `deleted`, extra properties.
Values of SCHEMA records are `{"subject","version","id","schemaType","references"?,"metadata"?,
"ruleSet"?,"schema","deleted"}`; an empty `references` list is omitted, as Jackson's NON_EMPTY
does, and so are absent `metadata` and `ruleSet`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from accord.registry.errors import MAX_VERSION
from accord.registry_client.models import Reference


class KeyType(StrEnum):
    """The record kinds of the `_schemas` topic."""

    SCHEMA = "SCHEMA"
    CONFIG = "CONFIG"
    MODE = "MODE"
    DELETE_SUBJECT = "DELETE_SUBJECT"
    CLEAR_SUBJECT = "CLEAR_SUBJECT"
    NOOP = "NOOP"
    CONTEXT = "CONTEXT"
    ASSOC = "ASSOC"


class CorruptRecordError(ValueError):
    """A `_schemas` record whose key or value cannot be understood."""


@dataclass(frozen=True)
class RecordKey:
    """The key of a `_schemas` record; `subject` None is the global CONFIG or MODE."""

    keytype: KeyType
    subject: str | None = None
    version: int | None = None

    def to_bytes(self) -> bytes:
        """The canonical key bytes."""
        data: dict[str, Any] = {"keytype": self.keytype.value}
        if self.subject is not None:
            data["subject"] = self.subject
        if self.keytype is KeyType.SCHEMA:
            data["version"] = self.version
        data["magic"] = 1 if self.keytype is KeyType.SCHEMA else 0
        return _dumps(data)

    @classmethod
    def from_bytes(cls, raw: bytes) -> RecordKey:
        """Parse a key written by this registry, Confluent's or Karapace."""
        data = _loads(raw, "key")
        try:
            keytype = KeyType(data["keytype"])
        except (KeyError, ValueError) as exc:
            raise CorruptRecordError(f"unknown keytype in key {raw!r}") from exc
        magic = data.get("magic", 0)
        if keytype is KeyType.SCHEMA and magic not in (0, 1):
            raise CorruptRecordError(f"Can't deserialize schema for the magic byte {magic}")
        subject = data.get("subject")
        version = data.get("version")
        if keytype is KeyType.SCHEMA and (not isinstance(subject, str) or not isinstance(version, int)):
            raise CorruptRecordError(f"SCHEMA key without subject or version: {raw!r}")
        return cls(keytype, subject if isinstance(subject, str) else None, version)


@dataclass(frozen=True)
class SchemaValue:
    """The value of a SCHEMA record: one version of a subject."""

    subject: str
    version: int
    id: int
    schema: str
    references: tuple[Reference, ...] = field(default=())
    deleted: bool = False
    schema_type: str = "AVRO"
    metadata: dict[str, Any] | None = field(default=None, hash=False)
    rule_set: dict[str, Any] | None = field(default=None, hash=False)

    def to_bytes(self) -> bytes:
        """The value bytes as Confluent writes them."""
        data: dict[str, Any] = {
            "subject": self.subject,
            "version": self.version,
            "id": self.id,
            "schemaType": self.schema_type,
        }
        if self.references:
            data["references"] = [ref.to_json() for ref in self.references]
        if self.metadata is not None:
            data["metadata"] = self.metadata
        if self.rule_set is not None:
            data["ruleSet"] = self.rule_set
        data["schema"] = self.schema
        data["deleted"] = self.deleted
        return _dumps(data)

    @classmethod
    def from_bytes(cls, raw: bytes, key: RecordKey) -> SchemaValue:
        """Parse a SCHEMA value; subject and version fall back to the key's."""
        data = _loads(raw, "value")
        try:
            references = tuple(
                Reference(str(ref["name"]), str(ref["subject"]), int(ref["version"]))
                for ref in data.get("references") or ()
            )
            value = cls(
                subject=str(data.get("subject") or key.subject),
                version=int(data.get("version") or key.version or 0),
                id=int(data["id"]),
                schema=str(data["schema"]),
                references=references,
                deleted=bool(data.get("deleted", False)),
                schema_type=str(data.get("schemaType") or "AVRO"),
                metadata=data["metadata"] if isinstance(data.get("metadata"), dict) else None,
                rule_set=data["ruleSet"] if isinstance(data.get("ruleSet"), dict) else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptRecordError(f"SCHEMA value without a valid {exc}: {raw[:200]!r}") from exc
        # ids, like versions, are Java ints in Confluent's registry; a larger id would become the
        # next one to assign and break every later registration's answer
        if not (1 <= value.id <= MAX_VERSION and 1 <= value.version <= MAX_VERSION):
            raise CorruptRecordError(f"SCHEMA value with an id or version out of range: {raw[:200]!r}")
        return value


def config_value(subject: str | None, level: str) -> bytes:
    """The value of a CONFIG record."""
    data: dict[str, Any] = {"compatibilityLevel": level}
    if subject is not None:
        data["subject"] = subject
    return _dumps(data)


def mode_value(subject: str | None, mode: str) -> bytes:
    """The value of a MODE record."""
    data: dict[str, Any] = {} if subject is None else {"subject": subject}
    data["mode"] = mode
    return _dumps(data)


def delete_subject_value(subject: str, version: int) -> bytes:
    """The value of a DELETE_SUBJECT record: versions up to `version` are soft deleted."""
    return _dumps({"subject": subject, "version": version})


def parse_value(raw: bytes) -> dict[str, Any]:
    """Decode a CONFIG, MODE, DELETE_SUBJECT or CLEAR_SUBJECT value."""
    return _loads(raw, "value")


def _dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def _loads(raw: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptRecordError(f"{what} is not JSON: {raw[:200]!r}") from exc
    if not isinstance(data, dict):
        raise CorruptRecordError(f"{what} is not a JSON object: {raw[:200]!r}")
    return data

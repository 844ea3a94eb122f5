"""Writer and reader schemas of the events in a micro-batch, fetched from the registry.

A schema id names one immutable writer schema, so it is fetched once per process. The reader
schema is the latest registered version of the event's subject, asked once per micro-batch, so a
new compatible version is picked up by the next batch without a restart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from accord.streaming.errors import SchemaLookupError
from accord.wire.naming import event_subject, event_type_of, full_name_of, record_of_subject

log = logging.getLogger(__name__)

ENVELOPE_FIELD = "envelope"
ENVELOPE_COLUMNS = ("event_id", "event_time", "user_id", "anonymous_id", "session_id", "context")
"""The envelope's fields Silver reads from every event: a schema without one of them is no event."""


class SchemaSource(Protocol):
    """What the jobs need from the registry (`accord.registry_client.RegistryClient` provides it)."""

    def resolved_schema(self, schema_id: int) -> dict[str, Any]:
        """The self-contained schema of `schema_id`, references inlined; raises when unknown."""
        ...

    def latest_id(self, subject: str) -> int | None:
        """The id of the latest registered version of `subject`, None when the subject is unknown."""
        ...

    def rule_set(self, schema_id: int) -> dict[str, Any] | None:
        """The data-contract rules (`ruleSet`) of `schema_id`, None when it has none."""
        ...

    def subjects(self) -> list[str]:
        """Every registered subject."""
        ...


class UnknownSchemaError(Exception):
    """The registry has no schema under an id found in the framing."""


@dataclass(frozen=True)
class ResolvedWriter:
    """How to decode the records written with one schema id."""

    schema_id: int
    subject: str
    event_type: str
    writer_json: str
    reader_json: str
    rescued_fields: tuple[str, ...]
    rule_set_json: str | None = None
    """The writer's `ruleSet` as JSON, checked by `accord.streaming.contract_rules`; None: no rules."""

    @property
    def needs_resolution(self) -> bool:
        """True when the writer differs from the reader, so `from_avro` needs the `avroSchema` option."""
        return self.writer_json != self.reader_json


@dataclass(frozen=True)
class BatchSchemas:
    """The decodable schema ids of one micro-batch, grouped by subject, and the unknown ones."""

    by_subject: dict[str, list[ResolvedWriter]]
    unknown: dict[int, str]


def _field_names(schema: dict[str, Any]) -> list[str]:
    return [str(field["name"]) for field in schema.get("fields", [])]


def _not_an_event(schema: Any) -> str | None:
    """Why records of `schema` cannot be decoded into Silver as events, None when they can."""
    # a primitive or union schema (`"int"`, `["null", "string"]`) parses to no dict
    if not isinstance(schema, dict) or schema.get("type") != "record":
        return f"is not an event record with an `{ENVELOPE_FIELD}` field"
    envelope = next((f["type"] for f in schema.get("fields", []) if f.get("name") == ENVELOPE_FIELD), None)
    if envelope is None:
        return f"is not an event record with an `{ENVELOPE_FIELD}` field"
    if not isinstance(envelope, dict) or envelope.get("type") != "record":
        return f"has an `{ENVELOPE_FIELD}` that is not a record"
    missing = [name for name in ENVELOPE_COLUMNS if name not in _field_names(envelope)]
    if missing:
        return f"has an `{ENVELOPE_FIELD}` without {', '.join(f'`{name}`' for name in missing)}"
    return None


class BatchSchemaResolver:
    """Caches writer schemas by id for the process lifetime; asks for reader schemas per batch."""

    def __init__(self, source: SchemaSource, topic: str) -> None:
        self._source = source
        self._topic = topic
        self._writers: dict[int, dict[str, Any]] = {}
        self._rule_sets: dict[int, str | None] = {}

    def _writer(self, schema_id: int) -> dict[str, Any]:
        if schema_id not in self._writers:
            self._writers[schema_id] = self._source.resolved_schema(schema_id)
        return self._writers[schema_id]

    def _rule_set(self, schema_id: int) -> str | None:
        # a schema id's rules are part of its identity, so they are fetched once too
        if schema_id not in self._rule_sets:
            rule_set = self._source.rule_set(schema_id)
            self._rule_sets[schema_id] = json.dumps(rule_set, sort_keys=True) if rule_set else None
        return self._rule_sets[schema_id]

    def for_batch(self, schema_ids: Iterable[int]) -> BatchSchemas:
        """Writer and latest reader schema of every id; ids the registry does not know are listed apart."""
        by_subject: dict[str, list[ResolvedWriter]] = {}
        unknown: dict[int, str] = {}
        readers: dict[str, dict[str, Any]] = {}
        for schema_id in sorted(set(schema_ids)):
            try:
                writer = self._writer(schema_id)
            except UnknownSchemaError as exc:
                unknown[schema_id] = str(exc)
                continue
            not_an_event = _not_an_event(writer)
            if not_an_event:
                unknown[schema_id] = f"schema {schema_id} {not_an_event}"
                continue
            subject = event_subject(full_name_of(writer), self._topic)
            if subject not in readers:
                # a writer registered under another naming strategy is read with its own schema
                latest = self._source.latest_id(subject)
                readers[subject] = writer if latest is None else self._writer(latest)
            reader = readers[subject]
            # the records are decoded with the reader: one without the envelope would fail the batch
            not_an_event = _not_an_event(reader)
            if not_an_event:
                unknown[schema_id] = (
                    f"schema {schema_id} is read as the latest {subject}, which {not_an_event}"
                )
                continue
            reader_names = set(_field_names(reader))
            by_subject.setdefault(subject, []).append(
                ResolvedWriter(
                    schema_id=schema_id,
                    subject=subject,
                    event_type=event_type_of(str(reader["name"])),
                    writer_json=json.dumps(writer, sort_keys=True),
                    reader_json=json.dumps(reader, sort_keys=True),
                    rescued_fields=tuple(n for n in _field_names(writer) if n not in reader_names),
                    rule_set_json=self._rule_set(schema_id),
                )
            )
        return BatchSchemas(by_subject=by_subject, unknown=unknown)

    def registered_events(self) -> BatchSchemas:
        """The latest version of every event subject of the topic, as the writers of one batch.

        A subject counts when its latest schema is the record it names on this topic. Subjects
        of other topics (`events-eu-…` belongs to the topic `events-eu`), other naming
        strategies and records that are not events (the envelope, references) are left out:
        they are no column of this topic's Silver.
        """
        ids = []
        for subject in self._source.subjects():
            if record_of_subject(subject, self._topic) is None:
                continue
            schema_id = self._source.latest_id(subject)
            if schema_id is None:
                continue
            try:
                writer = self._writer(schema_id)
            except UnknownSchemaError:  # deleted between the two asks
                continue
            if isinstance(writer, dict) and event_subject(full_name_of(writer), self._topic) == subject:
                ids.append(schema_id)
        found = self.for_batch(ids)
        return BatchSchemas(by_subject=found.by_subject, unknown={})


class RegistrySchemas:
    """`SchemaSource` over the registry's HTTP API, through the registry's own client.

    An unknown id is the record's fault (it goes to Quarantine); an unreachable registry is not,
    so it raises `SchemaLookupError` and fails the batch, which the stream then retries.
    """

    def __init__(self, url: str, latest_ttl_s: float = 1.0) -> None:
        from accord.registry_client import RegistryClient

        self._client = RegistryClient(url, latest_ttl_s=latest_ttl_s)

    def resolved_schema(self, schema_id: int) -> dict[str, Any]:
        """The self-contained schema of `schema_id`."""
        from accord.registry_client import RegistryClientError, SchemaNotFoundError

        try:
            return self._client.resolved_schema(schema_id)
        except SchemaNotFoundError as exc:
            raise UnknownSchemaError(f"schema id {schema_id} is not registered") from exc
        except RegistryClientError as exc:
            raise SchemaLookupError(f"cannot read schema id {schema_id}: {exc}") from exc

    def rule_set(self, schema_id: int) -> dict[str, Any] | None:
        """The `ruleSet` of `schema_id` (the client has the schema cached since `resolved_schema`)."""
        from accord.registry_client import RegistryClientError

        try:
            return self._client.schema_by_id(schema_id).rule_set
        except RegistryClientError as exc:
            raise SchemaLookupError(f"cannot read the rules of schema id {schema_id}: {exc}") from exc

    def subjects(self) -> list[str]:
        """Every subject with a live version."""
        from accord.registry_client import RegistryClientError

        try:
            return self._client.subjects()
        except RegistryClientError as exc:
            raise SchemaLookupError(f"cannot list the registered subjects: {exc}") from exc

    def latest_id(self, subject: str) -> int | None:
        """The id of the latest version of `subject`, None when no such subject is registered."""
        from accord.registry_client import RegistryClientError, SubjectNotFoundError

        try:
            return int(self._client.latest(subject).id)
        except SubjectNotFoundError:
            return None
        except RegistryClientError as exc:
            raise SchemaLookupError(f"cannot read the latest version of {subject}: {exc}") from exc

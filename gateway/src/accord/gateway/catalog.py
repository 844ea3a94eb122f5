"""Registered schemas as the gateway needs them, cached off the per-event path.

Writer schemas are cached by id for the life of the process (ids are immutable); the latest
version of a subject is refreshed after `latest_ttl_s`. Registry calls happen only on a cache
miss, in a worker thread (the registry client is synchronous), and concurrent misses for the
same key share one call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import fastavro
import httpx
from fastavro.schema import to_parsing_canonical_form

from accord.gateway.auth import WriteKey
from accord.gateway.errors import UnavailableError
from accord.gateway.json_decimals import has_decimals
from accord.gateway.rejections import EventInvalidError
from accord.registry_client import (
    RegisteredVersion,
    RegistryClient,
    RegistryClientError,
    RegistryUnavailableError,
    SchemaNotFoundError,
    SubjectNotFoundError,
)
from accord.registry_client.contract_rules import ContractChecker, InvalidRuleError, Side, condition_rules
from accord.wire.error_codes import ErrorCode, FailureType
from accord.wire.naming import subject_prefix

log = logging.getLogger(__name__)

T = TypeVar("T")

_MAX_REFUSED = 10_000


@dataclass
class WriterSchema:
    """A registered schema, parsed once for fastavro, with the subjects it is registered under."""

    schema_id: int
    schema: dict[str, Any]
    parsed: Any
    checker: Any
    subjects: tuple[str, ...]
    subjects_loaded_at: float
    rules: ContractChecker | None = None
    """The schema's data-contract conditions checked on write; None when it has none."""
    _canonical: str | None = field(default=None, repr=False)
    _subject_for_key: dict[str, str | None] = field(default_factory=dict, repr=False)

    @cached_property
    def has_decimals(self) -> bool:
        """True when JSON payloads need their decimal strings converted before validation."""
        return has_decimals(self.parsed, self.parsed["__named_schemas"])

    @property
    def canonical_form(self) -> str:
        """The schema's Avro parsing canonical form."""
        if self._canonical is None:
            self._canonical = to_parsing_canonical_form(self.schema)
        return self._canonical

    def set_subjects(self, subjects: tuple[str, ...]) -> None:
        """Replace the subjects this schema is registered under (reloaded from the registry)."""
        self.subjects = subjects
        self.subjects_loaded_at = time.monotonic()
        self._subject_for_key.clear()

    def subject_for(self, key: WriteKey) -> str | None:
        """The first subject of this schema that `key` may send, or None."""
        if key.key_id not in self._subject_for_key:
            self._subject_for_key[key.key_id] = next((s for s in self.subjects if key.allows(s)), None)
        return self._subject_for_key[key.key_id]

    def claimed_subject(self, topic: str) -> str | None:
        """The subject an event of this schema claims on `topic` (for dead-letter records)."""
        prefix = subject_prefix(topic)
        return next(
            (s for s in self.subjects if s.startswith(prefix)), self.subjects[0] if self.subjects else None
        )


def without_logical_types(schema: Any) -> Any:
    """`schema` with its logical type annotations dropped.

    Checking that an Avro body decodes needs only the underlying types; building `UUID` and
    `datetime` objects for every event would nearly double the cost of the check.
    """
    if isinstance(schema, dict):
        return {key: without_logical_types(value) for key, value in schema.items() if key != "logicalType"}
    if isinstance(schema, list):
        return [without_logical_types(item) for item in schema]
    return schema


class SchemaCatalog:
    """Writer schemas by id and subject versions, from the registry, cached."""

    def __init__(
        self,
        registry_url: str,
        *,
        latest_ttl_s: float = 30.0,
    ) -> None:
        self._client = RegistryClient(registry_url, latest_ttl_s=latest_ttl_s)
        # the client has no call for the subjects of an id: asked over HTTP, cached with the writer
        self._http = httpx.AsyncClient(base_url=registry_url.rstrip("/"), timeout=5.0)
        self._latest_ttl_s = latest_ttl_s
        self._by_id: dict[int, WriterSchema] = {}
        self._latest: dict[str, tuple[float, int, int]] = {}
        self._versions: dict[tuple[str, int], int] = {}
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}
        # answers "not registered" are kept for a TTL too, so a batch full of one unknown id
        # or subject costs one registry call, not one per event
        self._refused: dict[Hashable, tuple[float, FailureType, ErrorCode, str, str | None]] = {}

    async def close(self) -> None:
        """Release the HTTP connections."""
        await self._http.aclose()

    def cached(self, schema_id: int) -> WriterSchema | None:
        """The writer schema of `schema_id` when already loaded (no I/O)."""
        return self._by_id.get(schema_id)

    async def writer(self, schema_id: int) -> WriterSchema:
        """The writer schema of `schema_id`; `EventInvalidError(unknown_schema_id)` when not registered."""
        writer = self._by_id.get(schema_id)
        if writer is None:
            writer = await self._once(("id", schema_id), lambda: self._load_writer(schema_id))
        return writer

    async def refresh_subjects(self, writer: WriterSchema) -> None:
        """Reload which subjects `writer` is registered under, at most once per TTL."""
        if time.monotonic() - writer.subjects_loaded_at < self._latest_ttl_s:
            return
        subjects = await self._once(
            ("subjects", writer.schema_id), lambda: self._subjects_of(writer.schema_id)
        )
        writer.set_subjects(subjects)

    async def for_subject(self, subject: str, version: int | None) -> tuple[WriterSchema, int]:
        """The writer schema and version of `subject` at `version` (latest when None)."""
        if version is None:
            cached = self._latest.get(subject)
            if cached is not None and time.monotonic() < cached[0]:
                return await self.writer(cached[1]), cached[2]
            try:
                registered = await self._once(("latest", subject), lambda: self._registered(subject, None))
            except UnavailableError:
                if cached is None:
                    raise
                # a stale latest version serves better than refusing every event while the registry is away
                return await self.writer(cached[1]), cached[2]
            self._latest[subject] = (time.monotonic() + self._latest_ttl_s, registered.id, registered.version)
            return await self.writer(registered.id), registered.version
        schema_id = self._versions.get((subject, version))
        if schema_id is None:
            registered = await self._once(
                ("version", subject, version), lambda: self._registered(subject, version)
            )
            schema_id = self._versions[(subject, version)] = registered.id
        return await self.writer(schema_id), version

    async def versions(self, subject: str) -> list[int]:
        """The versions registered under `subject`."""
        return await self._call(self._client.versions, subject)

    async def ping(self) -> bool:
        """True when the registry answers."""
        try:
            response = await self._http.get("/subjects", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def _registered(self, subject: str, version: int | None) -> RegisteredVersion:
        try:
            if version is None:
                return await self._call(self._client.latest, subject)
            return await self._call(self._client.version, subject, version)
        except (SubjectNotFoundError, SchemaNotFoundError) as exc:
            # the registry answers 40402 when the subject exists but the version does not
            if version is not None and (isinstance(exc, SchemaNotFoundError) or exc.error_code == 40402):
                raise EventInvalidError(
                    FailureType.UNKNOWN_SCHEMA,
                    ErrorCode.UNKNOWN_VERSION,
                    f"subject {subject!r} has no version {version}",
                    "version",
                ) from exc
            raise _unknown_subject(subject) from exc
        except RegistryClientError as exc:
            # the registry refused the lookup itself (a subject name it cannot hold, …)
            raise _unknown_subject(subject, f": {exc.message}") from exc

    async def _load_writer(self, schema_id: int) -> WriterSchema:
        try:
            schema = await self._call(self._client.resolved_schema, schema_id)
            # cached by the client since `resolved_schema` read it: the rules come with the id
            registered = await self._call(self._client.schema_by_id, schema_id)
        except RegistryClientError as exc:  # not found, or an id the registry cannot hold
            raise _unknown_id(schema_id) from exc
        subjects = await self._subjects_of(schema_id)
        writer = WriterSchema(
            schema_id=schema_id,
            schema=schema,
            parsed=fastavro.parse_schema(schema),
            checker=fastavro.parse_schema(without_logical_types(schema)),
            subjects=subjects,
            subjects_loaded_at=time.monotonic(),
            rules=_write_rules(schema_id, registered.schema, registered.rule_set),
        )
        self._by_id[schema_id] = writer
        log.info("writer schema loaded", extra={"schema_id": schema_id, "subjects": list(subjects)})
        return writer

    async def _subjects_of(self, schema_id: int) -> tuple[str, ...]:
        try:
            return tuple(await self._call(self._client.subjects_for_id, schema_id))
        except RegistryClientError as exc:  # the id is not (or no longer) registered
            raise _unknown_id(schema_id) from exc

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(function, *args)
        except RegistryUnavailableError as exc:
            raise UnavailableError(
                ErrorCode.REGISTRY_UNAVAILABLE, f"the schema registry cannot be reached: {exc}"
            ) from exc

    async def _once(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """Run `load` once for concurrent callers asking for the same `key`."""
        refused = self._refused.get(key)
        if refused is not None:
            if time.monotonic() < refused[0]:
                raise EventInvalidError(*refused[1:])
            del self._refused[key]
        pending = self._inflight.get(key)
        if pending is not None:
            result: T = await asyncio.shield(pending)
            return result
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await load()
        except BaseException as exc:
            if isinstance(exc, EventInvalidError):
                if len(self._refused) >= _MAX_REFUSED:
                    self._refused.clear()
                expires = time.monotonic() + self._latest_ttl_s
                self._refused[key] = (expires, exc.failure_type, exc.code, exc.message, exc.field)
            future.set_exception(exc)
            future.exception()  # mark retrieved: callers that wait re-raise it themselves
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]


def _write_rules(schema_id: int, schema: str, rule_set: dict[str, Any] | None) -> ContractChecker | None:
    """The conditions of `rule_set` the gateway checks (modes WRITE and WRITEREAD), None when none.

    A rule set the gateway cannot read is logged and not enforced: `accord schemas lint` keeps
    such rules out of the contracts, and refusing every event of the schema would be an outage.
    """
    try:
        checker = ContractChecker(schema, condition_rules(rule_set), Side.WRITE)
    except InvalidRuleError as exc:
        log.error("data-contract rules not enforced", extra={"schema_id": schema_id, "error": str(exc)})
        return None
    return checker or None


def _unknown_subject(subject: str, detail: str = "") -> EventInvalidError:
    return EventInvalidError(
        FailureType.UNKNOWN_SCHEMA,
        ErrorCode.UNKNOWN_SUBJECT,
        f"subject {subject!r} is not registered{detail}",
        "schema",
    )


def _unknown_id(schema_id: int) -> EventInvalidError:
    return EventInvalidError(
        FailureType.UNKNOWN_SCHEMA, ErrorCode.UNKNOWN_SCHEMA_ID, f"schema id {schema_id} is not registered"
    )


async def resolve(catalog: SchemaCatalog, subject: str, canonical_form: str) -> tuple[int, int] | None:
    """The (id, version) of the version of `subject` whose canonical form is `canonical_form`.

    Newest versions are compared first, as the SDK most often holds the latest schema.
    """
    try:
        versions = await catalog.versions(subject)
    except RegistryClientError:  # no such subject, or a name the registry refuses
        return None
    for version in sorted(versions, reverse=True):
        writer, _ = await catalog.for_subject(subject, version)
        if writer.canonical_form == canonical_form:
            return writer.schema_id, version
    return None

"""Schemas the stream has fetched, kept on disk, so known ids decode while the registry is down.

A schema id names one immutable schema, so once fetched it is stored under the state folder
(`<state_dir>/schemas/ids/<id>.json`, its data-contract rules in `rules/<id>.json`) and never
asked again, by this process or the next one.
A subject's latest version (the reader schema) is asked on every batch; when the registry cannot
be reached, the last one seen is used instead (a new version cannot be registered while the
registry is down). Only a batch holding an id never fetched still waits for the registry
(`registry_wait_s`, see `accord.streaming.silver`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from accord.streaming.batch_schemas import BatchSchemaResolver, RegistrySchemas, SchemaSource
from accord.streaming.errors import SchemaLookupError
from accord.streaming.settings import StreamingSettings

log = logging.getLogger(__name__)

CACHE_FOLDER = "schemas"
# after a failed lookup, known subjects are read from the cache this long without asking: each
# ask of a down registry costs the client's retries, which would slow every batch of the outage
OUTAGE_RECHECK_S = 10.0


def _write_atomically(path: Path, value: Any) -> None:
    """Write `value` as JSON so that a reader (or a kill mid-write) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        json.dump(value, out, sort_keys=True)
    os.replace(temporary, path)


def _read(path: Path) -> Any | None:
    """The JSON in `path`, or None when there is none or it cannot be read (it is fetched again)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("unreadable schema cache file ignored", extra={"path": str(path), "error": str(exc)})
        return None


class CachedSchemas:
    """A `SchemaSource` that keeps what another source answered in a folder, for when it cannot answer."""

    def __init__(self, source: SchemaSource, folder: Path) -> None:
        self._source = source
        self._ids = folder / "ids"
        self._rules = folder / "rules"
        self._latest_path = folder / "latest.json"
        self._latest: dict[str, int] = _read(self._latest_path) or {}
        self._unreachable_until = 0.0

    def resolved_schema(self, schema_id: int) -> dict[str, Any]:
        """The schema of `schema_id`, from the folder when it was ever fetched, else from the source."""
        path = self._ids / f"{schema_id}.json"
        cached = _read(path)
        if isinstance(cached, dict):
            return cached
        schema = self._source.resolved_schema(schema_id)
        _write_atomically(path, schema)
        return schema

    def rule_set(self, schema_id: int) -> dict[str, Any] | None:
        """The rules of `schema_id`, kept like its schema: a schema id's rules never change."""
        path = self._rules / f"{schema_id}.json"
        cached = _read(path)
        if isinstance(cached, dict):
            rules: dict[str, Any] | None = cached.get("ruleSet")
            return rules
        rules = self._source.rule_set(schema_id)
        _write_atomically(path, {"ruleSet": rules})
        return rules

    def subjects(self) -> list[str]:
        """The source's subjects; not kept: only a start on a lake without Silver asks."""
        return self._source.subjects()

    def latest_id(self, subject: str) -> int | None:
        """The latest version's id from the source, or the last one seen while the source is unreachable."""
        known = self._latest.get(subject)
        if known is not None and time.monotonic() < self._unreachable_until:
            return known
        try:
            latest = self._source.latest_id(subject)
        except SchemaLookupError as exc:
            self._unreachable_until = time.monotonic() + OUTAGE_RECHECK_S
            if known is None:
                raise
            facts = {"subject": subject, "schema_id": known, "error": str(exc)}
            log.warning("registry unreachable: reading with the last known latest version", extra=facts)
            return known
        if latest is not None and self._latest.get(subject) != latest:
            self._latest[subject] = latest
            _write_atomically(self._latest_path, self._latest)
        return latest


def stream_catalog(settings: StreamingSettings) -> BatchSchemaResolver:
    """The schemas of the stream's batches: the registry, through the on-disk cache of the state folder."""
    source = CachedSchemas(RegistrySchemas(settings.registry_url), Path(settings.state_dir) / CACHE_FOLDER)
    return BatchSchemaResolver(source, settings.events_topic)

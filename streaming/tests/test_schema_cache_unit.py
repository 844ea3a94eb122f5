"""Schemas fetched once are kept on disk: known ids decode while the registry is down, after a restart too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accord.streaming.batch_schemas import ENVELOPE_COLUMNS, BatchSchemaResolver
from accord.streaming.errors import SchemaLookupError
from accord.streaming.schema_cache import CachedSchemas

pytestmark = pytest.mark.unit

SUBJECT = "events-accord.events.PageView"
ENVELOPE = {
    "name": "envelope",
    "type": {
        "type": "record",
        "name": "Envelope",
        "fields": [{"name": name, "type": ["null", "string"]} for name in ENVELOPE_COLUMNS],
    },
}
V1 = {"type": "record", "name": "PageView", "namespace": "accord.events", "fields": [ENVELOPE]}


class Registry:
    """An in-memory registry that can be taken down."""

    def __init__(self) -> None:
        self.schemas: dict[int, dict[str, Any]] = {1: V1}
        self.latest = {SUBJECT: 1}
        self.down = False
        self.latest_asked = 0

    def resolved_schema(self, schema_id: int) -> dict[str, Any]:
        if self.down:
            raise SchemaLookupError(f"cannot read schema id {schema_id}: connection refused")
        return self.schemas[schema_id]

    def rule_set(self, schema_id: int) -> dict[str, Any] | None:
        if self.down:
            raise SchemaLookupError(f"cannot read the rules of schema id {schema_id}: connection refused")
        return None

    def latest_id(self, subject: str) -> int | None:
        self.latest_asked += 1
        if self.down:
            raise SchemaLookupError(f"cannot read the latest version of {subject}: connection refused")
        return self.latest.get(subject)

    def subjects(self) -> list[str]:
        if self.down:
            raise SchemaLookupError("cannot list the registered subjects: connection refused")
        return list(self.latest)


def test_known_ids_decode_from_the_disk_cache_after_a_restart_while_the_registry_is_down(
    tmp_path: Path,
) -> None:
    registry = Registry()
    BatchSchemaResolver(CachedSchemas(registry, tmp_path), "events").for_batch([1])
    registry.down = True

    restarted = BatchSchemaResolver(CachedSchemas(registry, tmp_path), "events")
    [writer] = restarted.for_batch([1]).by_subject[SUBJECT]

    assert writer.schema_id == 1
    assert not writer.needs_resolution


def test_an_id_never_fetched_still_needs_the_registry(tmp_path: Path) -> None:
    registry = Registry()
    registry.schemas[2] = {**V1, "fields": [ENVELOPE, {"name": "url", "type": "string"}]}
    BatchSchemaResolver(CachedSchemas(registry, tmp_path), "events").for_batch([1])
    registry.down = True

    with pytest.raises(SchemaLookupError):
        BatchSchemaResolver(CachedSchemas(registry, tmp_path), "events").for_batch([2])


def test_a_new_latest_version_is_picked_up_while_the_registry_answers(tmp_path: Path) -> None:
    registry = Registry()
    cache = CachedSchemas(registry, tmp_path)
    assert cache.latest_id(SUBJECT) == 1
    registry.schemas[2] = V1
    registry.latest[SUBJECT] = 2
    assert cache.latest_id(SUBJECT) == 2
    registry.down = True
    assert CachedSchemas(registry, tmp_path).latest_id(SUBJECT) == 2


def test_a_damaged_cache_file_is_fetched_again(tmp_path: Path) -> None:
    registry = Registry()
    CachedSchemas(registry, tmp_path).resolved_schema(1)
    (tmp_path / "ids" / "1.json").write_text("{not json")

    assert CachedSchemas(registry, tmp_path).resolved_schema(1) == V1


def test_a_down_registry_is_not_asked_again_for_known_subjects_at_once(tmp_path: Path) -> None:
    registry = Registry()
    cache = CachedSchemas(registry, tmp_path)
    cache.latest_id(SUBJECT)
    registry.down = True
    before = registry.latest_asked

    assert [cache.latest_id(SUBJECT) for _ in range(3)] == [1, 1, 1]
    assert registry.latest_asked == before + 1, "asked once, then read from the cache until the recheck"

"""`accord schemas lint` for the Segment mapping (`schemas/segment.json`) declared beside the contracts.

Every mapped event must be an event of the contracts, and every field the mapping writes (in
`fields`, `values`, `each` items, `envelope` and the platform) a field of that event, so that a
contract change that drops or renames a field fails lint instead of failing ingestion. The
gateway reads the same file (`ACCORD_GATEWAY_SEGMENT_MAPPING_FILE`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from accord.schemas.catalog import Catalog, display_path
from accord.schemas.findings import Finding

ENVELOPE = "accord.common.Envelope"
RULE = "segment-mapping"
_SET_BY_GATEWAY = {"event_id", "event_time"}


def lint_segment_mapping(path: Path, catalog: Catalog) -> list[Finding]:
    """Every mapped event or field of the mapping at `path` that the contracts of `catalog` lack."""
    shown = display_path(path)
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return [Finding(shown, "file", RULE, f"cannot read the Segment mapping: {exc}")]
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        return [Finding(shown, "file", RULE, "the mapping must be an object with an 'events' list")]
    return sorted(_findings(shown, document, catalog))


def _findings(shown: str, document: dict[str, Any], catalog: Catalog) -> Iterator[Finding]:
    envelope = catalog.get(ENVELOPE)
    if envelope is None:
        yield Finding(shown, "envelope", RULE, f"the contracts have no {ENVELOPE}")
        return
    envelope_schema = catalog.self_contained(envelope)
    for target in document.get("envelope", {}):
        if target in _SET_BY_GATEWAY:
            yield Finding(shown, f"envelope.{target}", RULE, f"envelope.{target} is set by the gateway")
        elif _field(envelope_schema, target) is None:
            yield Finding(shown, f"envelope.{target}", RULE, f"{ENVELOPE} has no field {target}")
    platform = document.get("platform", {})
    if platform:
        target = platform.get("field", "")
        kind = _field(envelope_schema, target)
        if kind is None or kind.get("type") != "enum":
            yield Finding(shown, "platform.field", RULE, f"{ENVELOPE} has no enum field {target!r}")
        else:
            for source, symbols in platform.get("from", {}).items():
                for symbol in set(symbols.values()) - set(kind["symbols"]):
                    message = f"{symbol!r} is not a symbol of {target}"
                    yield Finding(shown, f"platform.from.{source}", RULE, message)
    for index, entry in enumerate(document["events"]):
        place = f"events[{index}]"
        name = entry.get("schema") if isinstance(entry, dict) else None
        file = catalog.get(name) if isinstance(name, str) else None
        if file is None or not file.is_event or not isinstance(name, str):
            yield Finding(shown, place, RULE, f"{name!r} is not an event of the contracts")
            continue
        schema = catalog.self_contained(file)
        yield from _target_findings(shown, f"{place}.fields", schema, entry.get("fields", {}), name)
        yield from _target_findings(shown, f"{place}.values", schema, entry.get("values", {}), name)


def _target_findings(
    shown: str, place: str, record: dict[str, Any], targets: Mapping[str, Any], owner: str
) -> Iterator[Finding]:
    for target, source in targets.items():
        where = f"{place}.{target}"
        kind = _field(record, target)
        if kind is None:
            yield Finding(shown, where, RULE, f"{owner} has no field {target}")
        elif isinstance(source, dict):
            items = kind.get("items") if kind.get("type") == "array" else None
            if not isinstance(items, dict) or items.get("type") != "record":
                yield Finding(shown, where, RULE, f"{owner}.{target} is not an array of records")
            else:
                yield from _target_findings(shown, where, items, source.get("fields", {}), owner)


def _field(record: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The (non-null) type of the field at dotted `path` in `record`, None when there is none."""
    node: Any = record
    for part in path.split("."):
        node = _non_null(node)
        if not isinstance(node, dict) or node.get("type") != "record":
            return None
        node = next((f["type"] for f in node["fields"] if f["name"] == part), None)
        if node is None:
            return None
    node = _non_null(node)
    return node if isinstance(node, dict) else {"type": node}


def _non_null(node: Any) -> Any:
    if isinstance(node, list):
        branches = [branch for branch in node if branch != "null"]
        return branches[0] if len(branches) == 1 else node
    return node

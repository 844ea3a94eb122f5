"""Segment-spec messages turned into native JSON events by the mapping declared beside the contracts.

The mapping (`schemas/segment.json`, read from `ACCORD_GATEWAY_SEGMENT_MAPPING_FILE`) names, per
Segment call (`track` with its `event` name, `page`, `screen`, `identify`), the Accord event it
becomes and where each field comes from. The gateway sets three things itself:

- `envelope.event_id`: the UUIDv5 of the message's `messageId` in `SEGMENT_NAMESPACE`, so a
  resent message has the same id and is deduplicated (Segment's ids are not UUIDs);
- `envelope.event_time`: `timestamp` (else `originalTimestamp`, else the time of reception),
  RFC 3339 text as epoch milliseconds (text that is not is refused as `invalid_timestamp`);
- the request's `sent_at`: `sentAt` of the batch (or of the message), else the time of reception.

The result is an ordinary `{"schema", "payload"}` event, validated by the native JSON path.
Segment fields the mapping does not name (`context.ip`, traits, other properties) are not carried.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from accord.gateway.errors import GatewayError
from accord.gateway.json_times import rfc3339_epoch
from accord.gateway.rejections import EventInvalidError
from accord.wire.error_codes import ErrorCode, FailureType

SEGMENT_NAMESPACE = uuid.UUID("8f5c0a3e-2b1d-5e6f-9a7b-3c4d5e6f7a8b")
"""Namespace of the UUIDv5 event ids made from Segment `messageId`s (fixed: ids must not change)."""

CALLS = ("track", "page", "screen", "identify")
"""The Segment calls the gateway reads; `group` and `alias` have no Accord counterpart yet."""

Source = str | list[str] | dict[str, Any]


class SegmentMappingError(GatewayError):
    """The Segment mapping file is unreadable or not of the documented shape."""


@dataclass(frozen=True)
class EventMapping:
    """How one Segment call becomes one Accord event."""

    call: str
    event: str | None
    schema: str
    fields: Mapping[str, Source]
    values: Mapping[str, Any]


class SegmentMapping:
    """The mapping of Segment calls onto Accord events."""

    def __init__(
        self,
        envelope: Mapping[str, Source],
        platform_field: str | None,
        platforms: Mapping[str, Mapping[str, str]],
        events: list[EventMapping],
    ) -> None:
        self.envelope = envelope
        self.platform_field = platform_field
        self.platforms = platforms
        self._by_call = {(e.call, e.event): e for e in events}

    @classmethod
    def empty(cls) -> SegmentMapping:
        """A mapping that maps nothing: every message is unmapped."""
        return cls({}, None, {}, [])

    @classmethod
    def from_file(cls, path: Path) -> SegmentMapping:
        """Read and check a mapping file; `SegmentMappingError` names what is wrong."""
        try:
            document = orjson.loads(path.read_bytes())
        except OSError as exc:
            raise SegmentMappingError(f"cannot read Segment mapping {path}: {exc.strerror}") from exc
        except orjson.JSONDecodeError as exc:
            raise SegmentMappingError(f"Segment mapping {path} is not valid JSON: {exc}") from exc
        return cls.from_document(document, str(path))

    @classmethod
    def from_document(cls, document: object, where: str = "mapping") -> SegmentMapping:
        """The mapping of a parsed mapping document."""
        if not isinstance(document, dict) or not isinstance(document.get("events"), list):
            raise SegmentMappingError(f"{where}: must be an object with an 'events' list")
        envelope = document.get("envelope", {})
        platform = document.get("platform", {})
        if not isinstance(envelope, dict) or not isinstance(platform, dict):
            raise SegmentMappingError(f"{where}: 'envelope' and 'platform' must be objects")
        events = []
        for index, entry in enumerate(document["events"]):
            if not isinstance(entry, dict):
                raise SegmentMappingError(f"{where}: events[{index}] must be an object")
            call, event, schema = entry.get("type"), entry.get("event"), entry.get("schema")
            if call not in CALLS:
                raise SegmentMappingError(f"{where}: events[{index}].type must be one of {', '.join(CALLS)}")
            if (call == "track") != isinstance(event, str):
                raise SegmentMappingError(f"{where}: events[{index}]: 'event' names the track event, only")
            if not isinstance(schema, str) or not schema:
                raise SegmentMappingError(f"{where}: events[{index}].schema must name an Accord event")
            fields, values = entry.get("fields", {}), entry.get("values", {})
            if not isinstance(fields, dict) or not isinstance(values, dict):
                raise SegmentMappingError(f"{where}: events[{index}]: 'fields' and 'values' must be objects")
            events.append(EventMapping(call, event, schema, fields, values))
        return cls(envelope, platform.get("field"), platform.get("from", {}), events)

    def find(self, call: str, event: object) -> EventMapping | None:
        """The mapping of a Segment call (`event` is the track event's name)."""
        if call != "track":
            return self._by_call.get((call, None))
        return self._by_call.get((call, event)) if isinstance(event, str) else None

    def translate(self, message: dict[str, Any], call: str, received_at_ms: int) -> dict[str, Any]:
        """The native JSON event of a Segment message; `EventInvalidError` when it has none."""
        message_id = message.get("messageId")
        if not isinstance(message_id, str | int) or isinstance(message_id, bool) or message_id == "":
            raise EventInvalidError(
                FailureType.FORMAT_VIOLATION,
                ErrorCode.INVALID_SEGMENT_MESSAGE,
                "a Segment message needs a 'messageId' (string): it is the event's identity",
                "messageId",
            )
        event_id = str(uuid.uuid5(SEGMENT_NAMESPACE, str(message_id)))
        mapping = self.find(call, message.get("event"))
        if mapping is None:
            what = f"track({message.get('event')!r})" if call == "track" else call
            raise EventInvalidError(
                FailureType.UNKNOWN_SCHEMA,
                ErrorCode.UNMAPPED_SEGMENT_EVENT,
                f"no mapping names an Accord event for Segment {what}",
                "event" if call == "track" else "type",
                event_id=event_id,
            )
        event_time = message.get("timestamp") or message.get("originalTimestamp") or received_at_ms
        if isinstance(event_time, str):
            # read here to spare the JSON path a second validation; text that is not RFC 3339
            # is left for it to refuse, naming envelope.event_time
            event_time = rfc3339_epoch(event_time) or event_time
        payload: dict[str, Any] = {
            "envelope": {"event_id": event_id, "event_time": event_time, "context": {}}
        }
        for target, source in self.envelope.items():
            _assign(payload["envelope"], target, _pick(message, source))
        platform = self._platform(message)
        if platform is not None and self.platform_field:
            _assign(payload["envelope"], self.platform_field, platform)
        for target, source in mapping.fields.items():
            _assign(payload, target, _pick(message, source))
        for target, value in mapping.values.items():
            _assign(payload, target, value)
        return {"schema": mapping.schema, "payload": payload}

    def _platform(self, message: dict[str, Any]) -> str | None:
        for source, symbols in self.platforms.items():
            value = _lookup(message, source)
            if isinstance(value, str) and value in symbols:
                return symbols[value]
        return None


def _pick(message: Any, source: Source) -> Any:
    if isinstance(source, dict):
        items = _pick(message, source.get("each", []))
        if not isinstance(items, list):
            return None
        fields: Mapping[str, Source] = source.get("fields", {})
        picked = []
        for item in items:
            out: dict[str, Any] = {}
            for target, inner in fields.items():
                _assign(out, target, _pick(item, inner))
            picked.append(out)
        return picked
    for path in [source] if isinstance(source, str) else source:
        value = _lookup(message, path)
        if value is not None:
            return value
    return None


def _lookup(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _assign(target: dict[str, Any], path: str, value: Any) -> None:
    """Set `path` (dotted) in `target`, creating the records on the way; absent values set nothing."""
    if value is None:
        return
    *parents, name = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[name] = value


def merged_context(batch_context: object, message: dict[str, Any]) -> dict[str, Any]:
    """The message with a batch-level `context` under its own (the message's keys win)."""
    if not isinstance(batch_context, dict) or not batch_context:
        return message
    own = message.get("context")
    return {**message, "context": {**batch_context, **(own if isinstance(own, dict) else {})}}

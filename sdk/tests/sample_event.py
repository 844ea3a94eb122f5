"""A hand-written event class following the generated classes' protocol, with every Avro type
the SDK has to check (a fixed, a decimal, an int, an enum, arrays, maps, a nested record)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Self

from accord.sdk.record import utc_now, uuid7

ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Envelope",
    "namespace": "test.common",
    "fields": [
        {"name": "event_id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "event_time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "user_id", "type": ["null", "string"], "default": None},
        {
            "name": "context",
            "type": {
                "type": "record",
                "name": "Context",
                "fields": [
                    {"name": "library_name", "type": ["null", "string"], "default": None},
                    {"name": "library_version", "type": ["null", "string"], "default": None},
                ],
            },
        },
    ],
}


@dataclass
class SampleEnvelope:
    event_id: str | None = field(default_factory=lambda: str(uuid7()))
    event_time: datetime | None = field(default_factory=utc_now)
    user_id: str | None = None

    def to_avro(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "event_time": self.event_time,
            "user_id": self.user_id,
            "context": {"library_name": None, "library_version": None},
        }


@dataclass
class Sample:
    SUBJECT: ClassVar[str] = "events-test.events.Sample"
    AVRO_SCHEMA: ClassVar[dict[str, Any]] = {
        "type": "record",
        "name": "Sample",
        "namespace": "test.events",
        "fields": [
            {"name": "envelope", "type": ENVELOPE_SCHEMA},
            {"name": "name", "type": "string"},
            {"name": "count", "type": "int"},
            {"name": "ratio", "type": "double"},
            {"name": "flag", "type": "boolean"},
            {"name": "code", "type": {"type": "fixed", "name": "Code", "size": 3}},
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 2},
            },
            {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
            {
                "name": "lines",
                "type": {
                    "type": "array",
                    "items": {
                        "type": "record",
                        "name": "Line",
                        "fields": [{"name": "quantity", "type": "int"}],
                    },
                },
                "default": [],
            },
            {"name": "attrs", "type": {"type": "map", "values": "long"}, "default": {}},
            {"name": "note", "type": ["null", "string"], "default": None},
        ],
    }

    name: str = "sample"
    count: int = 1
    ratio: float = 0.5
    flag: bool = True
    code: bytes = b"EUR"
    amount: Decimal = Decimal("12.50")
    kind: str = "A"
    lines: list[int] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    envelope: SampleEnvelope = field(default_factory=SampleEnvelope)

    def to_avro(self) -> dict[str, Any]:
        return {
            "envelope": self.envelope.to_avro(),
            "name": self.name,
            "count": self.count,
            "ratio": self.ratio,
            "flag": self.flag,
            "code": self.code,
            "amount": self.amount,
            "kind": self.kind,
            "lines": [{"quantity": q} for q in self.lines],
            "attrs": self.attrs,
            "note": self.note,
        }

    @classmethod
    def from_avro(cls, data: dict[str, Any]) -> Self:
        envelope = data["envelope"]
        return cls(
            envelope=SampleEnvelope(str(envelope["event_id"]), envelope["event_time"], envelope["user_id"]),
            **{k: v for k, v in data.items() if k not in ("envelope", "lines")},
            lines=[line["quantity"] for line in data["lines"]],
        )

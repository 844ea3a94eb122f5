"""Accepted, duplicate and rejected events per hour of receipt, since the gateway started.

Kept as a Prometheus counter (labels `hour`, `outcome`) in a registry apart from `/metrics`,
so that with several gateway processes the counts of all of them add up the same way their
metrics do (`accord.gateway.multiprocess`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from accord.gateway import multiprocess

HOURLY_EVENTS = "accord_gateway_hourly_events"
OUTCOMES = ("accepted", "duplicates", "rejected")


class HourlyCounts:
    """The counts the ledger reads from `GET /v1/stats`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._events = Counter(
            HOURLY_EVENTS,
            "events per hour of receipt and outcome",
            ["hour", "outcome"],
            registry=self.registry,
        )

    def add(self, received_at_s: float, accepted: int, duplicates: int, rejected: int) -> None:
        """Count one request's outcome in the hour it was received."""
        hour = str(int(received_at_s // 3600) * 3600)
        for outcome, count in zip(OUTCOMES, (accepted, duplicates, rejected), strict=True):
            if count:
                self._events.labels(hour, outcome).inc(count)

    def snapshot(self) -> list[dict[str, Any]]:
        """One entry per hour, oldest first: `{"hour", "accepted", "duplicates", "rejected"}`."""
        hours: dict[int, dict[str, int]] = {}
        for family in multiprocess.collect(self.registry):
            if family.name != HOURLY_EVENTS:
                continue
            for sample in family.samples:
                if sample.name == f"{HOURLY_EVENTS}_total":
                    counts = hours.setdefault(int(sample.labels["hour"]), dict.fromkeys(OUTCOMES, 0))
                    counts[sample.labels["outcome"]] += int(sample.value)
        return [
            {"hour": datetime.fromtimestamp(hour, UTC).isoformat().replace("+00:00", "Z"), **counts}
            for hour, counts in sorted(hours.items())
        ]

"""Accepted, duplicate and rejected events per hour of receipt, since the process started."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class HourlyCounts:
    """The counts the ledger reads from `GET /v1/stats`."""

    def __init__(self) -> None:
        self._hours: dict[int, list[int]] = {}

    def add(self, received_at_s: float, accepted: int, duplicates: int, rejected: int) -> None:
        """Count one request's outcome in the hour it was received."""
        hour = int(received_at_s // 3600) * 3600
        counts = self._hours.get(hour)
        if counts is None:
            counts = self._hours[hour] = [0, 0, 0]
        counts[0] += accepted
        counts[1] += duplicates
        counts[2] += rejected

    def snapshot(self) -> list[dict[str, Any]]:
        """One entry per hour, oldest first: `{"hour", "accepted", "duplicates", "rejected"}`."""
        return [
            {
                "hour": datetime.fromtimestamp(hour, UTC).isoformat().replace("+00:00", "Z"),
                "accepted": counts[0],
                "duplicates": counts[1],
                "rejected": counts[2],
            }
            for hour, counts in sorted(self._hours.items())
        ]
